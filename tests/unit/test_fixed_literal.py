"""Jurisdiction bounds written into the SQL once per scope (db/queries.py ``fixed_literal``)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from db.people_queries import parties_with_persons, persons_by_id
from db.queries import records_in_scope
from domain.enums import RecordKind
from domain.scope import RecordScope

CITY = RecordScope(frozenset(RecordKind), ("4112",))
OTHER_CITY = RecordScope(frozenset(RecordKind), ("4113",))


def test_the_bounds_are_in_the_compiled_sql_not_rendered_at_execution() -> None:
    # given a scope's by-id statement
    statement = records_in_scope(CITY)
    for dialect in (postgresql.asyncpg.dialect(), sqlite.dialect()):
        # when it is compiled
        compiled = statement.compile(dialect=dialect)
        sql = str(compiled)
        # then its bounds are written in, and nothing is left to render per execution
        assert "region_code >= '4112'" in sql and "region_code < '4113'" in sql, dialect.name
        assert "POSTCOMPILE_param" not in sql and not compiled.literal_execute_params


def test_a_persons_region_is_bounded_in_the_compiled_sql_too() -> None:
    # given the statements that show a person's region within a scope
    statements = {
        "persons_by_id": persons_by_id([7], CITY),
        "parties_with_persons": parties_with_persons(CITY),
    }
    for name, statement in statements.items():
        for dialect in (postgresql.asyncpg.dialect(), sqlite.dialect()):
            # when it is compiled
            compiled = statement.compile(dialect=dialect)
            sql = str(compiled)
            # then the region's bounds are written in, as the records' are
            assert "persons.region_code >= '4112'" in sql, (name, dialect.name)
            assert "persons.region_code < '4113'" in sql, (name, dialect.name)
            # and no parameter is left to carry them
            assert not {"4112", "4113"} & set(map(str, compiled.params.values())), name


def test_each_scope_has_its_own_compiled_statement() -> None:
    # given two scopes differing only in their jurisdiction
    # then their statements' cache keys differ (never one scope's SQL for the other)
    assert records_in_scope(CITY)._generate_cache_key() != (
        records_in_scope(OTHER_CITY)._generate_cache_key()
    )
    # and the same scope keeps the same key (its compiled SQL is reused)
    again = RecordScope(frozenset(RecordKind), ("4112",))
    assert records_in_scope(CITY)._generate_cache_key() == (
        records_in_scope(again, with_regions=False)._generate_cache_key()
    )


def test_a_quote_in_a_bound_is_escaped_by_the_dialect() -> None:
    hostile = RecordScope(frozenset(RecordKind), ("41'12",))
    sql = str(records_in_scope(hostile).compile(dialect=postgresql.asyncpg.dialect()))
    assert "region_code >= '41''12'" in sql
