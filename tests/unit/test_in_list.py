"""Hot read statements bind their id lists as one array on PostgreSQL (``= ANY``), so their
SQL is rendered once, and expand them into ``IN (...)`` on SQLite (db.queries.in_list)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from db import people_queries, queries, timeline
from db.queries import AnySelect
from domain.scope import RecordScope

STATEMENTS: dict[str, AnySelect] = {
    "records_in_scope": queries.records_in_scope(RecordScope.of(("41",), None)),
    "records_in": queries.records_in(),
    "regions_in": queries.regions_in(),
    "parties_of_records": people_queries.parties_of_records(),
    "parties_with_persons": people_queries.parties_with_persons(RecordScope.of(("41",), None)),
    "persons_and_merges": timeline._persons_and_merges(),
    "records_naming": queries.records_naming(RecordScope.of(("41",), None), kind_columns=False),
}


def test_postgresql_binds_one_array() -> None:
    dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    for name, statement in STATEMENTS.items():
        sql = str(statement.compile(dialect=dialect))
        assert "= ANY (" in sql, name
        # the ids are not expanded (scope bounds may still be rendered at execution)
        assert "POSTCOMPILE_ids" not in sql and "POSTCOMPILE_record_ids" not in sql, name


def test_sqlite_expands_the_list() -> None:
    for name, statement in STATEMENTS.items():
        sql = str(statement.compile(dialect=sqlite.dialect()))
        assert "IN (__[POSTCOMPILE_" in sql, name
        assert "ANY" not in sql and ") = 1" not in sql, name
