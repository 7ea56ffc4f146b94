"""Measuring risk grading against a sandbox world's ground truth (风险研判质量评估).

Scored per matter (storyline): the truth is the grade a careful analyst gives it
(``truth["risk"]``, NONE when unlisted); govhub's is the highest grade shown on the matter's
stored records. Precision and recall are given for RED and for RED+YELLOW together, with the
confusion of truth and prediction. The detection delay of a matter found at its true level is
the days between its becoming visible in the sources (``visibleAt``) and the latest record
the deciding rule cites: how long after the deciding record arrived govhub could raise it,
had every source synced at once.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Record, RiskAssessment
from db.risk_facts import chunks
from domain.enums import RiskLevel
from domain.risk import TargetKind, highest, level_rank


@dataclass(frozen=True, slots=True)
class LevelScore:
    true_positives: int
    predicted: int
    actual: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.actual if self.actual else 1.0


@dataclass(frozen=True, slots=True)
class RiskEvaluation:
    matters: int
    red: LevelScore
    red_yellow: LevelScore
    confusion: dict[tuple[RiskLevel, RiskLevel], int]
    """(truth, predicted) → matters."""
    delays: list[int]
    """Detection delay in days of each matter found at its true level (RED or YELLOW)."""
    misses: list[tuple[str, str, RiskLevel, RiskLevel]]
    """(matter, storyline, truth, predicted) where they disagree on RED or RED+YELLOW."""

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None


def _score(
    truth: dict[str, RiskLevel], predicted: dict[str, RiskLevel], at: RiskLevel
) -> LevelScore:
    rank = level_rank(at)
    actual = {m for m, level in truth.items() if level_rank(level) >= rank}
    found = {m for m, level in predicted.items() if level_rank(level) >= rank}
    return LevelScore(len(actual & found), len(found), len(actual))


def _latest_cited(rules: list[dict[str, Any]], at: RiskLevel) -> date | None:
    """The latest date the earliest-deciding rule at ``at`` or above cites."""
    days = [
        max(date.fromisoformat(d) for d in rule["evidence"]["dates"])
        for rule in rules
        if level_rank(RiskLevel(rule["level"])) >= level_rank(at)
        and rule.get("evidence", {}).get("dates")
    ]
    return min(days) if days else None


async def evaluate_risk(
    session: AsyncSession, truth: dict[str, Any], *, complete_only: bool = False
) -> RiskEvaluation:
    """Score what the database holds now against ``truth`` (``sandbox.world.write_truth``).

    With ``complete_only`` only matters whose every record is stored count: what the grading
    does with what it was given, apart from what a failing source never delivered.
    """
    matter_of = {(r["system"], r["key"]): r["matter"] for r in truth["records"]}
    storyline = {r["matter"]: r["storyline"] for r in truth["records"]}
    listed = {r["matter"]: r for r in truth.get("risk", [])}
    records: dict[int, str] = {}
    shown: dict[str, list[RiskLevel]] = {}
    for rid, source, key, level in await session.execute(
        select(Record.id, Record.source, Record.source_key, Record.risk_level).where(
            Record.deleted.is_(False)
        )
    ):
        matter = matter_of.get((source.value, key))
        if matter is not None:
            records[rid] = matter
            shown.setdefault(matter, []).append(level)
    if complete_only:
        expected = Counter(matter_of.values())
        shown = {m: levels for m, levels in shown.items() if len(levels) >= expected[m]}
        records = {rid: m for rid, m in records.items() if m in shown}
    predicted = {matter: highest(levels) for matter, levels in shown.items()}
    actual = {
        matter: RiskLevel(listed[matter]["level"]) if matter in listed else RiskLevel.NONE
        for matter in predicted
    }
    confusion = Counter((actual[m], predicted[m]) for m in predicted)
    grades: dict[int, list[dict[str, Any]]] = {}
    for chunk in chunks(records):
        for rid, rules in await session.execute(
            select(RiskAssessment.target_id, RiskAssessment.rules).where(
                RiskAssessment.target_kind == TargetKind.RECORD,
                RiskAssessment.target_id.in_(chunk),
            )
        ):
            grades[rid] = rules or []
    delays: list[int] = []
    by_matter: dict[str, list[int]] = {}
    for rid, matter in records.items():
        by_matter.setdefault(matter, []).append(rid)
    for matter, level in actual.items():
        if level_rank(level) < level_rank(RiskLevel.YELLOW) or level_rank(
            predicted[matter]
        ) < level_rank(level):
            continue
        cited = [_latest_cited(grades.get(rid, []), level) for rid in by_matter[matter]]
        days = [d for d in cited if d is not None]
        if days:
            visible = datetime.fromisoformat(listed[matter]["visibleAt"]).date()
            delays.append((min(days) - visible).days)
    misses = sorted(
        (m, storyline.get(m, ""), actual[m], predicted[m])
        for m in predicted
        if (actual[m] is RiskLevel.RED) != (predicted[m] is RiskLevel.RED)
        or (level_rank(actual[m]) >= 2) != (level_rank(predicted[m]) >= 2)
    )
    return RiskEvaluation(
        matters=len(predicted),
        red=_score(actual, predicted, RiskLevel.RED),
        red_yellow=_score(actual, predicted, RiskLevel.YELLOW),
        confusion=dict(confusion),
        delays=delays,
        misses=misses,
    )
