"""A record's content digest (``ParsedRecord.content_hash``): what changes it, what does not,
and that a record stored with the earlier hexadecimal digest is still known unchanged."""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import CaseStatus, PartyRole, SourceSystem
from domain.records import LEGACY_DIGEST_LENGTH, ParsedParty, ParsedRecord

T0 = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def _record(**changes: object) -> ParsedRecord:
    record = ParsedRecord(
        source=SourceSystem.MEDIATION,
        source_key="TJ-2026-0001",
        source_updated_at=T0,
        raw={"caseNo": "TJ-2026-0001", "当事人": "王小明"},
        title="王小明与李四邻里纠纷",
        occurred_at=T0 - timedelta(days=2),
        region_code="411202001001",
        status=CaseStatus.ACCEPTED,
        fields={"mediator": "赵调解", "amount": 1200.5, "agreed_on": T0.date()},
        parties=[
            ParsedParty(role=PartyRole.APPLICANT, name="王小明", phone="13812345678"),
            ParsedParty(role=PartyRole.RESPONDENT, name="某某物业公司", is_organisation=True),
        ],
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def test_a_digest_is_43_characters_of_url_safe_base64_and_repeats() -> None:
    digest = _record().content_hash()
    assert len(digest) == 43 and set(digest) <= set(string.ascii_letters + string.digits + "-_")
    assert _record().content_hash() == digest


def test_the_raw_payload_is_not_content() -> None:  # a source's drifted extra field
    assert _record(raw={"caseNo": "TJ-2026-0001", "new": 1}).content_hash() == (
        _record().content_hash()
    )


def _party(**changes: object) -> list[ParsedParty]:
    parties = _record().parties
    return [dataclasses.replace(parties[0], **changes), parties[1]]  # type: ignore[arg-type]


CHANGES: dict[str, Callable[[], ParsedRecord]] = {
    "title": lambda: _record(title="王小明与李四相邻纠纷"),
    "updated at": lambda: _record(source_updated_at=T0 + timedelta(seconds=1)),
    "deleted": lambda: _record(deleted=True),
    "status": lambda: _record(status=CaseStatus.CLOSED),
    "summary set": lambda: _record(summary=""),
    "a field": lambda: _record(fields=_record().fields | {"amount": 1200.51}),
    "a field's name": lambda: _record(fields={"mediator2": "赵调解", "amount": 1200.5}),
    "a party's phone": lambda: _record(parties=_party(phone="13812345679")),
    "a party's role": lambda: _record(parties=_party(role=PartyRole.RESPONDENT)),
    "parties' order": lambda: _record(parties=list(reversed(_record().parties))),
    "a party fewer": lambda: _record(parties=_record().parties[:1]),
    "a huge number": lambda: _record(fields={"n": 10**30}),  # beyond orjson: the standard path
    "NaN": lambda: _record(fields=_record().fields | {"amount": float("nan")}),
    "None": lambda: _record(fields=_record().fields | {"amount": None}),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_of_content_changes_the_digest(change: str) -> None:
    digests = {name: make().content_hash() for name, make in CHANGES.items()}
    assert digests[change] != _record().content_hash()
    assert list(digests.values()).count(digests[change]) == 1


def test_a_record_stored_with_the_earlier_digest_holds_its_content() -> None:
    record = _record()
    legacy = record.legacy_content_hash()
    assert len(legacy) == LEGACY_DIGEST_LENGTH and legacy != record.content_hash()
    digest = record.content_hash()
    assert record.holds_content(digest, digest)
    assert record.holds_content(legacy, digest)  # stored before the digest was base64
    changed = _record(title="另一个标题")
    assert not changed.holds_content(legacy, changed.content_hash())
    assert not changed.holds_content(digest, changed.content_hash())
    assert not record.holds_content(None, digest)
    assert not record.holds_content("0" * LEGACY_DIGEST_LENGTH, digest)
