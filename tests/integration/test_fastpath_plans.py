"""Compiled readers kept across requests (schema.fastpath.plans) never carry an answer.

The same documents are asked by principals that must see different things (another
jurisdiction, a role whose titles are redacted, a role with kinds of its own, full identifiers
with ``pii:read`` and a purpose, masked without), interleaved so every request after the first
finds a plan compiled before. Each answer, and what it notes for the audit row, must be what
the general path gives that principal.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from domain.roles import PII_SCOPE, Principal, Role
from resolvers.dataloaders import LoaderContext
from resolvers.root import general_schema, schema
from schema.fastpath.handbacks import hand_back_counts
from schema.fastpath.readers import FieldCompiler
from tests.integration.graphql_world import ID_NUMBER, seed_world, unlink_regions

PAGE = """query Plans($first: Int!) { records(first: $first) { edges { node {
  id kind title occurredAt status
  region { code name }
  parties { role name idNumber phone person { id name idNumber records { record { id title } } } }
} } } }"""

TITLES = """query Titles($first: Int!, $withRegion: Boolean!) { records(first: $first) {
  edges { node { id title ... @include(if: $withRegion) { region { code } } } } } }"""

STAFF = Principal(sub="staff", role=Role.CENTER_STAFF, regions=("41",))
CITY = Principal(sub="city", role=Role.CENTER_STAFF, regions=("411221",))
JUDICIAL = Principal(sub="judicial", role=Role.PARTNER_JUDICIAL, regions=("41",))
REVEALING = Principal(
    sub="revealing", role=Role.CENTER_STAFF, regions=("41",), scopes=frozenset({PII_SCOPE})
)


async def _both(
    engine: AsyncEngine, document: str, principal: Principal, **variables: Any
) -> tuple[Any, Any]:
    """The lighter and the general path's answers (and audit notes) for ``principal``."""
    purpose = "案件 2026-19" if PII_SCOPE in principal.scopes else None
    answers = []
    for built in (schema, general_schema()):
        context = LoaderContext(session_factory(engine), principal, purpose=purpose)
        result = await built.execute(document, variable_values=variables, context_value=context)
        assert result.errors is None, result.errors
        security = context.security
        answers.append((result.data, security.pii_record_ids, security.pii_person_ids))
    return answers[0], answers[1]


async def test_a_plan_serves_no_other_principal_an_answer(
    committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[str] = []
    original = FieldCompiler._compile_field

    def counting(self: FieldCompiler, parent_type: Any, details: Any) -> Any:
        compiled.append(f"{parent_type.name}.{details[0].node.name.value}")
        return original(self, parent_type, details)

    monkeypatch.setattr(FieldCompiler, "_compile_field", counting)
    await seed_world(committing_engine, records=40)
    before = hand_back_counts()
    try:
        seen: dict[str, Any] = {}
        for principal in (STAFF, CITY, STAFF, JUDICIAL, REVEALING, STAFF, JUDICIAL, CITY):
            compiled.clear()
            fast, general = await _both(committing_engine, PAGE, principal, first=10)
            assert fast == general, principal.sub
            seen.setdefault(principal.sub, fast)
            assert fast == seen[principal.sub]  # the same principal: the same answer again
            if principal.sub == "staff" and len(seen) > 1:
                assert compiled == []  # its plan was kept, and reused
        # They differ where they must, so a shared answer could not have passed.
        places = {sub: {e["node"]["region"]["code"][:6] for e in data["records"]["edges"]}
                  for sub, (data, *_) in seen.items()}  # fmt: skip
        assert places["city"] == {"411221"} and len(places["staff"]) > 1
        titles = {sub: {e["node"]["title"] for e in data["records"]["edges"]}
                  for sub, (data, *_) in seen.items()}  # fmt: skip
        assert titles["judicial"].isdisjoint(titles["staff"])
        numbers = {sub: {p["idNumber"] for e in data["records"]["edges"]
                         for p in e["node"]["parties"]} - {None}
                   for sub, (data, *_) in seen.items()}  # fmt: skip
        assert numbers["revealing"] == {ID_NUMBER}
        assert ID_NUMBER not in numbers["staff"] and numbers["staff"]
        assert seen["city"][1] != seen["staff"][1]  # the audit notes follow the answer
    finally:
        await unlink_regions(committing_engine)
    assert hand_back_counts() == before


async def test_directive_values_get_plans_of_their_own(committing_engine: AsyncEngine) -> None:
    await seed_world(committing_engine, records=20)
    before = hand_back_counts()
    try:
        for with_region in (True, False, True, False):
            fast, general = await _both(
                committing_engine, TITLES, STAFF, first=10, withRegion=with_region
            )
            assert fast == general
            nodes = [edge["node"] for edge in fast[0]["records"]["edges"]]
            assert nodes and all(("region" in node) == with_region for node in nodes)
    finally:
        await unlink_regions(committing_engine)
    assert hand_back_counts() == before  # compiled, not answered by the general path


async def test_a_request_leaves_nothing_for_the_cycle_collector(
    committing_engine: AsyncEngine,
) -> None:
    """Its executor, context, loaders and what they loaded go when it ends (reference
    counting), not at the next collection: no cycle among them (executor helpers, loaders)."""
    import gc

    await seed_world(committing_engine, records=20)
    try:
        await _both(committing_engine, PAGE, STAFF, first=10)  # compiled and cached first
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            context = LoaderContext(session_factory(committing_engine), STAFF)
            result = await schema.execute(
                PAGE, variable_values={"first": 10}, context_value=context
            )
            assert result.errors is None and result.data
            del result, context
            gc.collect()
            left = {type(o).__name__ for o in gc.garbage}
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    finally:
        await unlink_regions(committing_engine)
    assert not left & {"PlainFieldExecutor", "Loaders", "DataLoader", "Party", "Person"}, left
