# ruff: noqa: S608 -- DDL assembled from the fixed column names below, nothing from outside
"""The triggers that keep the figures summaries exactly current (汇总触发器), per database.

A record counts in each summary under the key its columns give (:class:`Summary`), with its
measures (1 record; 1 if concluded, 1 if resolved, for the monthly one); every change to
``records`` moves them from the old key to the new in the same statement's work:

- SQLite: row-level ``AFTER INSERT / UPDATE / DELETE`` triggers; an update fires only when a
  column a key or measure is computed from changes (``UPDATE OF … WHEN``).
- PostgreSQL: statement-level triggers with transition tables (``REFERENCING NEW TABLE /
  OLD TABLE``): one aggregated delta per statement and summary, upserted with
  ``ON CONFLICT`` (so two syncs adding the same key concurrently both count), in key order
  (so they lock in the same order and cannot deadlock one another).

Either way a row whose count drops to zero is deleted, and a delta that finds no row to take
from (a summary emptied by hand) leaves none behind: the tables only hold positive counts.

Two key columns are records flags the links (and, for a petition, the petition system's own
repeat count) decide (:data:`LINK_FLAGS`: a repeat petition, a referred record), kept by
triggers too: on ``links`` (insert, delete, update of its ends, kind or decision: both ends
recomputed), on a records update of ``occurred_at``, ``deleted`` or ``kind`` (the record and
its link partners recomputed, after that statement's own deltas: at the end of the PostgreSQL
update function; on SQLite by a trigger created before the figures ones, since SQLite fires
the newest first), and on ``petitions`` (a kind row inserted with ``repeat_count`` ≥ 1, or
updated across 1: its record recomputed; the kind row is written after its records row, so
the record is counted first and then moved; on PostgreSQL the update one is a row trigger on
``repeat_count`` alone, so updates leaving the count alone cost nothing). A flag that changes is
an update of ``records``, so the figures triggers move its count like any other key change.
Used by migration 0009 (links only: ``source_repeats=False``; migrations 0016 and 0017 carry
their own frozen copy of what they install) and by ``metadata.create_all``
(``db.models.figures``): a change here needs a migration installing it on existing databases.
"""

from __future__ import annotations

from dataclasses import dataclass

_CONCLUDED = "('RESOLVED', 'FAILED', 'CLOSED')"


@dataclass(frozen=True, slots=True)
class Summary:
    """One summary table: its key columns (primary key order) and measure columns, each an
    expression over a record ``{row}`` per dialect (``{day}``: its Beijing calendar day)."""

    table: str
    key: dict[str, str]
    measures: dict[str, str]

    def key_of(self, row: str, dialect: str) -> dict[str, str]:
        day = (
            f"date({row}.occurred_at, '+8 hours')"
            if dialect == "sqlite"
            else f"({row}.occurred_at AT TIME ZONE 'Asia/Shanghai')::date"
        )
        month = (
            f"date({row}.occurred_at, '+8 hours', 'start of month')"
            if dialect == "sqlite"
            else f"date_trunc('month', {row}.occurred_at AT TIME ZONE 'Asia/Shanghai')::date"
        )
        return {
            name: value.format(row=row, day=day, month=month) for name, value in self.key.items()
        }

    def measures_of(self, row: str) -> dict[str, str]:
        return {name: value.format(row=row) for name, value in self.measures.items()}

    @property
    def columns(self) -> str:
        return ", ".join([*self.key, *self.measures])

    @property
    def key_columns(self) -> str:
        return ", ".join(self.key)


FINEST = Summary(
    "record_figures",
    key={
        "region_code": "coalesce({row}.region_code, '')", "day": "{day}", "kind": "{row}.kind",
        "source": "{row}.source", "category": "{row}.category", "status": "{row}.status",
        "risk_level": "{row}.risk_level", "kpi_class": "coalesce({row}.kpi_class, '')",
        "deleted": "{row}.deleted", "repeat_petition": "{row}.repeat_petition",
        "referred": "{row}.referred",
    },
    measures={"record_count": "1"},
)  # fmt: skip
"""Every grouping value at its finest: region code, Beijing day, status, risk …"""

