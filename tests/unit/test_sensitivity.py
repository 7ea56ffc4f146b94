"""Field sensitivity is declared on the field and read from the schema, failing closed."""

from __future__ import annotations

import strawberry
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
)

from domain.roles import Principal, Role
from resolvers.root import schema
from schema.access import access_problems, selected_fields
from schema.errors import Forbidden
from schema.sensitivity import (
    PUBLIC,
    Sensitivity,
    declared_sensitivity,
    guarded_type,
    guarded_type_names,
    personal_type_names,
    sensitivity_of,
)

GRAPHQL = schema._schema
PERSONAL_KINDS = {Sensitivity.PERSONAL, Sensitivity.IDENTIFIER}


def _named(type_: object) -> GraphQLNamedType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    assert isinstance(type_, GraphQLNamedType)
    return type_


def _object_types() -> list[GraphQLObjectType | GraphQLInterfaceType]:
    return [
        t
        for name, t in GRAPHQL.type_map.items()
        if not name.startswith("__") and isinstance(t, GraphQLObjectType | GraphQLInterfaceType)
    ]


def test_every_field_of_a_guarded_type_declares_its_sensitivity() -> None:
    guarded = guarded_type_names(GRAPHQL)
    assert {"Record", "Dispute", "CourtFiling", "Person", "Party", "TimelineEntry"} <= guarded
    unmarked = [
        f"{t.name}.{name}"
        for t in _object_types()
        if t.name in guarded
        for name, field in t.fields.items()
        if declared_sensitivity(GRAPHQL, t.name, field, name) is None
    ]
    assert unmarked == []


def test_every_field_of_a_personal_type_is_personal() -> None:
    for t in _object_types():
        if t.name in personal_type_names():
            for name, field in t.fields.items():
                assert sensitivity_of(field) in PERSONAL_KINDS, f"{t.name}.{name}"


def test_every_field_returning_a_person_or_party_is_marked_personal() -> None:
    personal = personal_type_names() | {f"{n}Connection" for n in personal_type_names()}
    for t in _object_types():
        for name, field in t.fields.items():
            if _named(field.type).name in personal:
                declared = declared_sensitivity(GRAPHQL, t.name, field, name)
                assert declared in PERSONAL_KINDS, f"{t.name}.{name} is unmarked"


def test_free_text_fields_are_marked_free_text() -> None:
    record = GRAPHQL.type_map["Record"]
    assert isinstance(record, GraphQLInterfaceType)
    assert sensitivity_of(record.fields["summary"]) is Sensitivity.FREE_TEXT
    assert sensitivity_of(record.fields["address"]) is Sensitivity.FREE_TEXT


@guarded_type
@strawberry.type(description="A type added without deciding what its fields reveal (探针).")
class SensitivityProbe:
    marked: str = strawberry.field(metadata=PUBLIC, description="Declared (已声明).")
    unmarked: str = strawberry.field(description="Not declared (未声明).")


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def probe(self) -> SensitivityProbe:
        return SensitivityProbe(marked="a", unmarked="b")


async def test_a_guarded_field_that_declares_nothing_is_refused_to_every_role() -> None:
    probe_schema = strawberry.Schema(query=ProbeQuery)._schema
    fields = selected_fields(probe_schema, "{ probe { marked unmarked } }")
    for role in Role:
        problems = access_problems(
            Principal("x", role, regions=("41",)), None, "dev", fields, probe_schema
        )
        assert any(isinstance(p, Forbidden) and "unmarked" in p.message for p in problems)
    allowed = selected_fields(probe_schema, "{ probe { marked } }")
    staff = Principal("x", Role.CENTER_STAFF, regions=("41",))
    assert access_problems(staff, None, "dev", allowed, probe_schema) == []
