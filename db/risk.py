"""Grading stored records and persons (风险研判入库), and staff overrides (人工调整).

:func:`grade_touched` runs after each sync batch for the records it changed: it gathers
their facts (``db.risk_facts``), grades the records, the records linked to them and the
persons they name, keeps each grade with the rules fired, sets ``records.risk_level`` to
the shown grade, logs every change of the shown grade, and returns one alert per target
whose grade rose to the alert level. :func:`override_grade` records a staff decision that
holds until the target's facts change.

Matters (the closed loop) are graded by :func:`grade_matters` over the union of their records'
facts and their own (clock breaches, 督办单): here for the matters of the records re-graded,
and by the workflow after each step, by the deadline scanner after a breach and by intake
after records join (``db.matter_workflow``). A matter's rise raises an alert like a record's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, Table, and_, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from db.bulk import insert_rows, update_rows
from db.decisions import audit_decision
from db.linking_lock import grading_lock
from db.models import (
    Matter,
    MatterRecord,
    PartyMention,
    Person,
    Record,
    RiskAssessment,
    RiskGradeChange,
)
from db.queries import in_list, scope_conditions
from db.risk_facts import FactBase, chunks, load_fact_base, load_matter_facts
from domain.enums import RiskLevel
from domain.masking import mask_text
from domain.risk import (
    Assessment,
    MatterFacts,
    Override,
    RecordFacts,
    RiskFacts,
    RiskRuleBook,
    TargetKind,
    assess,
    effective_level,
    load_risk_rules,
)
from domain.risk.alerts import RiskAlert, is_rise_to
from domain.scope import RecordScope

ASSESSED = "ASSESSED"
OVERRIDDEN = "OVERRIDDEN"


@cache
def default_rules() -> RiskRuleBook:
    return load_risk_rules()


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """The rules in force and the level that raises an alert (预警等级)."""

    rules: RiskRuleBook
    alert_level: RiskLevel = RiskLevel.RED

    @classmethod
    def default(cls) -> RiskConfig:
        return cls(default_rules())


def _record_facts(base: FactBase, record_id: int) -> RiskFacts:
    subject_ids = {record_id} | base.linked.get(record_id, set())
    subject = tuple(base.records[r] for r in sorted(subject_ids) if r in base.records)
    persons = {p for r in subject for p in r.person_ids}
    places = {r.place for r in subject if r.place is not None}
    history_ids = {r for p in persons for r in base.records_of_person.get(p, ())}
    history_ids |= {r for place in places for r in base.records_at_place.get(place, ())}
    history_ids -= subject_ids
    history = tuple(base.records[r] for r in sorted(history_ids) if r in base.records)
    return RiskFacts(TargetKind.RECORD, record_id, subject, history)


def _person_facts(base: FactBase, person_id: int) -> RiskFacts:
    ids = base.records_of_person.get(person_id, set())
    subject = tuple(base.records[r] for r in sorted(ids) if r in base.records)
    return RiskFacts(TargetKind.PERSON, person_id, subject)


_ASSESSMENTS: Table = RiskAssessment.__table__  # type: ignore[assignment]  # a model's table
_CHANGES: Table = RiskGradeChange.__table__  # type: ignore[assignment]
_KEPT = ("id", "target_id", "effective_level", "override_level", "override_reason",
         "overridden_by", "overridden_at", "override_fingerprint")  # fmt: skip
"""What a regrade reads of a stored grade: where it is, what it showed, its override."""


async def _existing(
    session: AsyncSession, target: TargetKind, ids: Collection[int]
) -> dict[int, Row[Any]]:
    found: dict[int, Row[Any]] = {}
    columns = [_ASSESSMENTS.c[name] for name in _KEPT]
    for chunk in chunks(ids):
        rows = await session.execute(
            select(*columns).where(
                _ASSESSMENTS.c.target_kind == target, in_list(_ASSESSMENTS.c.target_id, "ids")
            ),
            {"ids": chunk},
        )
        found.update((row.target_id, row) for row in rows)
    return found


def _override_of(row: Row[Any]) -> Override | None:
    if row.override_level is None or row.override_fingerprint is None:
        return None
    return Override(
        row.override_level, row.override_reason or "", row.overridden_by or "",
        row.overridden_at or row.assessed_at, row.override_fingerprint,
    )  # fmt: skip


@dataclass
class _Grades:
    """The grades a pass computed, written together by :meth:`write` (Core statements: an
    ORM object per graded target cost more than grading it)."""

    now: datetime
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)

    def store(
        self, row: Row[Any] | None, facts: RiskFacts, result: Assessment, region: str | None
    ) -> tuple[RiskLevel, RiskLevel]:
        """Keep ``result`` for the target; returns (the level it shows now, before)."""
        override = None if row is None else _override_of(row)
        before = RiskLevel.NONE if row is None else row.effective_level
        shown = effective_level(result, override)
        values = {
            "level": result.level, "rules": [fired.as_json() for fired in result.fired],
            "facts_fingerprint": result.fingerprint, "region_code": region,
            "assessed_at": self.now, "effective_level": shown,
        }  # fmt: skip
        if row is None:
            self.new.append({"target_kind": facts.target, "target_id": facts.target_id, **values})
        else:
            self.changed.append({"row_id": row.id, **values})
        if shown != before:
            self.moves.append({
                "target_kind": facts.target, "target_id": facts.target_id, "from_level": before,
                "to_level": shown, "cause": ASSESSED, "changed_at": self.now,
            })  # fmt: skip
        return shown, before

    async def write(self, session: AsyncSession) -> None:
        # A full sync grades tens of thousands of targets: by COPY on PostgreSQL (db.bulk),
        # not an execution per row.
        await insert_rows(session, _ASSESSMENTS, self.new)
        if self.changed:
            await update_rows(
                session, _ASSESSMENTS, _GRADED,
                [{"id": values["row_id"], **values} for values in self.changed],
            )  # fmt: skip
            _refresh_loaded(session, self.changed)
        await insert_rows(session, _CHANGES, self.moves)
        self.new, self.changed, self.moves = [], [], []


_GRADED = ("level", "rules", "facts_fingerprint", "region_code", "assessed_at", "effective_level")


def _refresh_loaded(session: AsyncSession, changed: list[dict[str, Any]]) -> None:
    """Give grades this session holds as objects (an override made in it) their new values."""
    loaded = {
        obj.id: obj for obj in session.identity_map.values() if isinstance(obj, RiskAssessment)
    }
    if not loaded:
        return
    for values in changed:
        obj = loaded.get(values["row_id"])
        if obj is not None:
            for name in _GRADED:
                set_committed_value(obj, name, values[name])


async def grade_touched(
    session: AsyncSession,
    touched: Collection[int],
    config: RiskConfig | None = None,
    *,
    now: datetime | None = None,
) -> list[RiskAlert]:
    """Grade what ``touched`` records affect; returns the alerts raised. The caller commits."""
    if not touched:
        return []
    config = config or RiskConfig.default()
    now = now or datetime.now(UTC)
    base, records, persons = await load_fact_base(session, touched)
    alerts: list[RiskAlert] = []
    existing = await _existing(session, TargetKind.RECORD, records)
    shown: dict[RiskLevel, list[int]] = {}
    grades = _Grades(now)
    for record_id in sorted(records):
        facts = _record_facts(base, record_id)
        result = assess(facts, config.rules)
        region = base.region_of.get(record_id)
        level, before = grades.store(existing.get(record_id), facts, result, region)
        if base.shown_level.get(record_id) != level:  # most re-grades change nothing shown
            shown.setdefault(level, []).append(record_id)
        if is_rise_to(config.alert_level, before, level):
            kind = base.records[record_id].kind
            alerts.append(RiskAlert(TargetKind.RECORD, record_id, level, before,
                                    region, frozenset({kind}), now))  # fmt: skip
    await grades.write(session)
    for level, ids in shown.items():
        for chunk in chunks(ids):
            await session.execute(
                update(Record)
                .where(in_list(Record.id.expression, "ids"), Record.risk_level != level)
                .values(risk_level=level)
                .execution_options(synchronize_session=False),
                {"ids": chunk},
            )  # fmt: skip
    alerts.extend(await _grade_persons(session, base, persons, config, now))
    matters = await _matters_of(session, records)
    alerts.extend(await grade_matters(session, matters, config, now=now, known=(base, records)))
    await session.flush()
    return alerts


async def _matters_of(session: AsyncSession, record_ids: Collection[int]) -> set[int]:
    found: set[int] = set()
    for chunk in chunks(record_ids):
        found.update(
            await session.scalars(
                select(MatterRecord.matter_id).where(
                    in_list(MatterRecord.record_id.expression, "ids")
                ),
                {"ids": chunk},
            )
        )
    return found


async def grade_matters(
    session: AsyncSession,
    matter_ids: Collection[int],
    config: RiskConfig | None = None,
    *,
    now: datetime | None = None,
    known: tuple[FactBase, Collection[int]] | None = None,
) -> list[RiskAlert]:
    """Grade ``matter_ids`` over their records' facts (union) and their own; the caller commits.

    The subject is every record of the matter with the records linked to them; the history is
    the other records of the persons and places they name, as for a record. ``known``: facts
    already loaded and the records they are complete for (those just graded), used when they
    cover every record of the matters, so a sync step loads its facts once. Returns the alerts
    raised (a matter whose grade rose to the alert level).
    """
    if not matter_ids:
        return []
    config = config or RiskConfig.default()
    now = now or datetime.now(UTC)
    members, own = await load_matter_facts(session, matter_ids)
    wanted = {r for ids in members.values() for r in ids}
    if known is not None and wanted <= set(known[1]):
        base = known[0]
    else:
        base, _, _ = await load_fact_base(session, wanted)
    existing = await _existing(session, TargetKind.MATTER, matter_ids)
    regions = await _regions(session, Matter, matter_ids)
    alerts: list[RiskAlert] = []
    grades = _Grades(now)
    for matter_id in sorted(regions):
        facts = _matter_facts(base, matter_id, members[matter_id], own[matter_id])
        result = assess(facts, config.rules)
        region = regions[matter_id]
        level, before = grades.store(existing.get(matter_id), facts, result, region)
        if is_rise_to(config.alert_level, before, level):
            kinds = frozenset(r.kind for r in facts.subject)
            alerts.append(RiskAlert(TargetKind.MATTER, matter_id, level, before,
                                    region, kinds, now))  # fmt: skip
    await grades.write(session)
    await session.flush()
    return alerts


def _matter_facts(
    base: FactBase, matter_id: int, record_ids: Collection[int], own: MatterFacts
) -> RiskFacts:
    subject: dict[int, RecordFacts] = {}
    history: dict[int, RecordFacts] = {}
    for record_id in record_ids:
        if record_id not in base.records:  # withdrawn at the source
            continue
        facts = _record_facts(base, record_id)
        subject.update((r.record_id, r) for r in facts.subject)
        history.update((r.record_id, r) for r in facts.history)
    for record_id in subject:
        history.pop(record_id, None)
    return RiskFacts(
        TargetKind.MATTER, matter_id, tuple(subject[r] for r in sorted(subject)),
        tuple(history[r] for r in sorted(history)), matter=own,
    )  # fmt: skip


async def _regions(
    session: AsyncSession, model: type[Matter] | type[Person], ids: Collection[int]
) -> dict[int, str | None]:
    """The region code of each of ``ids`` (matters or persons) that exists."""
    regions: dict[int, str | None] = {}
    for chunk in chunks(ids):
        regions.update(
            (row_id, region)
            for row_id, region in await session.execute(
                select(model.id, model.region_code).where(in_list(model.id.expression, "ids")),
                {"ids": chunk},
            )
        )
    return regions


async def _grade_persons(
    session: AsyncSession, base: FactBase, persons: Collection[int], config: RiskConfig,
    now: datetime,
) -> list[RiskAlert]:  # fmt: skip
    alerts: list[RiskAlert] = []
    existing = await _existing(session, TargetKind.PERSON, persons)
    regions = await _regions(session, Person, persons)
    grades = _Grades(now)
    for person_id in sorted(persons):
        facts = _person_facts(base, person_id)
        if not facts.subject and person_id not in existing:
            continue
        result = assess(facts, config.rules)
        region = regions.get(person_id)
        level, before = grades.store(existing.get(person_id), facts, result, region)
        if is_rise_to(config.alert_level, before, level):
            kinds = frozenset(r.kind for r in facts.subject)
            reach = frozenset((r.kind, base.region_of.get(r.record_id)) for r in facts.subject)
            alerts.append(RiskAlert(TargetKind.PERSON, person_id, level, before,
                                    region, kinds, now, reach))  # fmt: skip
    await grades.write(session)
    return alerts


def assessments_of(target: TargetKind, ids: Collection[int]) -> Select[Any]:
    """The stored grades of ``ids`` (a Core select, for the loaders)."""
    table = RiskAssessment.__table__
    return select(table).where(
        table.c.target_kind == target.value, table.c.target_id.in_(sorted(set(ids)))
    )


def refs_in_scope(refs: Collection[str], scope: RecordScope) -> Select[Any]:
    """Of ``refs`` (``SOURCE/source_key``), the records ``scope`` admits: (source, source_key)."""
    by_source: dict[str, list[str]] = {}
    for ref in refs:
        source, _, key = ref.partition("/")
        by_source.setdefault(source, []).append(key)
    table = Record.__table__
    wanted = [
        and_(table.c.source == source, table.c.source_key.in_(sorted(keys)))
        for source, keys in sorted(by_source.items())
    ]
    return select(table.c.source, table.c.source_key).where(
        or_(*wanted) if wanted else false(), *scope_conditions(scope)
    )


class GradeNotFound(LookupError):
    """No grade is stored for that target (it has not been assessed yet)."""


async def override_grade(
    session: AsyncSession,
    target: TargetKind,
    target_id: int,
    level: RiskLevel,
    *,
    reason: str,
    by: str,
    now: datetime | None = None,
) -> RiskAssessment:
    """Set the shown grade by hand until the target's facts change (人工调整); logged.

    Under the grading lock, as a grading pass: a pass that read the grade before the override
    would otherwise write its computed level over the one staff just set."""
    async with grading_lock(session):
        return await _override(session, target, target_id, level, reason, by, now)


async def _override(
    session: AsyncSession, target: TargetKind, target_id: int, level: RiskLevel, reason: str,
    by: str, now: datetime | None,
) -> RiskAssessment:  # fmt: skip
    now = now or datetime.now(UTC)
    row = await session.scalar(
        select(RiskAssessment).where(
            RiskAssessment.target_kind == target, RiskAssessment.target_id == target_id
        )
    )
    if row is None:
        raise GradeNotFound(f"{target.value} {target_id} has no grade yet")
    before = row.effective_level
    # free text staff typed: an ID number or phone in it is kept masked, as in a matter's note
    row.override_level, row.override_reason, row.overridden_by = level, mask_text(reason), by
    row.overridden_at, row.override_fingerprint = now, row.facts_fingerprint
    row.effective_level = level
    if level != before:
        session.add(RiskGradeChange(
            target_kind=target, target_id=target_id, from_level=before, to_level=level,
            cause=OVERRIDDEN, changed_by=by, changed_at=now,
        ))  # fmt: skip
    if target is TargetKind.RECORD:
        await session.execute(
            update(Record).where(Record.id == target_id).values(risk_level=level)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        records = [target_id]
    elif target is TargetKind.MATTER:
        records = sorted(set(await session.scalars(
            select(MatterRecord.record_id).where(MatterRecord.matter_id == target_id)
        )))  # fmt: skip
    else:
        records = sorted(set(await session.scalars(
            select(PartyMention.record_id).where(PartyMention.person_id == target_id)
        )))  # fmt: skip
    # the reason is free text (it may name people): kept on the grade, not in the audit log
    variables = {"target": target.value, "id": target_id, "level": level.value}
    await audit_decision(session, "overrideRiskGrade", by, variables, records)
    await session.flush()
    return row