MONTHLY = Summary(
    "record_figures_monthly",
    key={
        "region_code": "coalesce(substr({row}.region_code, 1, 6), '')", "month": "{month}",
        "kind": "{row}.kind", "source": "{row}.source", "category": "{row}.category",
        "kpi_class": "coalesce({row}.kpi_class, '')", "deleted": "{row}.deleted",
        "repeat_petition": "{row}.repeat_petition", "referred": "{row}.referred",
    },
    measures={
        "record_count": "1",
        "concluded_count": f"CASE WHEN {{row}}.status IN {_CONCLUDED} THEN 1 ELSE 0 END",
        "resolved_count": "CASE WHEN {row}.status = 'RESOLVED' THEN 1 ELSE 0 END",
    },
)  # fmt: skip
"""A dashboard's usual grain: county (or coarser) code, Beijing month, kind, source, category;
status only as the counts 调解成功率 needs (concluded, resolved)."""

SUMMARIES = (FINEST, MONTHLY)
KEY_COLUMNS = tuple(FINEST.key)
MONTHLY_KEY_COLUMNS = tuple(MONTHLY.key)

_CHANGED_BY = (
    "region_code", "occurred_at", "kind", "source", "category", "status", "risk_level",
    "kpi_class", "deleted", "repeat_petition", "referred",
)  # fmt: skip
"""The records columns any key or measure is computed from."""


_NOT_REJECTED = "(l.decision IS NULL OR l.decision <> 'REJECTED')"


def _paired(own: str, other: str) -> str:
    """A not rejected same-matter/same-parties link from this petition (``records``) to an
    earlier one (by time, then id) not withdrawn; a link to itself counts, as in
    ``db.stats``'s definition."""
    later = (
        "(records.occurred_at > p.occurred_at "
        "OR (records.occurred_at = p.occurred_at AND records.id >= p.id))"
    )
    return (
        f"EXISTS (SELECT 1 FROM links AS l JOIN records AS p ON p.id = l.{other} "
        f"WHERE l.{own} = records.id AND l.link_kind IN ('SAME_MATTER', 'SAME_PARTIES') "
        f"AND {_NOT_REJECTED} AND p.kind = 'PETITION' AND NOT p.deleted AND {later})"
    )


_REPEATED_BY_SOURCE = (
    "EXISTS (SELECT 1 FROM petitions AS s WHERE s.id = records.id AND s.repeat_count >= 1)"
)
"""The petition system itself counts this petition as repeated (重复信访次数 ≥ 1)."""


def link_flags(*, source_repeats: bool = True) -> dict[str, str]:
    """The records flags (关联标记), each as a record's value over the links, the records they
    name and, for ``repeat_petition`` with ``source_repeats``, the petition's own kind row.
    ``source_repeats=False`` is the links-only rule of migrations 0009–0015."""
    paired = " OR ".join(
        (_paired("from_record_id", "to_record_id"), _paired("to_record_id", "from_record_id"))
    )
    repeated = f"{_REPEATED_BY_SOURCE} OR {paired}" if source_repeats else paired
    return {
        "repeat_petition": f"(records.kind = 'PETITION' AND ({repeated}))",
        "referred": (
            "EXISTS (SELECT 1 FROM links AS l WHERE l.to_record_id = records.id "
            f"AND l.link_kind = 'REFERRED_FROM' AND {_NOT_REJECTED})"
        ),
    }


LINK_FLAGS = link_flags()
"""The records flags (关联标记): a repeat petition (重复信访: a petition the petition system
counts as repeated, 重复信访次数 ≥ 1, or the later of two petitions linked as the same matter or
parties, the earlier not withdrawn), a referred record (a mediation case names it as its
source: 警情分流). They are key columns of both summaries, so the two linked KPIs' numerators
are summed from the summaries as the rest are."""


def _refresh_flags(which: str, flags: dict[str, str]) -> str:
    """Recompute the flags of the records ``which`` selects, updating only those that change
    (so the figures triggers move just them)."""
    sets = ", ".join(f"{name} = {value}" for name, value in flags.items())
    changed = " OR ".join(f"{name} <> {value}" for name, value in flags.items())
    return f"UPDATE records SET {sets} WHERE ({which}) AND ({changed});"


_FLAG_INPUTS = ("occurred_at", "deleted", "kind")
"""The records columns a partner's flag is computed from (besides the links)."""
_LINK_INPUTS = ("from_record_id", "to_record_id", "link_kind", "decision")
_REPEATED = "coalesce({row}.repeat_count, 0) >= 1"
"""A petition's kind row says it is repeated; its record is recomputed when this changes."""


