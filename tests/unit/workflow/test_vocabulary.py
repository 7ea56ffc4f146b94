"""The loop's vocabulary: every word has its Chinese term, and steps map onto CaseStatus."""

from __future__ import annotations

import pytest

from domain.enums import CaseStatus, RecordKind
from domain.workflow.vocabulary import LABELS, MatterOrigin, MatterStep, label, status_of

S = MatterStep


def test_every_member_of_every_vocabulary_has_a_chinese_label() -> None:
    for enum, labels in LABELS.items():
        assert set(labels) == {m.value for m in enum}, enum.__name__
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in labels.values())
    assert label(S.CLOSED) == "已结案"


def test_origins_include_every_record_kind() -> None:
    assert {k.value for k in RecordKind} <= {o.value for o in MatterOrigin}


@pytest.mark.parametrize(
    ("step", "result", "status"),
    [
        (S.REGISTERED, None, CaseStatus.REPORTED),
        (S.ACCEPTED, None, CaseStatus.ACCEPTED),
        (S.ASSESSED, None, CaseStatus.ASSESSED),
        (S.RETURNED, None, CaseStatus.ASSESSED),
        (S.DISPATCHED, None, CaseStatus.DISPATCHED),
        (S.IN_PROGRESS, None, CaseStatus.IN_PROGRESS),
        (S.FED_BACK, CaseStatus.RESOLVED, CaseStatus.RESOLVED),
        (S.FED_BACK, CaseStatus.FAILED, CaseStatus.FAILED),
        (S.VERIFIED, CaseStatus.RESOLVED, CaseStatus.RESOLVED),
        (S.VERIFIED, None, CaseStatus.IN_PROGRESS),
        (S.CLOSED, CaseStatus.RESOLVED, CaseStatus.CLOSED),
        (S.REVISITED, None, CaseStatus.REVISITED),
        (S.WITHDRAWN, None, CaseStatus.WITHDRAWN),
    ],
)
def test_status_of_each_step(
    step: MatterStep, result: CaseStatus | None, status: CaseStatus
) -> None:
    assert status_of(step, result) is status
