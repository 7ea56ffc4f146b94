"""Scoring stored grades against a truth file, on both databases."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from db.risk_eval import evaluate_risk
from domain.enums import RiskLevel
from tests.integration.test_risk_storage import T0, alert, ingest_and_grade


def _truth(*records: tuple[str, str], risk: list[dict[str, str]]) -> dict[str, object]:
    return {
        "records": [{"system": "POLICE_110", "key": key, "matter": matter, "storyline": "s",
                     "parties": []} for key, matter in records],
        "risk": risk,
    }  # fmt: skip


async def test_precision_recall_confusion_and_delay_per_matter(session: AsyncSession) -> None:
    # given three calls from one home (RED), a threat (YELLOW), a calm call and a missed one
    await ingest_and_grade(session, *(alert(f"J{i}", 10 * i) for i in range(1, 4)))
    threat = replace(alert("T1", 300, story="扬言要打她"), address="别处1号")
    await ingest_and_grade(session, threat)
    await ingest_and_grade(
        session, replace(alert("C1", 500, story="当事人表示不会报复"), address="别处2号")
    )
    await ingest_and_grade(session, replace(alert("X1", 700), address="别处3号"))
    truth = _truth(
        ("J1", "M1"), ("J2", "M1"), ("J3", "M1"), ("T1", "M2"), ("C1", "M3"), ("X1", "M4"),
        risk=[
            {"matter": "M1", "level": "RED", "visibleAt": (T0.replace(day=31)).isoformat()},
            {"matter": "M2", "level": "YELLOW", "visibleAt": "2026-12-26T10:00:00+08:00"},
            {"matter": "M4", "level": "RED", "visibleAt": "2028-01-30T10:00:00+08:00"},
        ],
    )
    # when scored
    result = await evaluate_risk(session, truth)
    # then RED is found once of twice, never wrongly; RED+YELLOW twice of three
    assert (result.red.true_positives, result.red.predicted, result.red.actual) == (1, 1, 2)
    assert (result.red.precision, result.red.recall) == (1.0, 0.5)
    assert (result.red_yellow.true_positives, result.red_yellow.predicted) == (2, 2)
    assert result.confusion[(RiskLevel.NONE, RiskLevel.NONE)] == 1  # the calm call
    assert result.confusion[(RiskLevel.RED, RiskLevel.NONE)] == 1  # the miss
    assert [m[0] for m in result.misses] == ["M4"]
    # and the RED home became visible with its third call on 3-31, which the rule cites
    assert result.delays == [0, 0]