def _sqlite_flag_statements(flags: dict[str, str]) -> list[str]:
    def ends(*rows: str) -> str:
        named = ", ".join(f"{row}.{end}_record_id" for row in rows for end in ("from", "to"))
        return f"id IN ({named})"

    partners = (
        "id = NEW.id OR id IN (SELECT to_record_id FROM links WHERE from_record_id = NEW.id "
        "UNION ALL SELECT from_record_id FROM links WHERE to_record_id = NEW.id)"
    )
    changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in _FLAG_INPUTS)
    return [
        f"CREATE TRIGGER link_flags_insert AFTER INSERT ON links "
        f"BEGIN {_refresh_flags(ends('NEW'), flags)} END",
        f"CREATE TRIGGER link_flags_delete AFTER DELETE ON links "
        f"BEGIN {_refresh_flags(ends('OLD'), flags)} END",
        f"CREATE TRIGGER link_flags_update AFTER UPDATE OF {', '.join(_LINK_INPUTS)} ON links "
        f"BEGIN {_refresh_flags(ends('OLD', 'NEW'), flags)} END",
        # created before the figures triggers, so it fires after them (SQLite fires the newest
        # first): a record's own count has moved to its new key before its flags move it again
        f"CREATE TRIGGER record_link_flags AFTER UPDATE OF {', '.join(_FLAG_INPUTS)} ON records "
        f"WHEN {changed} BEGIN {_refresh_flags(partners, flags)} END",
    ]


def _sqlite_petition_statements(flags: dict[str, str]) -> list[str]:
    """A petition's record recomputed when its kind row says it is repeated on insert, or
    stops or starts saying so (a re-sync's new 重复信访次数); a count that stays on the same
    side of 1 touches nothing."""
    old, new = _REPEATED.format(row="OLD"), _REPEATED.format(row="NEW")
    return [
        f"CREATE TRIGGER petition_repeat_insert AFTER INSERT ON petitions WHEN {new} "
        f"BEGIN {_refresh_flags('id = NEW.id', flags)} END",
        f"CREATE TRIGGER petition_repeat_update AFTER UPDATE OF repeat_count ON petitions "
        f"WHEN ({old}) <> ({new}) BEGIN {_refresh_flags('id = NEW.id', flags)} END",
    ]


def _postgresql_flags_moved(flags: dict[str, str]) -> str:
    """The end of the records update function: the flags of the records whose time, withdrawn
    flag or kind changed, and of their link partners (after this statement's own deltas)."""
    columns = ", ".join(("id", *_FLAG_INPUTS))
    which = (
        "id = ANY(moved || ARRAY(SELECT to_record_id FROM links WHERE from_record_id = "
        "ANY(moved)) || ARRAY(SELECT from_record_id FROM links WHERE to_record_id = ANY(moved)))"
    )
    return (
        # a set difference (hashed), not a join: transition tables have no statistics, and
        # a join of two 20,000-row ones was planned as a nested loop (+10 s)
        f"SELECT array_agg(id) INTO moved FROM (SELECT {columns} FROM new_records "
        f"EXCEPT SELECT {columns} FROM old_records) AS changed; "
        f"IF moved IS NOT NULL THEN {_refresh_flags(which, flags)} END IF;"
    )


def _postgresql_link_function(name: str, tables: tuple[str, ...], flags: dict[str, str]) -> str:
    ends = " UNION ALL ".join(
        f"SELECT {e}_record_id FROM {t}" for t in tables for e in ("from", "to")
    )
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{_refresh_flags(f'id = ANY(ARRAY({ends}))', flags)} RETURN NULL; END $$"
    )


def _postgresql_flag_statements(flags: dict[str, str]) -> list[str]:
    return [
        _postgresql_link_function("link_flags_insert", ("new_links",), flags),
        _postgresql_link_function("link_flags_delete", ("old_links",), flags),
        _postgresql_link_function("link_flags_update", ("old_links", "new_links"), flags),
        "CREATE TRIGGER link_flags_insert AFTER INSERT ON links "
        "REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT "
        "EXECUTE FUNCTION link_flags_insert()",
        "CREATE TRIGGER link_flags_delete AFTER DELETE ON links "
        "REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT "
        "EXECUTE FUNCTION link_flags_delete()",
        "CREATE TRIGGER link_flags_update AFTER UPDATE ON links "
        "REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT "
        "EXECUTE FUNCTION link_flags_update()",
    ]


