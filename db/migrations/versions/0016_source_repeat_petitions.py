"""a petition the petition system counts as repeated (重复信访次数 ≥ 1) is a repeat petition
(重复信访) too: the flag triggers reinstalled with the new rule (and triggers on petitions),
the stored petitions' flags recomputed, the figures summaries moving with them

The SQL is frozen here as it stood when this revision shipped (generated once from
``db.models.figure_triggers``): a later change to the trigger code belongs in a new migration,
never in what this one installs. Each statement is a template with two placeholders, the
flags' values under the rule being installed: ``{repeat_petition}`` and ``{referred}``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A not rejected same-matter/same-parties link from the petition to an earlier one not
# withdrawn, either way round (the links' repeat rule of 0009).
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

_SQLITE_TRIGGERS = (
    (
        "CREATE TRIGGER link_flags_insert AFTER INSERT ON links "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id IN (NEW.from_record_id, NEW.to_record_id)) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); END"
    ),
    (
        "CREATE TRIGGER link_flags_delete AFTER DELETE ON links "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id IN (OLD.from_record_id, OLD.to_record_id)) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); END"
    ),
    (
        "CREATE TRIGGER link_flags_update AFTER "
        "UPDATE OF from_record_id, to_record_id, link_kind, decision ON links "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id IN (OLD.from_record_id, OLD.to_record_id, NEW.from_record_id, "
        "NEW.to_record_id)) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); END"
    ),
    (
        "CREATE TRIGGER record_link_flags AFTER "
        "UPDATE OF occurred_at, deleted, kind ON records "
        "WHEN OLD.occurred_at IS NOT NEW.occurred_at OR OLD.deleted IS NOT NEW.deleted "
        "OR OLD.kind IS NOT NEW.kind "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = NEW.id OR id IN (SELECT to_record_id FROM links "
        "WHERE from_record_id = NEW.id UNION ALL "
        "SELECT from_record_id FROM links WHERE to_record_id = NEW.id)) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); END"
    ),
    (
        "CREATE TRIGGER record_figures_insert AFTER INSERT ON records "
        "BEGIN "
        "INSERT "
        "INTO record_figures (region_code, day, kind, source, category, status, "
        "risk_level, kpi_class, deleted, repeat_petition, referred, record_count) "
        "VALUES (coalesce(NEW.region_code, ''), date(NEW.occurred_at, '+8 hours'), "
        "NEW.kind, NEW.source, NEW.category, NEW.status, NEW.risk_level, "
        "coalesce(NEW.kpi_class, ''), NEW.deleted, NEW.repeat_petition, NEW.referred, "
        "1) "
        "ON CONFLICT (region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred) "
        "DO "
        "UPDATE SET record_count = record_count + excluded.record_count; "
        "INSERT "
        "INTO record_figures_monthly (region_code, month, kind, source, category, "
        "kpi_class, deleted, repeat_petition, referred, record_count, concluded_count, "
        "resolved_count) "
        "VALUES (coalesce(substr(NEW.region_code, 1, 6), ''), date(NEW.occurred_at, "
        "'+8 hours', 'start of month'), NEW.kind, NEW.source, NEW.category, "
        "coalesce(NEW.kpi_class, ''), NEW.deleted, NEW.repeat_petition, NEW.referred, "
        "1, CASE "
        "WHEN NEW.status IN ('RESOLVED', 'FAILED', 'CLOSED') THEN 1 ELSE 0 END, CASE "
        "WHEN NEW.status = 'RESOLVED' THEN 1 ELSE 0 END) "
        "ON CONFLICT (region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred) "
        "DO "
        "UPDATE "
        "SET record_count = record_count + excluded.record_count, concluded_count = "
        "concluded_count + excluded.concluded_count, resolved_count = resolved_count + "
        "excluded.resolved_count; END"
    ),
    (
        "CREATE TRIGGER record_figures_delete AFTER DELETE ON records "
        "BEGIN "
        "UPDATE record_figures SET record_count = record_count - (1) "
        "WHERE region_code = coalesce(OLD.region_code, '') "
        "AND day = date(OLD.occurred_at, '+8 hours') AND kind = OLD.kind "
        "AND source = OLD.source AND category = OLD.category AND status = OLD.status "
        "AND risk_level = OLD.risk_level AND kpi_class = coalesce(OLD.kpi_class, '') "
        "AND deleted = OLD.deleted AND repeat_petition = OLD.repeat_petition "
        "AND referred = OLD.referred; "
        "DELETE FROM record_figures WHERE region_code = coalesce(OLD.region_code, '') "
        "AND day = date(OLD.occurred_at, '+8 hours') AND kind = OLD.kind "
        "AND source = OLD.source AND category = OLD.category AND status = OLD.status "
        "AND risk_level = OLD.risk_level AND kpi_class = coalesce(OLD.kpi_class, '') "
        "AND deleted = OLD.deleted AND repeat_petition = OLD.repeat_petition "
        "AND referred = OLD.referred AND record_count <= 0; "
        "UPDATE record_figures_monthly "
        "SET record_count = record_count - (1), concluded_count = concluded_count - "
        "(CASE "
        "WHEN OLD.status IN ('RESOLVED', 'FAILED', 'CLOSED') THEN 1 ELSE 0 END), "
        "resolved_count = resolved_count - (CASE "
        "WHEN OLD.status = 'RESOLVED' THEN 1 ELSE 0 END) "
        "WHERE region_code = coalesce(substr(OLD.region_code, 1, 6), '') "
        "AND month = date(OLD.occurred_at, '+8 hours', 'start of month') "
        "AND kind = OLD.kind AND source = OLD.source AND category = OLD.category "
        "AND kpi_class = coalesce(OLD.kpi_class, '') AND deleted = OLD.deleted "
        "AND repeat_petition = OLD.repeat_petition AND referred = OLD.referred; "
        "DELETE FROM record_figures_monthly "
        "WHERE region_code = coalesce(substr(OLD.region_code, 1, 6), '') "
        "AND month = date(OLD.occurred_at, '+8 hours', 'start of month') "
        "AND kind = OLD.kind AND source = OLD.source AND category = OLD.category "
        "AND kpi_class = coalesce(OLD.kpi_class, '') AND deleted = OLD.deleted "
        "AND repeat_petition = OLD.repeat_petition AND referred = OLD.referred "
        "AND record_count <= 0; END"
    ),
    (
        "CREATE TRIGGER record_figures_update AFTER "
        "UPDATE OF region_code, occurred_at, kind, source, category, status, "
        "risk_level, kpi_class, deleted, repeat_petition, referred ON records "
        "WHEN coalesce(OLD.region_code, '') IS NOT coalesce(NEW.region_code, '') "
        "OR date(OLD.occurred_at, '+8 hours') IS NOT date(NEW.occurred_at, '+8 hours') "
        "OR OLD.kind IS NOT NEW.kind OR OLD.source IS NOT NEW.source "
        "OR OLD.category IS NOT NEW.category OR OLD.status IS NOT NEW.status "
        "OR OLD.risk_level IS NOT NEW.risk_level "
        "OR coalesce(OLD.kpi_class, '') IS NOT coalesce(NEW.kpi_class, '') "
        "OR OLD.deleted IS NOT NEW.deleted "
        "OR OLD.repeat_petition IS NOT NEW.repeat_petition "
        "OR OLD.referred IS NOT NEW.referred "
        "BEGIN "
        "UPDATE record_figures SET record_count = record_count - (1) "
        "WHERE region_code = coalesce(OLD.region_code, '') "
        "AND day = date(OLD.occurred_at, '+8 hours') AND kind = OLD.kind "
        "AND source = OLD.source AND category = OLD.category AND status = OLD.status "
        "AND risk_level = OLD.risk_level AND kpi_class = coalesce(OLD.kpi_class, '') "
        "AND deleted = OLD.deleted AND repeat_petition = OLD.repeat_petition "
        "AND referred = OLD.referred; "
        "DELETE FROM record_figures WHERE region_code = coalesce(OLD.region_code, '') "
        "AND day = date(OLD.occurred_at, '+8 hours') AND kind = OLD.kind "
        "AND source = OLD.source AND category = OLD.category AND status = OLD.status "
        "AND risk_level = OLD.risk_level AND kpi_class = coalesce(OLD.kpi_class, '') "
        "AND deleted = OLD.deleted AND repeat_petition = OLD.repeat_petition "
        "AND referred = OLD.referred AND record_count <= 0; "
        "UPDATE record_figures_monthly "
        "SET record_count = record_count - (1), concluded_count = concluded_count - "
        "(CASE "
        "WHEN OLD.status IN ('RESOLVED', 'FAILED', 'CLOSED') THEN 1 ELSE 0 END), "
        "resolved_count = resolved_count - (CASE "
        "WHEN OLD.status = 'RESOLVED' THEN 1 ELSE 0 END) "
        "WHERE region_code = coalesce(substr(OLD.region_code, 1, 6), '') "
        "AND month = date(OLD.occurred_at, '+8 hours', 'start of month') "
        "AND kind = OLD.kind AND source = OLD.source AND category = OLD.category "
        "AND kpi_class = coalesce(OLD.kpi_class, '') AND deleted = OLD.deleted "
        "AND repeat_petition = OLD.repeat_petition AND referred = OLD.referred; "
        "DELETE FROM record_figures_monthly "
        "WHERE region_code = coalesce(substr(OLD.region_code, 1, 6), '') "
        "AND month = date(OLD.occurred_at, '+8 hours', 'start of month') "
        "AND kind = OLD.kind AND source = OLD.source AND category = OLD.category "
        "AND kpi_class = coalesce(OLD.kpi_class, '') AND deleted = OLD.deleted "
        "AND repeat_petition = OLD.repeat_petition AND referred = OLD.referred "
        "AND record_count <= 0; "
        "INSERT "
        "INTO record_figures (region_code, day, kind, source, category, status, "
        "risk_level, kpi_class, deleted, repeat_petition, referred, record_count) "
        "VALUES (coalesce(NEW.region_code, ''), date(NEW.occurred_at, '+8 hours'), "
        "NEW.kind, NEW.source, NEW.category, NEW.status, NEW.risk_level, "
        "coalesce(NEW.kpi_class, ''), NEW.deleted, NEW.repeat_petition, NEW.referred, "
        "1) "
        "ON CONFLICT (region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred) "
        "DO "
        "UPDATE SET record_count = record_count + excluded.record_count; "
        "INSERT "
        "INTO record_figures_monthly (region_code, month, kind, source, category, "
        "kpi_class, deleted, repeat_petition, referred, record_count, concluded_count, "
        "resolved_count) "
        "VALUES (coalesce(substr(NEW.region_code, 1, 6), ''), date(NEW.occurred_at, "
        "'+8 hours', 'start of month'), NEW.kind, NEW.source, NEW.category, "
        "coalesce(NEW.kpi_class, ''), NEW.deleted, NEW.repeat_petition, NEW.referred, "
        "1, CASE "
        "WHEN NEW.status IN ('RESOLVED', 'FAILED', 'CLOSED') THEN 1 ELSE 0 END, CASE "
        "WHEN NEW.status = 'RESOLVED' THEN 1 ELSE 0 END) "
        "ON CONFLICT (region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred) "
        "DO "
        "UPDATE "
        "SET record_count = record_count + excluded.record_count, concluded_count = "
        "concluded_count + excluded.concluded_count, resolved_count = resolved_count + "
        "excluded.resolved_count; END"
    ),
)

_SQLITE_PETITION_TRIGGERS = (
    (
        "CREATE TRIGGER petition_repeat_insert AFTER INSERT ON petitions "
        "WHEN coalesce(NEW.repeat_count, 0) >= 1 "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = NEW.id) AND (repeat_petition <> {repeat_petition} "
        "OR referred <> {referred}); END"
    ),
    (
        "CREATE TRIGGER petition_repeat_update AFTER "
        "UPDATE OF repeat_count ON petitions "
        "WHEN (coalesce(OLD.repeat_count, 0) >= 1) <> (coalesce(NEW.repeat_count, 0) "
        ">= 1) "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = NEW.id) AND (repeat_petition <> {repeat_petition} "
        "OR referred <> {referred}); END"
    ),
)

_SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS record_figures_insert",
    "DROP TRIGGER IF EXISTS record_figures_delete",
    "DROP TRIGGER IF EXISTS record_figures_update",
    "DROP TRIGGER IF EXISTS link_flags_insert",
    "DROP TRIGGER IF EXISTS link_flags_delete",
    "DROP TRIGGER IF EXISTS link_flags_update",
    "DROP TRIGGER IF EXISTS record_link_flags",
    "DROP TRIGGER IF EXISTS petition_repeat_insert",
    "DROP TRIGGER IF EXISTS petition_repeat_update",
)

_POSTGRESQL_TRIGGERS = (
    (
        "CREATE FUNCTION record_figures_insert() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ "
        "DECLARE gone_record_figures record_figures[]; gone_record_figures_monthly "
        "record_figures_monthly[]; moved integer[]; "
        "BEGIN "
        "INSERT "
        "INTO record_figures AS f (region_code, day, kind, source, category, status, "
        "risk_level, kpi_class, deleted, repeat_petition, referred, record_count) "
        "SELECT region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred, sum(record_count) "
        "FROM (SELECT coalesce(new_records.region_code, '') AS region_code, "
        "(new_records.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day, "
        "new_records.kind AS kind, new_records.source AS source, new_records.category "
        "AS category, new_records.status AS status, new_records.risk_level AS "
        "risk_level, coalesce(new_records.kpi_class, '') AS kpi_class, "
        "new_records.deleted AS deleted, new_records.repeat_petition AS "
        "repeat_petition, new_records.referred AS referred, 1 * 1 AS record_count "
        "FROM new_records) AS delta "
        "GROUP BY region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred "
        "HAVING sum(record_count) <> 0 "
        "ORDER BY region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred "
        "ON CONFLICT (region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred) "
        "DO "
        "UPDATE SET record_count = f.record_count + excluded.record_count; "
        "INSERT "
        "INTO record_figures_monthly AS f (region_code, month, kind, source, category, "
        "kpi_class, deleted, repeat_petition, referred, record_count, concluded_count, "
        "resolved_count) "
        "SELECT region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred, sum(record_count), sum(concluded_count), "
        "sum(resolved_count) "
        "FROM (SELECT coalesce(substr(new_records.region_code, 1, 6), '') AS "
        "region_code, date_trunc('month', new_records.occurred_at AT TIME ZONE "
        "'Asia/Shanghai')::date AS month, new_records.kind AS kind, new_records.source "
        "AS source, new_records.category AS category, coalesce(new_records.kpi_class, "
        "'') AS kpi_class, new_records.deleted AS deleted, new_records.repeat_petition "
        "AS repeat_petition, new_records.referred AS referred, 1 * 1 AS record_count, "
        "1 * CASE "
        "WHEN new_records.status IN ('RESOLVED', 'FAILED', 'CLOSED') THEN 1 ELSE 0 "
        "END AS concluded_count, 1 * CASE "
        "WHEN new_records.status = 'RESOLVED' THEN 1 ELSE 0 "
        "END AS resolved_count FROM new_records) AS delta "
        "GROUP BY region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred "
        "HAVING sum(record_count) <> 0 OR sum(concluded_count) <> 0 "
        "OR sum(resolved_count) <> 0 "
        "ORDER BY region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred "
        "ON CONFLICT (region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred) "
        "DO "
        "UPDATE "
        "SET record_count = f.record_count + excluded.record_count, concluded_count = "
        "f.concluded_count + excluded.concluded_count, resolved_count = "
        "f.resolved_count + excluded.resolved_count;  "
        "RETURN NULL; "
        "END $$"
    ),
    (
        "CREATE FUNCTION record_figures_delete() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ "
        "DECLARE gone_record_figures record_figures[]; gone_record_figures_monthly "
        "record_figures_monthly[]; moved integer[]; "
        "BEGIN "
        "WITH up AS (INSERT "
        "INTO record_figures AS f (region_code, day, kind, source, category, status, "
        "risk_level, kpi_class, deleted, repeat_petition, referred, record_count) "
        "SELECT region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred, sum(record_count) "
        "FROM (SELECT coalesce(old_records.region_code, '') AS region_code, "
        "(old_records.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day, "
        "old_records.kind AS kind, old_records.source AS source, old_records.category "
        "AS category, old_records.status AS status, old_records.risk_level AS "
        "risk_level, coalesce(old_records.kpi_class, '') AS kpi_class, "
        "old_records.deleted AS deleted, old_records.repeat_petition AS "
        "repeat_petition, old_records.referred AS referred, -1 * 1 AS record_count "
        "FROM old_records) AS delta "
        "GROUP BY region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred "
        "HAVING sum(record_count) <> 0 "
        "ORDER BY region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred "
        "ON CONFLICT (region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred) "
        "DO "
        "UPDATE SET record_count = f.record_count + excluded.record_count "
        "RETURNING f.*) "
        "SELECT array_agg(ROW(up.*)::record_figures) INTO gone_record_figures FROM up "
        "WHERE up.record_count <= 0; "
        "IF gone_record_figures IS NOT NULL THEN "
        "DELETE FROM record_figures AS f USING unnest(gone_record_figures) AS g "
        "WHERE f.region_code = g.region_code AND f.day = g.day AND f.kind = g.kind "
        "AND f.source = g.source AND f.category = g.category AND f.status = g.status "
        "AND f.risk_level = g.risk_level AND f.kpi_class = g.kpi_class "
        "AND f.deleted = g.deleted AND f.repeat_petition = g.repeat_petition "
        "AND f.referred = g.referred AND f.record_count <= 0; "
        "END IF; "
        "WITH up AS (INSERT "
        "INTO record_figures_monthly AS f (region_code, month, kind, source, category, "
        "kpi_class, deleted, repeat_petition, referred, record_count, concluded_count, "
        "resolved_count) "
        "SELECT region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred, sum(record_count), sum(concluded_count), "
        "sum(resolved_count) "
        "FROM (SELECT coalesce(substr(old_records.region_code, 1, 6), '') AS "
        "region_code, date_trunc('month', old_records.occurred_at AT TIME ZONE "
        "'Asia/Shanghai')::date AS month, old_records.kind AS kind, old_records.source "
        "AS source, old_records.category AS category, coalesce(old_records.kpi_class, "
        "'') AS kpi_class, old_records.deleted AS deleted, old_records.repeat_petition "
        "AS repeat_petition, old_records.referred AS referred, -1 * 1 AS record_count, "
        "-1 * CASE "
        "WHEN old_records.status IN ('RESOLVED', 'FAILED', 'CLOSED') THEN 1 ELSE 0 "
        "END AS concluded_count, -1 * CASE "
        "WHEN old_records.status = 'RESOLVED' THEN 1 ELSE 0 "
        "END AS resolved_count FROM old_records) AS delta "
        "GROUP BY region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred "
        "HAVING sum(record_count) <> 0 OR sum(concluded_count) <> 0 "
        "OR sum(resolved_count) <> 0 "
        "ORDER BY region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred "
        "ON CONFLICT (region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred) "
        "DO "
        "UPDATE "
        "SET record_count = f.record_count + excluded.record_count, concluded_count = "
        "f.concluded_count + excluded.concluded_count, resolved_count = "
        "f.resolved_count + excluded.resolved_count "
        "RETURNING f.*) "
        "SELECT array_agg(ROW(up.*)::record_figures_monthly) "
        "INTO gone_record_figures_monthly FROM up WHERE up.record_count <= 0; "
        "IF gone_record_figures_monthly IS NOT NULL THEN "
        "DELETE "
        "FROM record_figures_monthly AS f USING unnest(gone_record_figures_monthly) AS "
        "g "
        "WHERE f.region_code = g.region_code AND f.month = g.month AND f.kind = g.kind "
        "AND f.source = g.source AND f.category = g.category "
        "AND f.kpi_class = g.kpi_class AND f.deleted = g.deleted "
        "AND f.repeat_petition = g.repeat_petition AND f.referred = g.referred "
        "AND f.record_count <= 0; "
        "END IF;  "
        "RETURN NULL; "
        "END $$"
    ),
    (
        "CREATE FUNCTION record_figures_update() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ "
        "DECLARE gone_record_figures record_figures[]; gone_record_figures_monthly "
        "record_figures_monthly[]; moved integer[]; "
        "BEGIN "
        "WITH up AS (INSERT "
        "INTO record_figures AS f (region_code, day, kind, source, category, status, "
        "risk_level, kpi_class, deleted, repeat_petition, referred, record_count) "
        "SELECT region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred, sum(record_count) "
        "FROM (SELECT coalesce(new_records.region_code, '') AS region_code, "
        "(new_records.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day, "
        "new_records.kind AS kind, new_records.source AS source, new_records.category "
        "AS category, new_records.status AS status, new_records.risk_level AS "
        "risk_level, coalesce(new_records.kpi_class, '') AS kpi_class, "
        "new_records.deleted AS deleted, new_records.repeat_petition AS "
        "repeat_petition, new_records.referred AS referred, 1 * 1 AS record_count "
        "FROM new_records UNION ALL "
        "SELECT coalesce(old_records.region_code, '') AS region_code, "
        "(old_records.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day, "
        "old_records.kind AS kind, old_records.source AS source, old_records.category "
        "AS category, old_records.status AS status, old_records.risk_level AS "
        "risk_level, coalesce(old_records.kpi_class, '') AS kpi_class, "
        "old_records.deleted AS deleted, old_records.repeat_petition AS "
        "repeat_petition, old_records.referred AS referred, -1 * 1 AS record_count "
        "FROM old_records) AS delta "
        "GROUP BY region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred "
        "HAVING sum(record_count) <> 0 "
        "ORDER BY region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred "
        "ON CONFLICT (region_code, day, kind, source, category, status, risk_level, "
        "kpi_class, deleted, repeat_petition, referred) "
        "DO "
        "UPDATE SET record_count = f.record_count + excluded.record_count "
        "RETURNING f.*) "
        "SELECT array_agg(ROW(up.*)::record_figures) INTO gone_record_figures FROM up "
        "WHERE up.record_count <= 0; "
        "IF gone_record_figures IS NOT NULL THEN "
        "DELETE FROM record_figures AS f USING unnest(gone_record_figures) AS g "
        "WHERE f.region_code = g.region_code AND f.day = g.day AND f.kind = g.kind "
        "AND f.source = g.source AND f.category = g.category AND f.status = g.status "
        "AND f.risk_level = g.risk_level AND f.kpi_class = g.kpi_class "
        "AND f.deleted = g.deleted AND f.repeat_petition = g.repeat_petition "
        "AND f.referred = g.referred AND f.record_count <= 0; "
        "END IF; "
        "WITH up AS (INSERT "
        "INTO record_figures_monthly AS f (region_code, month, kind, source, category, "
        "kpi_class, deleted, repeat_petition, referred, record_count, concluded_count, "
        "resolved_count) "
        "SELECT region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred, sum(record_count), sum(concluded_count), "
        "sum(resolved_count) "
        "FROM (SELECT coalesce(substr(new_records.region_code, 1, 6), '') AS "
        "region_code, date_trunc('month', new_records.occurred_at AT TIME ZONE "
        "'Asia/Shanghai')::date AS month, new_records.kind AS kind, new_records.source "
        "AS source, new_records.category AS category, coalesce(new_records.kpi_class, "
        "'') AS kpi_class, new_records.deleted AS deleted, new_records.repeat_petition "
        "AS repeat_petition, new_records.referred AS referred, 1 * 1 AS record_count, "
        "1 * CASE "
        "WHEN new_records.status IN ('RESOLVED', 'FAILED', 'CLOSED') THEN 1 ELSE 0 "
        "END AS concluded_count, 1 * CASE "
        "WHEN new_records.status = 'RESOLVED' THEN 1 ELSE 0 "
        "END AS resolved_count FROM new_records UNION ALL "
        "SELECT coalesce(substr(old_records.region_code, 1, 6), '') AS region_code, "
        "date_trunc('month', old_records.occurred_at AT TIME ZONE "
        "'Asia/Shanghai')::date AS month, old_records.kind AS kind, old_records.source "
        "AS source, old_records.category AS category, coalesce(old_records.kpi_class, "
        "'') AS kpi_class, old_records.deleted AS deleted, old_records.repeat_petition "
        "AS repeat_petition, old_records.referred AS referred, -1 * 1 AS record_count, "
        "-1 * CASE "
        "WHEN old_records.status IN ('RESOLVED', 'FAILED', 'CLOSED') THEN 1 ELSE 0 "
        "END AS concluded_count, -1 * CASE "
        "WHEN old_records.status = 'RESOLVED' THEN 1 ELSE 0 "
        "END AS resolved_count FROM old_records) AS delta "
        "GROUP BY region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred "
        "HAVING sum(record_count) <> 0 OR sum(concluded_count) <> 0 "
        "OR sum(resolved_count) <> 0 "
        "ORDER BY region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred "
        "ON CONFLICT (region_code, month, kind, source, category, kpi_class, deleted, "
        "repeat_petition, referred) "
        "DO "
        "UPDATE "
        "SET record_count = f.record_count + excluded.record_count, concluded_count = "
        "f.concluded_count + excluded.concluded_count, resolved_count = "
        "f.resolved_count + excluded.resolved_count "
        "RETURNING f.*) "
        "SELECT array_agg(ROW(up.*)::record_figures_monthly) "
        "INTO gone_record_figures_monthly FROM up WHERE up.record_count <= 0; "
        "IF gone_record_figures_monthly IS NOT NULL THEN "
        "DELETE "
        "FROM record_figures_monthly AS f USING unnest(gone_record_figures_monthly) AS "
        "g "
        "WHERE f.region_code = g.region_code AND f.month = g.month AND f.kind = g.kind "
        "AND f.source = g.source AND f.category = g.category "
        "AND f.kpi_class = g.kpi_class AND f.deleted = g.deleted "
        "AND f.repeat_petition = g.repeat_petition AND f.referred = g.referred "
        "AND f.record_count <= 0; "
        "END IF; "
        "SELECT array_agg(id) INTO moved FROM (SELECT id, occurred_at, deleted, kind "
        "FROM new_records EXCEPT "
        "SELECT id, occurred_at, deleted, kind FROM old_records) AS changed; "
        "IF moved IS NOT NULL THEN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = ANY(moved || ARRAY(SELECT to_record_id FROM links "
        "WHERE from_record_id = ANY(moved)) || ARRAY(SELECT from_record_id FROM links "
        "WHERE to_record_id = ANY(moved)))) AND (repeat_petition <> {repeat_petition} "
        "OR referred <> {referred}); "
        "END IF; "
        "RETURN NULL; "
        "END $$"
    ),
    (
        "CREATE TRIGGER record_figures_insert AFTER INSERT ON records "
        "REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT "
        "EXECUTE FUNCTION record_figures_insert()"
    ),
    (
        "CREATE TRIGGER record_figures_delete AFTER DELETE ON records "
        "REFERENCING OLD TABLE AS old_records FOR EACH STATEMENT "
        "EXECUTE FUNCTION record_figures_delete()"
    ),
    (
        "CREATE TRIGGER record_figures_update AFTER "
        "UPDATE ON records "
        "REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records "
        "FOR EACH STATEMENT EXECUTE FUNCTION record_figures_update()"
    ),
    (
        "CREATE FUNCTION link_flags_insert() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = ANY(ARRAY(SELECT from_record_id FROM new_links UNION ALL "
        "SELECT to_record_id FROM new_links))) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); "
        "RETURN NULL; "
        "END $$"
    ),
    (
        "CREATE FUNCTION link_flags_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = ANY(ARRAY(SELECT from_record_id FROM old_links UNION ALL "
        "SELECT to_record_id FROM old_links))) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); "
        "RETURN NULL; "
        "END $$"
    ),
    (
        "CREATE FUNCTION link_flags_update() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = ANY(ARRAY(SELECT from_record_id FROM old_links UNION ALL "
        "SELECT to_record_id FROM old_links UNION ALL "
        "SELECT from_record_id FROM new_links UNION ALL "
        "SELECT to_record_id FROM new_links))) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); "
        "RETURN NULL; "
        "END $$"
    ),
    (
        "CREATE TRIGGER link_flags_insert AFTER INSERT ON links "
        "REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT "
        "EXECUTE FUNCTION link_flags_insert()"
    ),
    (
        "CREATE TRIGGER link_flags_delete AFTER DELETE ON links "
        "REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT "
        "EXECUTE FUNCTION link_flags_delete()"
    ),
    (
        "CREATE TRIGGER link_flags_update AFTER "
        "UPDATE ON links REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links "
        "FOR EACH STATEMENT EXECUTE FUNCTION link_flags_update()"
    ),
)

_POSTGRESQL_PETITION_TRIGGERS = (
    (
        "CREATE FUNCTION petition_repeat_insert() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ "
        "BEGIN "
        "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
        "WHERE (id = ANY(ARRAY(SELECT id FROM new_petitions AS t "
        "WHERE coalesce(t.repeat_count, 0) >= 1))) "
        "AND (repeat_petition <> {repeat_petition} OR referred <> {referred}); "
        "RETURN NULL; "
        "END $$"
    ),
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
        "CREATE TRIGGER petition_repeat_insert AFTER INSERT ON petitions "
        "REFERENCING NEW TABLE AS new_petitions FOR EACH STATEMENT "
        "EXECUTE FUNCTION petition_repeat_insert()"
    ),
    (
        "CREATE TRIGGER petition_repeat_update AFTER "
        "UPDATE ON petitions "
        "REFERENCING OLD TABLE AS old_petitions NEW TABLE AS new_petitions "
        "FOR EACH STATEMENT EXECUTE FUNCTION petition_repeat_update()"
    ),
)

_POSTGRESQL_DROPS = (
    "DROP TRIGGER IF EXISTS record_figures_insert ON records",
    "DROP TRIGGER IF EXISTS record_figures_delete ON records",
    "DROP TRIGGER IF EXISTS record_figures_update ON records",
    "DROP TRIGGER IF EXISTS link_flags_insert ON links",
    "DROP TRIGGER IF EXISTS link_flags_delete ON links",
    "DROP TRIGGER IF EXISTS link_flags_update ON links",
    "DROP TRIGGER IF EXISTS petition_repeat_insert ON petitions",
    "DROP TRIGGER IF EXISTS petition_repeat_update ON petitions",
    "DROP FUNCTION IF EXISTS record_figures_insert()",
    "DROP FUNCTION IF EXISTS record_figures_delete()",
    "DROP FUNCTION IF EXISTS record_figures_update()",
    "DROP FUNCTION IF EXISTS link_flags_insert()",
    "DROP FUNCTION IF EXISTS link_flags_delete()",
    "DROP FUNCTION IF EXISTS link_flags_update()",
    "DROP FUNCTION IF EXISTS petition_repeat_insert()",
    "DROP FUNCTION IF EXISTS petition_repeat_update()",
)

_REFRESH_PETITION_FLAGS = (
    "UPDATE records SET repeat_petition = {repeat_petition}, referred = {referred} "
    "WHERE (kind = 'PETITION') AND (repeat_petition <> {repeat_petition} "
    "OR referred <> {referred})"
)


_REPEATED_BY_SOURCE = (
    "EXISTS (SELECT 1 FROM petitions AS s WHERE s.id = records.id AND s.repeat_count >= 1)"
)
"""The petition system itself counts the petition as repeated (重复信访次数 ≥ 1)."""


def _flags(*, source_repeats: bool) -> dict[str, str]:
    repeated = f"{_REPEATED_BY_SOURCE} OR {_PAIRED}" if source_repeats else _PAIRED
    return {
        "repeat_petition": f"(records.kind = 'PETITION' AND ({repeated}))",
        "referred": _REFERRED,
    }


def _reinstall(*, source_repeats: bool) -> None:
    # In one transaction: the new triggers are in place before the flags are recomputed, and
    # the recompute is an update of records, so the figures triggers move the counts of the
    # petitions whose flag changes (and only theirs).
    sqlite = op.get_bind().dialect.name == "sqlite"
    flags = _flags(source_repeats=source_repeats)
    triggers = _SQLITE_TRIGGERS if sqlite else _POSTGRESQL_TRIGGERS
    petition_triggers = _SQLITE_PETITION_TRIGGERS if sqlite else _POSTGRESQL_PETITION_TRIGGERS
    for statement in _SQLITE_DROPS if sqlite else _POSTGRESQL_DROPS:
        op.execute(statement)
    for template in (*triggers, *(petition_triggers if source_repeats else ())):
        op.execute(template.format(**flags))
    op.execute(_REFRESH_PETITION_FLAGS.format(**flags))


def upgrade() -> None:
    _reinstall(source_repeats=True)


def downgrade() -> None:
    _reinstall(source_repeats=False)
