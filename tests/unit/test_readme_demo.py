"""The README's five-minute guide tells of the demo's own records: the oldest disputes of the
demo world (seed and scale as ``govhub demo`` runs its sandbox), with the records of the other
systems on the same matter. A change to the world generator that moves them fails here, not
in a reader's first five minutes."""

from __future__ import annotations

from pathlib import Path

from connectors.mediation import MediationConnector
from domain.enums import SourceSystem
from sandbox.runner import SandboxConfig
from sandbox.world import generate_world

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_guides_oldest_disputes_and_their_linked_records_are_the_demo_worlds() -> None:
    demo = SandboxConfig()  # the demo's sandbox: seed 7, scale 2000
    world = generate_world(demo.seed, demo.scale)
    parse = MediationConnector(None).parse  # type: ignore[arg-type]  # parsing needs no client
    disputes = sorted(
        (parsed.occurred_at, parsed.title, record.key)
        for record in world.records[SourceSystem.MEDIATION]
        if not record.deleted
        for parsed in [parse(record.payload)]
    )
    # the guide asks for the oldest first: the first and the fourth it names stand alone in time
    first, _, _, fourth, fifth = disputes[:5]
    assert first[0] < disputes[1][0] and disputes[2][0] < fourth[0] < fifth[0]
    assert (first[1], fourth[1]) == ("王广义与郭凯婚姻家庭纠纷", "张进力与安月艳邻里纠纷")
    assert f"The first dispute ({first[1]})" in README
    assert f"the fourth ({fourth[1]})" in README

    def same_matter(key: str) -> dict[SourceSystem, list[str]]:
        matter = world.truth[(SourceSystem.MEDIATION, key)].matter_id
        found: dict[SourceSystem, list[str]] = {}
        for (system, other), truth in sorted(world.truth.items()):
            if truth.matter_id == matter and system is not SourceSystem.MEDIATION:
                found.setdefault(system, []).append(other)
        return found

    assert same_matter(first[2]) == {SourceSystem.COURT: ["(2025)川0112民初5号"]}
    assert "((2025)川0112民初5号 离婚纠纷, `ESCALATED_TO`, 0.99)" in README
    assert list(same_matter(fourth[2])) == [SourceSystem.POLICE_110]
    assert "with the 110 alert it was referred from (`REFERRED_FROM`, 0.99)" in README
