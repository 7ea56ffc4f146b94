"""The closed loop meets write-back, on both databases: a dispatch over GraphQL enqueues its
write in the step's transaction (a CONFLICT enqueues nothing), the relay applies it at the
sandbox exactly once (its own ledger says so), and the matter shows the write's state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Text, insert, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.writeback.relay import OutboxRelay, open_writers
from db.engine import session_factory
from db.models import Matter, MatterEvent, MatterRecord, OutboxMessage, Record
from db.outbox import Aggregate, enqueue_write
from domain.calendar import to_local
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.writeback import WriteOperation, WriteState, writeback_reference
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.graphql_world import graphql, graphql_client
from tests.integration.sandbox_support import control, sources_for
from tests.integration.test_graphql_matters import (
    ID_NUMBER,
    MEDIATION_ORG,
    MEDIATOR,
    MUTATION_ADMIT,
    MUTATION_ASSESS,
    MUTATION_VERIFY,
    RESULT,
    STAFF,
    _do,
    _open,
)
from tests.integration.writeback_support import FAST, drain, ledger, live_keys

DISPATCH = f"""
mutation($id: ID!, $org: String!, $track: DispatchTrack!, $v: Int) {{
  dispatchMatter(id: $id, input: {{org: $org, track: $track}}, expectedVersion: $v)
  {{ {RESULT} }} }}
"""
REPORT_RESULT = f"""
mutation($id: ID!, $note: String! = "双方和解") {{
  reportMatterResult(id: $id, input: {{result: RESOLVED, note: $note}}) {{ {RESULT} }} }}
"""
SEND_BACK = f"""
mutation($id: ID!) {{ sendBackMatter(id: $id, reason: "未见调解协议") {{ {RESULT} }} }}
"""
WRITEBACKS = """
query($id: ID!) { matter(id: $id) { number
  writebacks { system operation reference state attempts targetRef lastErrorCode updatedAt } } }
"""


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key, role=None, scan_deadlines=False) as c:
        yield c


@pytest.fixture
def sessions(committing_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(committing_engine)


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def writebacks(client: httpx.AsyncClient, gid: str, who: dict[str, str]
                     ) -> list[dict[str, Any]]:
    body = await graphql(client, WRITEBACKS, {"id": gid}, headers=who)
    assert body.get("errors") is None, body
    return list(body["data"]["matter"]["writebacks"])


async def assessed(client: httpx.AsyncClient) -> str:
    gid = await _open(client)
    await _do(client, MUTATION_ADMIT, STAFF, id=gid, v=1)
    await _do(client, MUTATION_ASSESS, STAFF, id=gid)
    return gid


async def test_a_dispatch_enqueues_one_write_and_a_conflicting_one_none(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
) -> None:
    gid = await assessed(client)
    args = {"id": gid, "org": MEDIATION_ORG, "track": "PEOPLES_MEDIATION"}

    # a dispatch on a stale version is refused, and leaves no write behind
    stale = await _do(client, DISPATCH, STAFF, **args, v=1)
    assert stale["code"] == "CONFLICT"
    assert await outbox(sessions) == []

    # the dispatch enqueues exactly one referral to the mediation platform
    done = await _do(client, DISPATCH, STAFF, **args, v=3)
    number = done["matter"]["number"]
    (row,) = await outbox(sessions)
    assert (row.target, row.operation, row.status) == (
        SourceSystem.MEDIATION, "mediation.referral", WriteState.PENDING)
    assert (row.aggregate_type, row.aggregate_id) == ("matter", number)
    assert row.idempotency_key == f"{number}-4-MEDI"
    assert row.payload["summary"] == "楼上漏水" and row.payload["matterNo"] == number
    assert row.payload["parties"][0]["idCard"] == ID_NUMBER  # opened for the target only
    async with sessions() as session:  # … and stored sealed
        raw = await session.scalar(select(type_coerce(OutboxMessage.payload, Text)))
    assert ID_NUMBER not in str(raw) and "楼上漏水" not in str(raw)

    # the same mutation retried: CONFLICT again, still one write
    again = await _do(client, DISPATCH, STAFF, **args, v=3)
    assert again["code"] == "CONFLICT"
    assert len(await outbox(sessions)) == 1

    # staff and the department it went to both see the write on the matter
    for who in (STAFF, MEDIATOR):
        (shown,) = await writebacks(client, gid, who)
        assert shown | {"updatedAt": None} == {
            "system": "MEDIATION", "operation": "mediation.referral",
            "reference": f"{number}-4-MEDI", "state": "PENDING", "attempts": 0,
            "targetRef": None, "lastErrorCode": None, "updatedAt": None,
        }  # fmt: skip


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(base_port=0, scale=300, seed=15)) as sandbox:
        yield sandbox


ORIGINS = {SourceSystem.POLICE_110: RecordKind.POLICE_ALERT,
           SourceSystem.PETITION: RecordKind.PETITION, SourceSystem.GRID: RecordKind.GRID_EVENT}


async def from_record(engine: AsyncEngine, source: SourceSystem, key: str) -> None:
    """Make ``source``'s record ``key`` the one the latest matter came from."""
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        record_id = (await connection.execute(insert(Record.__table__).values(
            kind=ORIGINS[source], source=source, source_key=key,
            category=DisputeCategory.NEIGHBOUR, title="邻里噪音", occurred_at=now,
            region_code="411202001", status=CaseStatus.REPORTED, risk_level=RiskLevel.NONE,
            source_status="01", source_updated_at=now, updated_at=now, deleted=False,
        ).returning(Record.__table__.c.id))).scalar_one()
        matter_id = (await connection.execute(
            select(Matter.__table__.c.id).order_by(Matter.__table__.c.id.desc()).limit(1)
        )).scalar_one()
        await connection.execute(insert(MatterRecord.__table__).values(
            matter_id=matter_id, record_id=record_id, how="ORIGIN", attached_by="test",
            attached_at=now))


