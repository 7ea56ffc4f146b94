# ruff: noqa: S608 -- DDL assembled from the fixed column names above, nothing from outside
"""The triggers that keep ``record_figures`` exactly current (汇总触发器), per database.

A record counts under the key its columns give (``_KEY``); every change to ``records`` moves
one count from the old key to the new in the same statement's work:

- SQLite: row-level ``AFTER INSERT / UPDATE / DELETE`` triggers; an update fires only when a
  key column changes (``UPDATE OF … WHEN``).
- PostgreSQL: statement-level triggers with transition tables (``REFERENCING NEW TABLE /
  OLD TABLE``): one aggregated delta per statement, upserted with ``ON CONFLICT`` (so two
  syncs adding the same key concurrently both count), in key order (so they lock in the
  same order and cannot deadlock one another).

Either way a count that drops to zero is deleted, and a delta that finds no row to take from
(a summary emptied by hand) leaves none behind, so the table only ever holds positive counts.
Used by migration 0009 and by ``metadata.create_all`` (``db.models.figures``).
"""

from __future__ import annotations

KEY_COLUMNS = (
    "region_code", "day", "kind", "source", "category", "status", "risk_level", "kpi_class",
    "deleted",
)  # fmt: skip
"""The summary's key, in its primary key's order."""

_CHANGED_BY = (
    "region_code", "occurred_at", "kind", "source", "category", "status", "risk_level",
    "kpi_class", "deleted",
)  # fmt: skip
"""The records columns a key is computed from."""


def _key(row: str, dialect: str) -> dict[str, str]:
    """Each key column's value for the record ``row`` (``NEW``/``OLD`` or a transition table)."""
    day = (
        f"date({row}.occurred_at, '+8 hours')"
        if dialect == "sqlite"
        else f"({row}.occurred_at AT TIME ZONE 'Asia/Shanghai')::date"
    )
    values = {name: f"{row}.{name}" for name in KEY_COLUMNS}
    values |= {
        "region_code": f"coalesce({row}.region_code, '')",
        "kpi_class": f"coalesce({row}.kpi_class, '')",
        "day": day,
    }
    return values


_COLUMNS = ", ".join(KEY_COLUMNS)


def _sqlite_add(row: str, delta: int) -> str:
    key = _key(row, "sqlite")
    if delta > 0:
        return (
            f"INSERT INTO record_figures ({_COLUMNS}, record_count) "
            f"VALUES ({', '.join(key.values())}, {delta}) "
            f"ON CONFLICT ({_COLUMNS}) DO UPDATE SET record_count = record_count + {delta};"
        )
    match = " AND ".join(f"{name} = {value}" for name, value in key.items())
    return (
        f"UPDATE record_figures SET record_count = record_count + {delta} WHERE {match}; "
        f"DELETE FROM record_figures WHERE {match} AND record_count <= 0;"
    )


def _sqlite_statements() -> list[str]:
    old, new = _key("OLD", "sqlite"), _key("NEW", "sqlite")
    moved = " OR ".join(f"{old[name]} IS NOT {new[name]}" for name in KEY_COLUMNS)
    return [
        "CREATE TRIGGER record_figures_insert AFTER INSERT ON records "
        f"BEGIN {_sqlite_add('NEW', 1)} END",
        "CREATE TRIGGER record_figures_delete AFTER DELETE ON records "
        f"BEGIN {_sqlite_add('OLD', -1)} END",
        f"CREATE TRIGGER record_figures_update AFTER UPDATE OF {', '.join(_CHANGED_BY)} "
        f"ON records WHEN {moved} "
        f"BEGIN {_sqlite_add('OLD', -1)} {_sqlite_add('NEW', 1)} END",
    ]


def _delta(table: str, sign: int) -> str:
    key = _key(table, "postgresql")
    values = ", ".join(f"{value} AS {name}" for name, value in key.items())
    return f"SELECT {values}, {sign} AS change FROM {table}"


def _postgresql_apply(deltas: str, taken_from: str | None) -> str:
    """Upsert the summed ``deltas`` (a union of ``_delta`` selects); then, when counts were
    taken away (from the keys of ``taken_from``), delete those left at zero or below."""
    upsert = (
        f"INSERT INTO record_figures AS f ({_COLUMNS}, record_count) "
        f"SELECT {_COLUMNS}, sum(change) FROM ({deltas}) AS delta GROUP BY {_COLUMNS} "
        f"HAVING sum(change) <> 0 ORDER BY {_COLUMNS} "
        f"ON CONFLICT ({_COLUMNS}) DO UPDATE SET record_count = f.record_count + "
        "excluded.record_count;"
    )
    if taken_from is None:
        return upsert
    key = _key(taken_from, "postgresql")
    touched = ", ".join(f"{value} AS {name}" for name, value in key.items())
    match = " AND ".join(f"f.{name} = t.{name}" for name in KEY_COLUMNS)
    return (
        f"{upsert} DELETE FROM record_figures AS f USING (SELECT DISTINCT {touched} "
        f"FROM {taken_from}) AS t WHERE {match} AND f.record_count <= 0;"
    )


def _postgresql_function(name: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {body} RETURN NULL; END $$"
    )


def _postgresql_statements() -> list[str]:
    inserted = _delta("new_records", 1)
    deleted = _delta("old_records", -1)
    return [
        _postgresql_function("record_figures_insert", _postgresql_apply(inserted, None)),
        _postgresql_function("record_figures_delete", _postgresql_apply(deleted, "old_records")),
        _postgresql_function(
            "record_figures_update",
            _postgresql_apply(f"{inserted} UNION ALL {deleted}", "old_records"),
        ),
        "CREATE TRIGGER record_figures_insert AFTER INSERT ON records "
        "REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT "
        "EXECUTE FUNCTION record_figures_insert()",
        "CREATE TRIGGER record_figures_delete AFTER DELETE ON records "
        "REFERENCING OLD TABLE AS old_records FOR EACH STATEMENT "
        "EXECUTE FUNCTION record_figures_delete()",
        "CREATE TRIGGER record_figures_update AFTER UPDATE ON records "
        "REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records FOR EACH STATEMENT "
        "EXECUTE FUNCTION record_figures_update()",
    ]


def install_statements(dialect: str) -> list[str]:
    """The DDL that installs the triggers on ``dialect`` (``sqlite`` or ``postgresql``)."""
    return _sqlite_statements() if dialect == "sqlite" else _postgresql_statements()


def drop_statements(dialect: str) -> list[str]:
    """The DDL that removes them again."""
    names = ("record_figures_insert", "record_figures_delete", "record_figures_update")
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in names]
    return [f"DROP TRIGGER IF EXISTS {name} ON records" for name in names] + [
        f"DROP FUNCTION IF EXISTS {name}()" for name in names
    ]


def backfill_statement(dialect: str) -> str:
    """The counts of the records already stored (the migration's one-off fill)."""
    key = ", ".join(_key("records", dialect).values())
    positions = ", ".join(str(n + 1) for n in range(len(KEY_COLUMNS)))
    return (
        f"INSERT INTO record_figures ({_COLUMNS}, record_count) "
        f"SELECT {key}, count(*) FROM records GROUP BY {positions}"
    )
