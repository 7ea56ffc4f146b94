"""Resolution and linking on a generated world in memory, scored against its ground truth."""

from __future__ import annotations

import dataclasses

from domain.linking import link_matters, pairwise_score, resolve_organisations, resolve_persons
from domain.linking.scoring import connected_components
from sandbox.world import generate_world
from tests.unit.linking.world_adapter import world_facts


def test_a_small_world_resolves_and_links_with_high_precision_and_recall() -> None:
    # given a world of about 600 records with the sandbox's name, ID and phone noise
    facts = world_facts(generate_world(seed=3, scale=600))
    # when persons, organisations and matters are resolved
    persons = resolve_persons(facts.persons)
    organisations = resolve_organisations(facts.organisations)
    predicted = {m.mention_id: ("p", m.person) for m in persons}
    predicted |= {m.mention_id: ("o", m.organisation) for m in organisations}
    person_score = pairwise_score(facts.truth_person, predicted)
    keys: dict[object, int] = {}
    parties: dict[int, set[int]] = {}
    for mention_id, label in predicted.items():
        if mention_id not in facts.mention_reporter:
            key = keys.setdefault(label, len(keys))
            parties.setdefault(facts.mention_record[mention_id], set()).add(key)
    records = [
        dataclasses.replace(r, persons=frozenset(parties.get(r.record_id, ())))
        for r in facts.records
    ]
    links = link_matters(records)
    components = connected_components(
        [r.record_id for r in records], [(k.from_record_id, k.to_record_id) for k in links]
    )
    matter_score = pairwise_score(facts.truth_matter, components)
    # then both are precise and complete
    assert person_score.precision >= 0.97 and person_score.recall >= 0.95, person_score
    assert matter_score.precision >= 0.95 and matter_score.recall >= 0.93, matter_score
