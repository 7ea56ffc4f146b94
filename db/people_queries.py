"""Reads of parties and persons (当事人与自然人查询), each within a principal's scope.

Persons are visible to a principal only through a record it may read that names them. The
parties statements are built once (per scope) and take the record ids as an expanding
parameter, ``{"record_ids": [...]}``: a page's lookups then reuse one statement object and
its SQLAlchemy cache key instead of assembling both on every request.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    case,
    exists,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
)

from db.queries import (
    PARTIES,
    PERSONS,
    RECORDS,
    AnySelect,
    RecordScope,
    in_list,
    like_pattern,
    scope_conditions,
    within_prefixes,
)

RECORD_IDS = "record_ids"
"""The expanding parameter of :func:`parties_of_records` and :func:`parties_with_persons`."""


@functools.lru_cache(maxsize=1)
def parties_of_records() -> AnySelect:
    """The parties of records, in each source's order; run with ``{"record_ids": [...]}``."""
    p = PARTIES.c
    return (
        select(
            p.record_id,
            p.role,
            p.source_role,
            p.name,
            p.is_organisation,
            p.person_id,
            type_coerce(p.id_number, Text).label("sealed_id_number"),
            type_coerce(p.phone, Text).label("sealed_phone"),
        )
        .where(in_list(p.record_id, RECORD_IDS))
        .order_by(p.record_id, p.position)
    )


PERSON_LABEL = "person__"
_PERSON_NAMES = ("id", "name", "region_code", "sealed_id_number", "sealed_phone")


@functools.lru_cache(maxsize=256)
def parties_with_persons(scope: RecordScope) -> AnySelect:
    """:func:`parties_of_records` with each party's person beside it (columns labelled
    ``person__…``), null unless :func:`persons_by_id` would answer it: one statement, not two.
    Run with ``{"record_ids": [...]}``; one statement object per scope, reused."""
    return (
        parties_of_records()
        .add_columns(
            *(
                column.label(PERSON_LABEL + name)
                for column, name in zip(_person_columns(scope), _PERSON_NAMES, strict=True)
            )
        )
        .select_from(PARTIES.outerjoin(PERSONS, person_join(scope)))
    )


def person_join(
    scope: RecordScope, *, named_in_scope: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """How a party joins its person: the mention's person, when :func:`persons_by_id` would
    answer it within ``scope``. ``named_in_scope`` is true when the party's own record is
    known to lie within ``scope`` and not be withdrawn: that record names the person, so the
    search for one is skipped."""
    visible = _person_visible_first(scope)
    if named_in_scope is not None:
        visible = or_(named_in_scope, visible)
    return and_(PERSONS.c.id == PARTIES.c.person_id, visible)


def home_region(scope: RecordScope) -> ColumnElement[Any]:
    """A person's region code as ``scope`` may see it: null when it lies outside.

    A person's region is the most precise place among all their records', wherever those
    lie: shown to a reader of another jurisdiction it would say where else the person has a
    record (a 成都 reader learning of 陕州区), which the timeline keeps from them.
    """
    code = PERSONS.c.region_code
    if scope.reads_nothing or not scope.region_prefixes:
        return null()  # no placed record within reach (unplaced ones alone): no region either
    if "" in scope.region_prefixes:
        return code
    return case((or_(*within_prefixes(code, scope.region_prefixes)), code), else_=null())


def _person_columns(scope: RecordScope) -> list[ColumnElement[Any]]:
    p = PERSONS.c
    return [
        p.id,
        p.name,
        home_region(scope).label("region_code"),
        type_coerce(p.id_number, Text).label("sealed_id_number"),
        type_coerce(p.phone, Text).label("sealed_phone"),
    ]


def _person_visible(scope: RecordScope) -> ColumnElement[bool]:
    """A person is visible when a record within ``scope`` names them (a semi-join)."""
    return exists().where(
        PARTIES.c.person_id == PERSONS.c.id,
        RECORDS.c.id == PARTIES.c.record_id,
        RECORDS.c.deleted == false(),
        *scope_conditions(scope),
    )


@functools.lru_cache(maxsize=256)
def _person_visible_first(scope: RecordScope) -> ColumnElement[bool]:
    """:func:`_person_visible` as a per-row subplan that stops at the first naming record."""
    naming = PARTIES.alias("naming")  # not the outer party_mentions of parties_with_persons
    first: AnySelect = (
        select(literal_column("1"))
        .select_from(naming.join(RECORDS, RECORDS.c.id == naming.c.record_id))
        .where(
            naming.c.person_id == PERSONS.c.id,
            RECORDS.c.deleted == false(),
            *scope_conditions(scope),
        )
        .offset(literal_column("0"))
        .correlate(PERSONS)
    )
    return first.exists()


def persons_by_id(ids: Sequence[int], scope: RecordScope) -> AnySelect:
    """Persons by id, each only when a record within ``scope`` names them.

    The visibility check is planned per person, stopping at the first naming record
    (``OFFSET 0`` keeps PostgreSQL from turning it into a semi-join that hashes every
    mention of each person: a widely named person cost milliseconds per lookup).
    """
    return select(*_person_columns(scope)).where(
        PERSONS.c.id.in_(ids), _person_visible_first(scope)
    )


def _person_conditions(name_prefix: str | None, scope: RecordScope) -> list[ColumnElement[bool]]:
    conditions = [_person_visible(scope)]
    if name_prefix:
        pattern = like_pattern(name_prefix, prefix_only=True)
        conditions.append(PERSONS.c.name.ilike(pattern, escape="\\"))
    return conditions


def person_page(
    name_prefix: str | None, scope: RecordScope, *, after_id: int | None, limit: int
) -> AnySelect:
    """Persons whose name starts with ``name_prefix``, by id ascending, after ``after_id``."""
    statement = select(*_person_columns(scope)).where(*_person_conditions(name_prefix, scope))
    if after_id is not None:
        statement = statement.where(PERSONS.c.id > after_id)
    return statement.order_by(PERSONS.c.id).limit(limit)


def person_count(name_prefix: str | None, scope: RecordScope) -> Select[int]:
    conditions = _person_conditions(name_prefix, scope)
    return select(func.count()).select_from(PERSONS).where(*conditions)
