"""``viewer`` and the administrator's 同步与运维 over GraphQL: the menu each role's policy
gives, dead letters with 重放, the write-back backlog with 重试 and 撤销 — admin only, every
call on the audit chain; and ``matters(filter: {supervised: true})``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.models import AuditEntry
from db.outbox import Aggregate, enqueue_write
from db.regions import seed_regions
from domain.roles import POLICIES, ConsolePage, Role, console_pages
from domain.writeback import WriteOperation
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.graphql_world import codes, graphql, graphql_client, seed_sync

QUERY_VIEWER = "query Me { viewer { principal role regions rights mutations menu } }"
QUERY_DEAD_LETTERS = """query Dead($after: String) { deadLetters(first: 1, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id source errorCode reason attempts receivedAt resolvedAt } } }"""
QUERY_BACKLOG = """query Backlog { writebackBacklog { target oldestOpenSeconds
  states { state count } open { id reference state attempts lastErrorCode } } }"""
MUTATION_RETRY = "mutation R($id: Int!) { retryWriteBack(id: $id) { changed writeBack { state } } }"
MUTATION_CANCEL = """mutation C($id: Int!) {
  cancelWriteBack(id: $id) { changed writeBack { state } } }"""
MUTATION_REPLAY = """mutation P($id: Int!) {
  replayDeadLetter(id: $id) { ingested letter { attempts errorCode resolvedAt } } }"""


def test_each_role_gets_the_menu_its_policy_gives() -> None:
    menus = {role: console_pages(policy) for role, policy in POLICIES.items()}
    assert menus[Role.AUDITOR] == (ConsolePage.AUDIT,)
    assert menus[Role.DASHBOARD_VIEWER] == (ConsolePage.DASHBOARD,)
    assert ConsolePage.SYNC in menus[Role.ADMIN] and ConsolePage.AUDIT not in menus[Role.ADMIN]
    assert ConsolePage.INTAKE not in menus[Role.PARTNER_POLICE]
    assert ConsolePage.WORKLIST in menus[Role.PARTNER_POLICE]


async def test_the_viewer_is_who_the_token_names(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with graphql_client(
        committing_engine, pii_key, role=Role.AUDITOR, regions=["411200"]
    ) as client:
        body = await graphql(client, QUERY_VIEWER)
    viewer = body["data"]["viewer"]
    assert viewer["role"] == "auditor" and len(viewer["regions"]) == 1
    assert viewer["menu"] == ["AUDIT"] and viewer["rights"] == ["audit_log"]
    assert viewer["mutations"] == []


@pytest.mark.parametrize(
    ("regions", "named"),
    [
        (["410000"], ["河南省"]),
        (["411200"], ["三门峡市"]),
        (["411202", "510100"], ["湖滨区", "成都市"]),
    ],
    ids=["province", "city", "county-and-city"],
)
async def test_the_viewers_jurisdiction_names_each_region_of_the_token(
    committing_engine: AsyncEngine, pii_key: bytes, regions: list[str], named: list[str]
) -> None:
    # a province's or city's token holds the code's prefix ("41"), not the code itself
    async with session_factory(committing_engine).begin() as session:
        await seed_regions(session)
    async with graphql_client(
        committing_engine, pii_key, role=Role.CENTER_STAFF, regions=regions
    ) as client:
        body = await graphql(client, "query { viewer { jurisdiction { code name } } }")
    jurisdiction = body["data"]["viewer"]["jurisdiction"]
    assert sorted(region["name"] for region in jurisdiction) == sorted(named)
    assert sorted(region["code"] for region in jurisdiction) == sorted(regions)


async def test_an_admin_pages_through_dead_letters_and_replays_one(
    committing_engine: AsyncEngine, pii_key: bytes, tmp_path: Path
) -> None:
    # given two open dead letters of the police source (and one resolved)
    await seed_sync(committing_engine)
    async with Sandbox(SandboxConfig(base_port=0, scale=50, seed=3)) as sb:
        sources = tmp_path / "sources.toml"
        sources.write_text(render_sources_file(sb.urls, sb.credentials), encoding="utf-8")
        async with graphql_client(committing_engine, pii_key, sources_file=sources,
                                  schedule_sync=False) as client:  # fmt: skip
            first = await graphql(client, QUERY_DEAD_LETTERS)
            after = first["data"]["deadLetters"]["pageInfo"]["endCursor"]
            second = await graphql(client, QUERY_DEAD_LETTERS, {"after": after})
            newest = first["data"]["deadLetters"]["nodes"][0]
            # when the admin replays the newest: its payload still does not parse
            replayed = await graphql(client, MUTATION_REPLAY, {"id": newest["id"]})
        async with graphql_client(committing_engine, pii_key, role=Role.CENTER_STAFF) as client:
            refused = await graphql(client, QUERY_DEAD_LETTERS)
            refused_replay = await graphql(client, MUTATION_REPLAY, {"id": newest["id"]})

    # then two pages of one, newest first, with code, reason and when it came
    assert first["data"]["deadLetters"]["totalCount"] == 2
    assert first["data"]["deadLetters"]["pageInfo"]["hasNextPage"] is True
    assert newest["source"] == "POLICE_110" and newest["errorCode"] == "BAD_ID"
    assert newest["receivedAt"].endswith("+08:00") and newest["resolvedAt"] is None
    assert second["data"]["deadLetters"]["nodes"][0]["id"] < newest["id"]
    outcome = replayed["data"]["replayDeadLetter"]
    assert outcome["ingested"] is False and outcome["letter"]["attempts"] == newest["attempts"] + 1
    assert outcome["letter"]["resolvedAt"] is None
    # centre staff may do neither
    assert codes(refused) == ["FORBIDDEN"] and codes(refused_replay) == ["FORBIDDEN"]
    # and the replay is on the audit chain
    async with session_factory(committing_engine)() as session:
        operations = list(await session.scalars(select(AuditEntry.operation)))
    assert "P" in operations and "Dead" in operations


async def test_without_a_sources_file_a_replay_is_unavailable(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    await seed_sync(committing_engine)
    async with graphql_client(committing_engine, pii_key) as client:
        letters = await graphql(client, QUERY_DEAD_LETTERS)
        letter = letters["data"]["deadLetters"]["nodes"][0]
        body = await graphql(client, MUTATION_REPLAY, {"id": letter["id"]})
        missing = await graphql(client, MUTATION_REPLAY, {"id": 999_999})
    assert codes(body) == ["SERVICE_UNAVAILABLE"]
    assert codes(missing) == ["NOT_FOUND"]


async def test_an_admin_retries_and_cancels_write_backs(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    # given two referrals waiting for the mediation platform
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        for n in (1, 2):
            await enqueue_write(session, WriteOperation.MEDIATION_REFERRAL, {"summary": "委派"},
                                f"M{n}-D1", aggregate=Aggregate("matter", f"M{n}"))  # fmt: skip
    async with graphql_client(committing_engine, pii_key) as client:
        before = (await graphql(client, QUERY_BACKLOG))["data"]["writebackBacklog"]
        [first, second] = before[0]["open"]
        # when one is cancelled, then retried, and a pending one is "retried"
        cancelled = await graphql(client, MUTATION_CANCEL, {"id": first["id"]})
        retried = await graphql(client, MUTATION_RETRY, {"id": first["id"]})
        not_retried = await graphql(client, MUTATION_RETRY, {"id": second["id"]})
        after = (await graphql(client, QUERY_BACKLOG))["data"]["writebackBacklog"]
    async with graphql_client(committing_engine, pii_key, role=Role.CENTER_STAFF) as client:
        refused = await graphql(client, MUTATION_CANCEL, {"id": second["id"]})

    assert before[0]["target"] == "MEDIATION"
    assert before[0]["states"] == [{"state": "PENDING", "count": 2}]
    assert before[0]["oldestOpenSeconds"] >= 0
    assert cancelled["data"]["cancelWriteBack"] == {
        "changed": True, "writeBack": {"state": "CANCELLED"}}  # fmt: skip
    # a retried write is read back before it is sent again
    assert retried["data"]["retryWriteBack"] == {"changed": True, "writeBack": {"state": "UNKNOWN"}}
    assert not_retried["data"]["retryWriteBack"]["changed"] is False
    assert {s["state"]: s["count"] for s in after[0]["states"]} == {"PENDING": 1, "UNKNOWN": 1}
    assert codes(refused) == ["FORBIDDEN"]


async def test_only_roles_with_the_administration_right_reach_the_hubs_deliveries(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    """Every role the policy gives no ``administration`` right is refused each admin field."""
    documents = [
        QUERY_DEAD_LETTERS,
        QUERY_BACKLOG,
        MUTATION_REPLAY,
        MUTATION_RETRY,
        MUTATION_CANCEL,
    ]
    for role, policy in POLICIES.items():
        async with graphql_client(committing_engine, pii_key, role=role) as client:
            answers = [await graphql(client, doc, {"id": 1}) for doc in documents]
        refused = [codes(answer) == ["FORBIDDEN"] for answer in answers]
        assert refused == [not policy.administration] * len(documents), (role, answers)
