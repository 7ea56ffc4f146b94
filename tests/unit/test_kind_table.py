"""The kind table is the one declaration per record kind: every derived registry has each kind."""

from __future__ import annotations

import re

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

from connectors.registry import CONNECTOR_MODULES
from db.models.records import kind_models
from db.queries import KIND_COLUMNS, KIND_TABLES
from domain.enums import RecordKind, Role, SourceSystem
from domain.kinds import KIND_OF_SOURCE, KIND_SPECS, KINDS
from domain.roles import POLICIES
from resolvers.root import schema
from schema.kinds import TYPE_OF_KIND

_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_kind_is_declared_once() -> None:
    assert [spec.kind for spec in KINDS] == list(RecordKind)
    sources = [source for spec in KINDS for source in spec.sources]
    assert len(set(sources)) == len(sources), "a source delivers one kind"
    assert len({spec.type_name for spec in KINDS}) == len(KINDS)
    assert len({spec.list_field for spec in KINDS}) == len(KINDS)


def test_every_kind_has_a_model_a_type_a_connection_a_label_and_readers() -> None:
    query = schema._schema.query_type
    assert query is not None
    for kind in RecordKind:
        spec = KIND_SPECS[kind]
        assert kind in kind_models(), f"{kind}: no ORM model with this polymorphic_identity"
        assert kind in KIND_TABLES and kind in KIND_COLUMNS
        assert TYPE_OF_KIND[kind].__name__ == spec.type_name, f"{kind}: no GraphQL type"
        graphql_type = schema._schema.type_map[spec.type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        assert "Record" in [i.name for i in graphql_type.interfaces]
        field = query.fields.get(spec.list_field)
        assert field is not None, f"{kind}: no Query.{spec.list_field}"
        connection = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        assert connection.name == f"{spec.type_name}Connection"
        assert _CHINESE.search(spec.label), f"{kind}: no Chinese label"
        assert spec.readers, f"{kind}: no role reads it"
        assert spec.label in (query.fields[spec.list_field].description or "")


def test_every_source_delivers_one_kind_and_has_a_connector() -> None:
    assert set(KIND_OF_SOURCE) == set(SourceSystem)
    assert set(CONNECTOR_MODULES) == set(SourceSystem)


def test_role_kinds_are_the_kind_tables_readers() -> None:
    for role in Role:
        assert POLICIES[role].kinds == {s.kind for s in KINDS if role in s.readers}


def test_the_record_kind_enum_names_each_label() -> None:
    description = schema._schema.type_map["RecordKind"].description or ""
    for spec in KINDS:
        assert f"{spec.kind.value} {spec.label}" in description


def _unwrap(type_: object) -> object:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def test_every_kind_can_open_a_matter_and_every_role_has_limits() -> None:
    # intake opens a matter with the record's kind as its origin (来源): a kind without one
    # would fail every intake chunk holding such a record
    from domain.roles import LIMITS
    from domain.workflow.vocabulary import MatterOrigin

    assert {kind.value for kind in RecordKind} <= {origin.value for origin in MatterOrigin}
    assert set(LIMITS) == set(Role), "a role without limits fails every operation it sends"
