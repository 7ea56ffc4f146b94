"""No plaintext ID number or phone reaches the raw tables, on either database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Dispute, PartyMention, Person
from db.pii import blind_index
from domain.enums import CaseStatus, DisputeCategory, PartyRole, RecordKind, SourceSystem

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


async def _insert_dispute(session: AsyncSession) -> Dispute:
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    dispute = Dispute(
        kind=RecordKind.DISPUTE,
        source=SourceSystem.MEDIATION,
        source_key="TJ-2026-0001",
        category=DisputeCategory.NEIGHBOUR,
        title="邻里漏水纠纷",
        occurred_at=now,
        status=CaseStatus.ACCEPTED,
        source_updated_at=now,
        mediator="李调解",
        raw={"caseNo": "TJ-2026-0001", "parties": [{"idNo": ID_NUMBER, "mobile": PHONE}]},
    )
    session.add(dispute)
    await session.flush()
    session.add(
        PartyMention(
            record_id=dispute.id,
            position=0,
            role=PartyRole.APPLICANT,
            name="王小明",
            id_number=ID_NUMBER,
            phone=PHONE,
        )
    )
    session.add(Person(name="王小明", id_number=ID_NUMBER, phone=PHONE))
    await session.flush()
    return dispute


async def test_raw_tables_hold_no_plaintext_identifiers(session: AsyncSession) -> None:
    # given a dispute whose party and raw payload carry an ID number and a phone
    await _insert_dispute(session)
    # when every table is read raw, bypassing the ORM's decryption
    dumped: list[str] = []
    for table in ("records", "disputes", "party_mentions", "persons"):
        rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608 -- fixed names
        dumped.extend(str(value) for row in rows for value in row)
    raw_text = "\n".join(dumped)
    # then neither identifier appears, not even without its check character
    assert ID_NUMBER not in raw_text
    assert ID_NUMBER[:17] not in raw_text
    assert PHONE not in raw_text
    assert "王小明" in raw_text  # the dump did read the rows


async def test_sealed_values_round_trip_and_match_by_blind_index(session: AsyncSession) -> None:
    # given a stored party mention
    await _insert_dispute(session)
    session.expunge_all()
    # when it is found through the blind index of its ID number
    mention = await session.scalar(
        select(PartyMention).where(
            PartyMention.id_number_index == blind_index("id_number", ID_NUMBER)
        )
    )
    # then the ORM hands back the plaintext and the phone's index matches too
    assert mention is not None
    assert mention.id_number == ID_NUMBER
    assert mention.phone == PHONE
    assert mention.phone_index == blind_index("phone", PHONE)
    assert blind_index("phone", "13800000000") != mention.phone_index