def _postgresql_petition_statements(flags: dict[str, str]) -> list[str]:
    """As on SQLite: on insert once per statement (a batch's COPY), the records of the
    petitions inserted repeated; on update a row trigger on ``repeat_count`` alone, firing
    only for a row whose count crossed 1 (``UPDATE OF … WHEN``), so the many updates of
    petitions that leave the count alone (a re-sync's other columns, a bulk group) neither
    copy their rows into transition tables nor compare them."""
    repeated = _REPEATED.format(row="t")
    inserted = f"id = ANY(ARRAY(SELECT id FROM new_petitions AS t WHERE {repeated}))"
    old, new = _REPEATED.format(row="OLD"), _REPEATED.format(row="NEW")
    return [
        "CREATE FUNCTION petition_repeat_insert() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_refresh_flags(inserted, flags)} RETURN NULL; END $$",
        "CREATE FUNCTION petition_repeat_update() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_refresh_flags('id = NEW.id', flags)} RETURN NULL; END $$",
        "CREATE TRIGGER petition_repeat_insert AFTER INSERT ON petitions "
        "REFERENCING NEW TABLE AS new_petitions FOR EACH STATEMENT "
        "EXECUTE FUNCTION petition_repeat_insert()",
        "CREATE TRIGGER petition_repeat_update AFTER UPDATE OF repeat_count ON petitions "
        f"FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new})) "
        "EXECUTE FUNCTION petition_repeat_update()",
    ]


def _sqlite_add(summary: Summary, row: str, sign: int) -> str:
    key = summary.key_of(row, "sqlite")
    measures = summary.measures_of(row)
    if sign > 0:
        updates = ", ".join(f"{name} = {name} + excluded.{name}" for name in measures)
        return (
            f"INSERT INTO {summary.table} ({summary.columns}) "
            f"VALUES ({', '.join([*key.values(), *measures.values()])}) "
            f"ON CONFLICT ({summary.key_columns}) DO UPDATE SET {updates};"
        )
    match = " AND ".join(f"{name} = {value}" for name, value in key.items())
    updates = ", ".join(f"{name} = {name} - ({value})" for name, value in measures.items())
    return (
        f"UPDATE {summary.table} SET {updates} WHERE {match}; "
        f"DELETE FROM {summary.table} WHERE {match} AND record_count <= 0;"
    )


def _sqlite_statements(flags: dict[str, str], source_repeats: bool) -> list[str]:
    def body(*steps: tuple[str, int]) -> str:
        return " ".join(_sqlite_add(s, row, sign) for row, sign in steps for s in SUMMARIES)

    old, new = FINEST.key_of("OLD", "sqlite"), FINEST.key_of("NEW", "sqlite")
    moved = " OR ".join(f"{old[name]} IS NOT {new[name]}" for name in old)
    return [
        *_sqlite_flag_statements(flags),
        *(_sqlite_petition_statements(flags) if source_repeats else []),
        "CREATE TRIGGER record_figures_insert AFTER INSERT ON records "
        f"BEGIN {body(('NEW', 1))} END",
        "CREATE TRIGGER record_figures_delete AFTER DELETE ON records "
        f"BEGIN {body(('OLD', -1))} END",
        f"CREATE TRIGGER record_figures_update AFTER UPDATE OF {', '.join(_CHANGED_BY)} "
        f"ON records WHEN {moved} BEGIN {body(('OLD', -1), ('NEW', 1))} END",
    ]


def _delta(summary: Summary, table: str, sign: int) -> str:
    key = summary.key_of(table, "postgresql")
    values = [f"{value} AS {name}" for name, value in key.items()]
    values += [f"{sign} * {value} AS {name}" for name, value in summary.measures_of(table).items()]
    return f"SELECT {', '.join(values)} FROM {table}"


def _postgresql_apply(summary: Summary, tables: tuple[tuple[str, int], ...]) -> str:
    """Upsert the summed deltas of the transition ``tables`` (name, sign); when counts were
    taken away, delete the rows the upsert left at zero (or below: a key it found no row for).

    The upsert returns those rows itself (gathered into the variable ``gone_<table>``), so the
    delete looks them up by primary key: a join back to the transition table would be planned
    blind (no statistics) and, at a few thousand rows, nested for minutes."""
    deltas = " UNION ALL ".join(_delta(summary, table, sign) for table, sign in tables)
    keys, measures = summary.key_columns, list(summary.measures)
    sums = ", ".join(f"sum({name})" for name in measures)
    updates = ", ".join(f"{name} = f.{name} + excluded.{name}" for name in measures)
    changed = " OR ".join(f"sum({name}) <> 0" for name in measures)
    upsert = (
        f"INSERT INTO {summary.table} AS f ({summary.columns}) "
        f"SELECT {keys}, {sums} FROM ({deltas}) AS delta GROUP BY {keys} "
        f"HAVING {changed} ORDER BY {keys} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    )
    if all(sign > 0 for _, sign in tables):
        return f"{upsert};"
    gone = f"gone_{summary.table}"
    match = " AND ".join(f"f.{name} = g.{name}" for name in summary.key)
    return (
        f"WITH up AS ({upsert} RETURNING f.*) SELECT array_agg(ROW(up.*)::{summary.table}) "
        f"INTO {gone} FROM up WHERE up.record_count <= 0; "
        f"IF {gone} IS NOT NULL THEN DELETE FROM {summary.table} AS f USING unnest({gone}) "
        f"AS g WHERE {match} AND f.record_count <= 0; END IF;"
    )


def _postgresql_function(name: str, tables: tuple[tuple[str, int], ...], tail: str = "") -> str:
    declare = " ".join(f"gone_{s.table} {s.table}[];" for s in SUMMARIES)
    body = " ".join(_postgresql_apply(summary, tables) for summary in SUMMARIES)
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"DECLARE {declare} moved integer[]; BEGIN {body} {tail} RETURN NULL; END $$"
    )