CASES = (  # where the matter came from, the track it is dispatched into, what both write
    (SourceSystem.POLICE_110, "PRE_FILING_MEDIATION", ("court.filing", "police.feedback")),
    (SourceSystem.PETITION, "PEOPLES_MEDIATION", ("mediation.referral", "petition.result")),
    (SourceSystem.GRID, "GRID", ("grid.assign", "grid.feedback")),
)


async def test_the_relay_applies_each_dispatch_and_result_exactly_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], sb: Sandbox,
    committing_engine: AsyncEngine,
) -> None:
    # given three matters, from a 110 alert, a petition and a grid event, each dispatched
    # into a track with its own system and resolved there
    matters: dict[SourceSystem, str] = {}
    for source, track, _ in CASES:
        gid = await assessed(client)
        await from_record(committing_engine, source, live_keys(sb, source)[0])
        await _do(client, DISPATCH, STAFF, id=gid, org=MEDIATION_ORG, track=track)
        await _do(client, REPORT_RESULT, MEDIATOR, id=gid)
        await _do(client, MUTATION_VERIFY, STAFF, id=gid)
        matters[source] = gid
    rows = await outbox(sessions)
    assert [r.operation for r in rows] == [op for *_, ops in CASES for op in ops]
    police = rows[1]
    assert police.payload["JJDBH"] == live_keys(sb, SourceSystem.POLICE_110)[0]
    assert police.payload["CLJG"] == "化解成功：双方和解"

    # when the relay delivers them, answers lost after applying and 5xx on every system
    for target in SourceSystem:
        await control(sb, target, write_lost_rate=0.4, write_error_rate=0.2)
    async with open_writers(sources_for(sb, timeout=0.5, attempts=3)) as writers:
        await drain(sessions, OutboxRelay(sessions, writers, FAST))

    # then each system applied each of its writes once, by the sandbox's own ledger
    for target in SourceSystem:
        book = await ledger(sb, target)
        expected = [r.idempotency_key for r in rows if r.target is target]
        if target is SourceSystem.PETITION:  # its ledger is keyed by the 信访件编号
            expected = [live_keys(sb, SourceSystem.PETITION)[0]]
        assert book["references"] == dict.fromkeys(expected, 1), target
        assert book["duplicates"] == 0, target
    # and each matter shows its writes settled, the targets' own ids where they give one
    for source, _, operations in CASES:
        shown = await writebacks(client, matters[source], STAFF)
        assert [w["operation"] for w in shown] == list(operations)
        assert [w["state"] for w in shown] == [
            "SENT" if w["operation"] == "grid.feedback" else "CONFIRMED" for w in shown]
        assert all(w["targetRef"] for w in shown if w["state"] == "CONFIRMED")


