"""a re-sync's update of petitions costs the figures triggers nothing unless it moves a
repeat count (重复信访次数) across 1: on PostgreSQL the statement trigger on every update of
petitions (copying each updated row into transition tables and comparing them) becomes a row
trigger on ``repeat_count`` alone, firing for a row whose count crossed 1; SQLite's row
trigger already does so

The SQL is frozen here as it stood when this revision shipped (generated once from
``db.models.figure_triggers``; ``{repeat_petition}`` and ``{referred}`` are the flags' values
under the source repeat rule of 0016).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A not rejected same-matter/same-parties link from the petition to an earlier one not
# withdrawn, either way round.
_PAIRED = (
    "EXISTS (SELECT 1 FROM links AS l JOIN records AS p ON p.id = l.to_record_id "
    "WHERE l.from_record_id = records.id "
    "AND l.link_kind IN ('SAME_MATTER', 'SAME_PARTIES') AND (l.decision IS NULL "
    "OR l.decision <> 'REJECTED') AND p.kind = 'PETITION' AND NOT p.deleted "
    "AND (records.occurred_at > p.occurred_at OR (records.occurred_at = p.occurred_at "
    "AND records.id >= p.id))) OR EXISTS (SELECT 1 "
    "FROM links AS l JOIN records AS p ON p.id = l.from_record_id "
    "WHERE l.to_record_id = records.id "
    "AND l.link_kind IN ('SAME_MATTER', 'SAME_PARTIES') AND (l.decision IS NULL "
    "OR l.decision <> 'REJECTED') AND p.kind = 'PETITION' AND NOT p.deleted "
    "AND (records.occurred_at > p.occurred_at OR (records.occurred_at = p.occurred_at "
    "AND records.id >= p.id)))"
)

_REFERRED = (
    "EXISTS (SELECT 1 FROM links AS l WHERE l.to_record_id = records.id "
    "AND l.link_kind = 'REFERRED_FROM' AND (l.decision IS NULL "
    "OR l.decision <> 'REJECTED'))"
)

_ROW_TRIGGER = (
    (
        "CREATE FUNCTION petition_repeat_update() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = NEW.id) AND (repeat_petition <> {repeat_petition} "
        "OR referred <> {referred}); "
        "RETURN NULL; "
        "END $$"
    ),
    (
        "CREATE TRIGGER petition_repeat_update AFTER "
        "UPDATE OF repeat_count ON petitions FOR EACH ROW "
        "WHEN ((coalesce(OLD.repeat_count, 0) >= 1) IS DISTINCT "
        "FROM (coalesce(NEW.repeat_count, 0) >= 1)) "
        "EXECUTE FUNCTION petition_repeat_update()"
    ),
)

_STATEMENT_TRIGGER = (
    (
        "CREATE FUNCTION petition_repeat_update() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = ANY(ARRAY(SELECT id "
        "FROM (SELECT id, coalesce(t.repeat_count, 0) >= 1 AS repeated "
        "FROM new_petitions AS t EXCEPT "
        "SELECT id, coalesce(t.repeat_count, 0) >= 1 AS repeated "
        "FROM old_petitions AS t) AS crossed))) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); "
        "RETURN NULL; "
        "END $$"
    ),
    (
        "CREATE TRIGGER petition_repeat_update AFTER "
        "UPDATE ON petitions "
        "REFERENCING OLD TABLE AS old_petitions NEW TABLE AS new_petitions "
        "FOR EACH STATEMENT EXECUTE FUNCTION petition_repeat_update()"
    ),
)

_REPEATED_BY_SOURCE = (
    "EXISTS (SELECT 1 FROM petitions AS s WHERE s.id = records.id AND s.repeat_count >= 1)"
)

_FLAGS = {
    "repeat_petition": f"(records.kind = 'PETITION' AND ({_REPEATED_BY_SOURCE} OR {_PAIRED}))",
    "referred": _REFERRED,
}

_DROP = (
    "DROP TRIGGER IF EXISTS petition_repeat_update ON petitions",
    "DROP FUNCTION IF EXISTS petition_repeat_update()",
)


def _replace(trigger: tuple[str, ...]) -> None:
    # Only the trigger changes: the flags it computes and the counts are the same either way,
    # so nothing is recomputed.
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _DROP:
        op.execute(statement)
    for template in trigger:
        op.execute(template.format(**_FLAGS))


def upgrade() -> None:
    _replace(_ROW_TRIGGER)


def downgrade() -> None:
    _replace(_STATEMENT_TRIGGER)
