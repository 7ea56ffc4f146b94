"""``writebacks`` over GraphQL: operators see delivery states; partner departments do not."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.models import Matter
from db.outbox import Aggregate, claim_due, enqueue_write, settle
from domain.enums import CaseStatus, DisputeCategory, RiskLevel, Role, SourceSystem
from domain.workflow.vocabulary import MatterOrigin, MatterStep
from domain.writeback import WriteOperation, WriteState
from hub.demo import render_sources_file
from hub.metrics import REGISTRY
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.graphql_world import graphql, graphql_client
from tests.integration.test_graphql_matters import (
    INSIDE,
    MEDIATION_ORG,
    MUTATION_ADMIT,
    MUTATION_ASSESS,
    MUTATION_DISPATCH,
    MUTATION_OPEN,
    OUTSIDE,
    headers,
)
from tests.integration.test_worker_metrics import Sample, _sample

QUERY_WRITEBACKS = """
query($states: [WriteBackState!], $matter: String) {
  writebacks(states: $states, matter: $matter) {
    target operation reference matter state attempts targetRef lastErrorCode
  }
}
"""



def _matter(number: str, region: str) -> Matter:
    return Matter(
        number=number, title="物业纠纷", origin=MatterOrigin.WALK_IN,
        category=DisputeCategory.PROPERTY_MGMT, region_code=region, risk=RiskLevel.NONE,
        step=MatterStep.DISPATCHED, status=CaseStatus.DISPATCHED, opened_by="staff-1",
    )  # fmt: skip


@pytest.fixture
async def seeded(committing_engine: AsyncEngine) -> AsyncEngine:
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        session.add_all([_matter("M1", INSIDE), _matter("M2", INSIDE), _matter("M3", OUTSIDE)])
        await enqueue_write(session, WriteOperation.COURT_FILING, {"caseType": "民初"},
                            "M1-D1", aggregate=Aggregate("matter", "M1"))
        await enqueue_write(session, WriteOperation.GRID_ASSIGN, {"content": "核实"}, "M2-D1",
                            aggregate=Aggregate("matter", "M2"))
        await enqueue_write(session, WriteOperation.MEDIATION_REFERRAL, {"summary": "调解"},
                            "M3-D1", aggregate=Aggregate("matter", "M3"))

    claim = (await claim_due(sessions, SourceSystem.COURT, "w", limit=1,
                             lease=timedelta(seconds=30)))[0]
    await settle(sessions, claim, status=WriteState.CONFIRMED, target_ref="WSLA00000001",
                 attempts=1)
    return committing_engine


async def test_an_administrator_sees_each_write_back_with_its_state_and_target_id(
    seeded: AsyncEngine, pii_key: bytes,
) -> None:
    async with graphql_client(seeded, pii_key, role=Role.ADMIN) as client:
        everything = await graphql(client, QUERY_WRITEBACKS)
        waiting = await graphql(client, QUERY_WRITEBACKS, {"states": ["PENDING"]})
        one_matter = await graphql(client, QUERY_WRITEBACKS, {"matter": "M1"})

    assert [w["state"] for w in everything["data"]["writebacks"]] == [
        "CONFIRMED", "PENDING", "PENDING"
    ]
    assert [w["reference"] for w in waiting["data"]["writebacks"]] == ["M2-D1", "M3-D1"]
    assert one_matter["data"]["writebacks"] == [{
        "target": "COURT", "operation": "court.filing", "reference": "M1-D1", "matter": "M1",
        "state": "CONFIRMED", "attempts": 1, "targetRef": "WSLA00000001", "lastErrorCode": None,
    }]


async def test_staff_see_the_write_backs_of_matters_in_their_jurisdiction_only(
    seeded: AsyncEngine, pii_key: bytes,
) -> None:
    # a write names its matter, the department's own id and its last error: as the matter
    # itself, it is for the staff of the matter's place
    staff = Role.CENTER_STAFF
    async with graphql_client(seeded, pii_key, role=staff, regions=[OUTSIDE]) as client:
        outside = await graphql(client, QUERY_WRITEBACKS)
        asked = await graphql(client, QUERY_WRITEBACKS, {"matter": "M1"})
    async with graphql_client(seeded, pii_key, role=staff, regions=["411200"]) as client:
        inside = await graphql(client, QUERY_WRITEBACKS)

    assert [w["matter"] for w in outside["data"]["writebacks"]] == ["M3"]
    assert asked["data"]["writebacks"] == []
    assert [w["matter"] for w in inside["data"]["writebacks"]] == ["M1", "M2"]


async def test_a_partner_department_may_not_read_write_back_states(
    seeded: AsyncEngine, pii_key: bytes,
) -> None:
    async with graphql_client(seeded, pii_key, role=Role.PARTNER_POLICE) as client:
        body = await graphql(client, QUERY_WRITEBACKS)

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not body.get("data")


async def test_the_serving_app_delivers_the_outbox_and_reports_it_in_metrics(
    committing_engine: AsyncEngine, pii_key: bytes, tmp_path: Path,
) -> None:
    sessions = session_factory(committing_engine)
    async with Sandbox(SandboxConfig(base_port=0, scale=300, seed=15)) as sb:
        sources = tmp_path / "sources.toml"
        sources.write_text(render_sources_file(sb.urls, sb.credentials), encoding="utf-8")
        # given a write enqueued by a workflow step, and an app serving with a sources file
        async with sessions.begin() as session:
            session.add(_matter("M9", INSIDE))
            await enqueue_write(session, WriteOperation.MEDIATION_REFERRAL,
                                {"summary": "委派调解"}, "M9-D1",
                                aggregate=Aggregate("matter", "M9"))
        # (the counter is the process's: other tests' apps may have confirmed writes)
        before = REGISTRY.get_sample_value(*CONFIRMED) or 0
        async with graphql_client(committing_engine, pii_key, sources_file=sources,
                                  schedule_sync=False) as client:
            # when the app's relay runs
            async with asyncio.timeout(30):
                while True:
                    body = await graphql(client, QUERY_WRITEBACKS, {"matter": "M9"})
                    if body["data"]["writebacks"][0]["state"] == "CONFIRMED":
                        break
                    await asyncio.sleep(0.1)
            metrics = (await client.get("/metrics")).text

    # then the referral reached the mediation platform once, and the metrics say so
    assert body["data"]["writebacks"][0]["targetRef"].startswith("WP")
    assert sb.systems[SourceSystem.MEDIATION].writes.by_reference == {"M9-D1": 1}
    assert _sample(metrics, CONFIRMED) == before + 1


CONFIRMED: Sample = (
    "govhub_outbox_attempts_total", {"outcome": "confirmed", "target": "MEDIATION"}
)


async def test_centre_staff_see_the_write_backs_of_their_jurisdictions_matters_only(
    committing_engine: AsyncEngine, pii_key: bytes,
) -> None:
    """A write-back names its matter and the department's own number (a 信访件编号): staff of
    one city see those of the matters they read, an administrator every one."""
    async with graphql_client(committing_engine, pii_key, role=None,
                              scan_deadlines=False) as client:  # fmt: skip
        numbers = {}
        for region in (INSIDE, OUTSIDE):
            who = headers(Role.CENTER_STAFF, [region], sub=f"staff-{region}")
            intake = {"origin": "WALK_IN", "title": "漏水", "regionCode": region}
            opened = await graphql(client, MUTATION_OPEN, {"input": intake}, headers=who)
            gid = opened["data"]["openMatter"]["matter"]["id"]
            numbers[region] = opened["data"]["openMatter"]["matter"]["number"]
            for step in (MUTATION_ADMIT, MUTATION_ASSESS):
                await graphql(client, step, {"id": gid}, headers=who)
            await graphql(client, MUTATION_DISPATCH, {"id": gid, "org": MEDIATION_ORG},
                          headers=who)  # fmt: skip
        staff = await graphql(client, QUERY_WRITEBACKS,
                              headers=headers(Role.CENTER_STAFF, [INSIDE]))  # fmt: skip
        elsewhere = await graphql(client, QUERY_WRITEBACKS, {"matter": numbers[OUTSIDE]},
                                  headers=headers(Role.CENTER_STAFF, [INSIDE]))  # fmt: skip
        admin = await graphql(client, QUERY_WRITEBACKS, headers=headers(Role.ADMIN, [INSIDE]))

    assert [w["matter"] for w in staff["data"]["writebacks"]] == [numbers[INSIDE]]
    assert elsewhere["data"]["writebacks"] == []
    assert {w["matter"] for w in admin["data"]["writebacks"]} == set(numbers.values())