async def test_a_result_sent_back_and_reported_again_is_written_back_once_when_verified(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    committing_engine: AsyncEngine,
) -> None:
    # given a matter from a 110 alert, dispatched to a mediation committee
    gid = await assessed(client)
    await from_record(committing_engine, SourceSystem.POLICE_110, "J4112022026000001")
    await _do(client, DISPATCH, STAFF, id=gid, org=MEDIATION_ORG, track="PEOPLES_MEDIATION")
    # when the committee reports a result, staff send it back (退回 at 核查), the committee
    # reports again, and staff verify that one
    await _do(client, REPORT_RESULT, MEDIATOR, id=gid, note="口头和解")
    assert [r.operation for r in await outbox(sessions)] == ["mediation.referral"]
    back = await _do(client, SEND_BACK, STAFF, id=gid)
    assert back["matter"]["step"] == "IN_PROGRESS"
    await _do(client, REPORT_RESULT, MEDIATOR, id=gid, note="已签调解协议")
    assert [r.operation for r in await outbox(sessions)] == ["mediation.referral"]
    verified = await _do(client, MUTATION_VERIFY, STAFF, id=gid)
    # then the 110 system is sent the accepted result once, at the verification's version
    referral, feedback = await outbox(sessions)
    assert (referral.operation, feedback.operation) == ("mediation.referral", "police.feedback")
    assert feedback.payload["JJDBH"] == "J4112022026000001"
    assert feedback.payload["CLJG"] == "化解成功：已签调解协议"
    async with sessions() as session:  # 反馈时间: when the accepted result was reported
        reported_at = await session.scalar(
            select(MatterEvent.at).where(MatterEvent.action == "REPORT_RESULT")
            .order_by(MatterEvent.id.desc()).limit(1))
    assert reported_at is not None
    assert feedback.payload["FKSJ"] == to_local(reported_at).strftime("%Y-%m-%d %H:%M:%S")
    number, version = verified["matter"]["number"], verified["matter"]["version"]
    assert feedback.idempotency_key == f"{number}-{version}-POLI"


async def test_a_result_the_release_before_wrote_at_its_report_is_not_written_again_at_verify(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    committing_engine: AsyncEngine,
) -> None:
    # given a matter from a 110 alert at 反馈 when the upgrade lands: the release before
    # wrote its result to the 110 system at the report, with the report's reference
    gid = await assessed(client)
    await from_record(committing_engine, SourceSystem.POLICE_110, "J4112022026000002")
    await _do(client, DISPATCH, STAFF, id=gid, org=MEDIATION_ORG, track="PEOPLES_MEDIATION")
    reported = await _do(client, REPORT_RESULT, MEDIATOR, id=gid, note="已签调解协议")
    number, version = reported["matter"]["number"], reported["matter"]["version"]
    async with sessions.begin() as session:
        await enqueue_write(
            session, WriteOperation.POLICE_FEEDBACK,
            {"JJDBH": "J4112022026000002", "CLJG": "化解成功：已签调解协议"},
            writeback_reference(number, version, WriteOperation.POLICE_FEEDBACK),
            aggregate=Aggregate("matter", number))
    # when staff verify it under this release
    await _do(client, MUTATION_VERIFY, STAFF, id=gid)
    # then the 110 system is not sent the result a second time
    rows = await outbox(sessions)
    assert [(r.operation, r.idempotency_key) for r in rows] == [
        ("mediation.referral", f"{number}-4-MEDI"),
        ("police.feedback", f"{number}-{version}-POLI"),
    ]


async def test_a_result_written_before_a_send_back_does_not_stop_the_accepted_one(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    committing_engine: AsyncEngine,
) -> None:
    # given a matter whose first result the release before wrote at its report, then sent
    # back (退回) and reported again under this release
    gid = await assessed(client)
    await from_record(committing_engine, SourceSystem.POLICE_110, "J4112022026000003")
    await _do(client, DISPATCH, STAFF, id=gid, org=MEDIATION_ORG, track="PEOPLES_MEDIATION")
    first = await _do(client, REPORT_RESULT, MEDIATOR, id=gid, note="口头和解")
    number, version = first["matter"]["number"], first["matter"]["version"]
    async with sessions.begin() as session:
        await enqueue_write(
            session, WriteOperation.POLICE_FEEDBACK, {"JJDBH": "J4112022026000003"},
            writeback_reference(number, version, WriteOperation.POLICE_FEEDBACK),
            aggregate=Aggregate("matter", number))
    await _do(client, SEND_BACK, STAFF, id=gid)
    await _do(client, REPORT_RESULT, MEDIATOR, id=gid, note="已签调解协议")
    # when staff verify the second
    verified = await _do(client, MUTATION_VERIFY, STAFF, id=gid)
    # then the accepted result is written: the earlier row was for the result sent back
    *_, feedback = await outbox(sessions)
    assert feedback.idempotency_key == f"{number}-{verified['matter']['version']}-POLI"
    assert feedback.payload["CLJG"] == "化解成功：已签调解协议"