def _postgresql_statements(flags: dict[str, str], source_repeats: bool) -> list[str]:
    inserted, deleted = ("new_records", 1), ("old_records", -1)
    return [
        _postgresql_function("record_figures_insert", (inserted,)),
        _postgresql_function("record_figures_delete", (deleted,)),
        _postgresql_function(
            "record_figures_update", (inserted, deleted), tail=_postgresql_flags_moved(flags)
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
        *_postgresql_flag_statements(flags),
        *(_postgresql_petition_statements(flags) if source_repeats else []),
    ]


def install_statements(dialect: str, *, source_repeats: bool = True) -> list[str]:
    """The DDL that installs the triggers on ``dialect`` (``sqlite`` or ``postgresql``);
    ``source_repeats=False``: the links-only repeat rule of migrations 0009–0015."""
    flags = link_flags(source_repeats=source_repeats)
    if dialect == "sqlite":
        return _sqlite_statements(flags, source_repeats)
    return _postgresql_statements(flags, source_repeats)


_PETITION_TRIGGERS = ("petition_repeat_insert", "petition_repeat_update")


def drop_statements(dialect: str) -> list[str]:
    """The DDL that removes them again (whichever rule installed them)."""
    names = ("record_figures_insert", "record_figures_delete", "record_figures_update")
    links = ("link_flags_insert", "link_flags_delete", "link_flags_update")
    if dialect == "sqlite":
        every = (*names, *links, "record_link_flags", *_PETITION_TRIGGERS)
        return [f"DROP TRIGGER IF EXISTS {name}" for name in every]
    return (
        [f"DROP TRIGGER IF EXISTS {name} ON records" for name in names]
        + [f"DROP TRIGGER IF EXISTS {name} ON links" for name in links]
        + [f"DROP TRIGGER IF EXISTS {name} ON petitions" for name in _PETITION_TRIGGERS]
        + [f"DROP FUNCTION IF EXISTS {name}()" for name in (*names, *links, *_PETITION_TRIGGERS)]
    )


def backfill_statements(dialect: str, *, source_repeats: bool = True) -> list[str]:
    """The counts of the records already stored (the migration's one-off fill)."""
    statements = []
    for summary in SUMMARIES:
        key = ", ".join(summary.key_of("records", dialect).values())
        sums = ", ".join(f"sum({value})" for value in summary.measures_of("records").values())
        positions = ", ".join(str(n + 1) for n in range(len(summary.key)))
        statements.append(
            f"INSERT INTO {summary.table} ({summary.columns}) "
            f"SELECT {key}, {sums} FROM records GROUP BY {positions}"
        )
    # the records the links name (and the petitions their source counts as repeated),
    # flagged through the triggers (moving their counts)
    flagged = "SELECT from_record_id FROM links UNION SELECT to_record_id FROM links"
    if source_repeats:
        flagged += f" UNION SELECT id FROM petitions AS t WHERE {_REPEATED.format(row='t')}"
    flags = link_flags(source_repeats=source_repeats)
    statements.append(_refresh_flags(f"id IN ({flagged})", flags).rstrip(";"))
    return statements


def refresh_petition_flags(*, source_repeats: bool = True) -> str:
    """Recompute every petition's flags under the rule ``source_repeats`` names (a migration
    changing the rule: only the flags that change are written, the figures triggers moving
    their counts)."""
    flags = link_flags(source_repeats=source_repeats)
    return _refresh_flags("kind = 'PETITION'", flags).rstrip(";")
