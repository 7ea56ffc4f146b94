"""Write-back vocabulary: every operation has a target, backoff grows and stays bounded."""

from __future__ import annotations

import random
import re
from pathlib import Path

from connectors.errors import (
    BreakerOpen,
    SourceRateLimited,
    SourceRequestRejected,
    SourceServerError,
    SourceTimeout,
)
from connectors.writeback.relay import WRITER_MODULES, error_code
from domain.enums import SourceSystem
from domain.writeback import (
    OPERATION_TARGETS,
    DeliveryPolicy,
    WriteOperation,
    writeback_reference,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_operation_has_a_target_and_every_target_a_writer() -> None:
    assert set(OPERATION_TARGETS) == set(WriteOperation)
    assert {op.target for op in WriteOperation} == set(SourceSystem) == set(WRITER_MODULES)


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    policy = DeliveryPolicy(initial_backoff=2.0, max_backoff=60.0)
    rng = random.Random(1)
    waits = [policy.backoff(attempt, rng) for attempt in range(1, 10)]

    assert 1.0 <= waits[0] <= 2.0 and 2.0 <= waits[1] <= 4.0
    assert all(30.0 <= w <= 60.0 for w in waits[6:])


def test_error_codes_name_what_went_wrong() -> None:
    court = SourceSystem.COURT
    assert error_code(SourceTimeout(court, "t")) == "TIMEOUT"
    assert error_code(SourceServerError(court, "5xx")) == "SERVER_ERROR"
    assert error_code(SourceRateLimited(court, "429", 1.0)) == "RATE_LIMITED"
    assert error_code(SourceRequestRejected(court, "400")) == "REJECTED"
    assert error_code(BreakerOpen(court, 3.0)) == "BREAKER_OPEN"


def test_a_dispatch_reaches_the_system_of_its_track_with_a_stable_reference() -> None:
    from domain.writeback import dispatch_operation, writeback_reference

    assert dispatch_operation("PRE_FILING_MEDIATION") is WriteOperation.COURT_FILING
    assert dispatch_operation("PEOPLES_MEDIATION") is WriteOperation.MEDIATION_REFERRAL
    assert dispatch_operation("DEPARTMENT") is None
    reference = writeback_reference("MD20260001", 3, WriteOperation.COURT_FILING)
    assert reference == writeback_reference("MD20260001", 3, WriteOperation.COURT_FILING)
    assert reference == "MD20260001-3-COUR"


def test_the_readme_names_the_reference_suffix_every_target_gets() -> None:
    # given the suffix the code stamps for each target
    suffixes = {writeback_reference("M1", 2, op).removeprefix("M1-2") for op in WriteOperation}
    # when the README describes the reference
    text = " ".join(README.read_text(encoding="utf-8").split())
    described = re.search(r"The reference is `<number>-<new version>-([^`]*)` \(([^)]*)\)", text)
    # then it lists exactly those suffixes
    assert described is not None, "README no longer describes the write-back reference"
    assert set(re.findall(r"`(-[A-Z]+)`", described.group(2))) == suffixes
