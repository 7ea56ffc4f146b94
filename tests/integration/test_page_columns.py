"""A page reads the kind tables only when its selection reads a kind's own fields, and answers
the shared fields the same either way (resolvers.queries)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from domain.roles import Principal, Role
from resolvers.dataloaders import LoaderContext
from resolvers.root import schema
from tests.integration.graphql_world import seed_world, unlink_regions

STAFF = Principal(sub="staff", role=Role.CENTER_STAFF, regions=("41",))
SHARED = "id kind title occurredAt status region { code name } __typename"
DOCUMENTS = {
    "shared": f"{{ records(first: 20) {{ edges {{ node {{ {SHARED} }} }} }} }}",
    "inline": f"{{ records(first: 20) {{ edges {{ node {{ {SHARED} "
    "... on Dispute { mediator } ... on CourtFiling { caseNumber } } } } }",
    "named": f"query {{ records(first: 20) {{ nodes {{ {SHARED} ...Grid }} }} }} "
    "fragment Grid on GridEvent { gridCode }",
}


async def _page(engine: AsyncEngine, document: str) -> tuple[list[dict[str, Any]], list[str]]:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        result = await schema.execute(
            document, context_value=LoaderContext(session_factory(engine), STAFF)
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    assert result.errors is None, result.errors
    assert result.data is not None
    records = result.data["records"]
    nodes = records["nodes"] if "nodes" in records else [e["node"] for e in records["edges"]]
    return nodes, statements


async def test_kind_tables_are_read_only_for_kind_fields(committing_engine: AsyncEngine) -> None:
    await seed_world(committing_engine, records=30)
    try:
        pages = {name: await _page(committing_engine, doc) for name, doc in DOCUMENTS.items()}
    finally:
        await unlink_regions(committing_engine)
    shared_nodes, shared_statements = pages["shared"]
    assert shared_nodes
    assert not any("disputes" in statement for statement in shared_statements)
    for name in ("inline", "named"):
        nodes, statements = pages[name]
        assert any("disputes" in statement for statement in statements[:1]), name
        # the shared fields are the same with or without the kind tables
        keys = SHARED.replace("{ code name }", "").split()
        assert [{k: n[k] for k in keys} for n in nodes] == [
            {k: n[k] for k in keys} for n in shared_nodes
        ]
    inline = pages["inline"][0]
    assert any(n.get("mediator") for n in inline if n["__typename"] == "Dispute")
    assert any(n.get("caseNumber") for n in inline if n["__typename"] == "CourtFiling")
    assert any(n.get("gridCode") for n in pages["named"][0] if n["__typename"] == "GridEvent")


TIMELINE = "parties {{ person {{ id records {{ record {{ id title __typename {extra} }} }} }} }}"
KIND = "... on Dispute { mediator } ... on CourtFiling { caseNumber }"
NESTED = {
    "shared": f"{{ records(first: 20) {{ nodes {{ id {TIMELINE.format(extra='')} }} }} }}",
    "kind": f"{{ records(first: 20) {{ nodes {{ id {TIMELINE.format(extra=KIND)} }} }} }}",
    # the first alias prefetches its persons' timelines without kind columns; the second
    # finds them loaded and must still answer its kinds' own fields
    "both": f"{{ a: records(first: 20) {{ nodes {{ id {TIMELINE.format(extra='')} }} }} "
    f"records(first: 20) {{ nodes {{ id {TIMELINE.format(extra=KIND)} }} }} }}",
}


async def test_timeline_records_read_kind_tables_only_for_kind_fields(
    committing_engine: AsyncEngine,
) -> None:
    """A page's persons' timelines read their records' shared columns only, unless the
    timeline's records select a kind's own field; the answers are the same either way."""
    await seed_world(committing_engine, records=30)
    try:
        pages = {name: await _page(committing_engine, doc) for name, doc in NESTED.items()}
    finally:
        await unlink_regions(committing_engine)

    def timelines(nodes: list[dict[str, Any]]) -> list[Any]:
        return [
            [entry["record"] for entry in party["person"]["records"]]
            for node in nodes
            for party in node["parties"]
            if party["person"]
        ]

    shared, shared_statements = pages["shared"]
    kind, kind_statements = pages["kind"]
    both, _ = pages["both"]
    assert any(timelines(shared)), "the world has persons with records"
    assert not any("disputes" in statement for statement in shared_statements)
    assert any("disputes" in statement for statement in kind_statements)
    records = [r for t in timelines(kind) for r in t]
    assert any(r.get("mediator") for r in records if r["__typename"] == "Dispute")
    assert any(r.get("caseNumber") for r in records if r["__typename"] == "CourtFiling")
    assert timelines(both) == timelines(kind)
    keys = ("id", "title", "__typename")
    assert [[{k: r[k] for k in keys} for r in t] for t in timelines(kind)] == timelines(shared)


BY_ID = """query ById($id: ID!) { node(id: $id) { id ... on Record {
  kind title region { code name level } } } }"""


async def test_a_record_by_id_reads_its_region_beside_it(committing_engine: AsyncEngine) -> None:
    """``node(id)`` reads the record and its region in one statement (the record loader joins
    the region and primes the region loader): no regions statement of its own."""
    await seed_world(committing_engine, records=30)
    try:
        nodes, _ = await _page(committing_engine, f"{{ records(first: 20) {{ {_NODES} }} }}")
        answers = []
        statements: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        for node in nodes:
            statements.clear()
            event.listen(committing_engine.sync_engine, "before_cursor_execute", note)
            try:
                result = await schema.execute(
                    BY_ID,
                    variable_values={"id": node["id"]},
                    context_value=LoaderContext(session_factory(committing_engine), STAFF),
                )
            finally:
                event.remove(committing_engine.sync_engine, "before_cursor_execute", note)
            assert result.errors is None, result.errors
            assert result.data is not None
            answers.append(result.data["node"])
            reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            assert not any(s.lstrip().startswith("SELECT regions.") for s in reads), reads
    finally:
        await unlink_regions(committing_engine)
    assert [{k: a[k] for k in ("id", "kind", "title", "region")} for a in answers] == [
        {k: n[k] for k in ("id", "kind", "title", "region")} for n in nodes
    ]
    assert any(a["region"] for a in answers)


_NODES = "nodes { id kind title region { code name level } }"
