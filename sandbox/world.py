"""The sandbox's world generator (模拟世界): one deterministic city per seed.

``generate_world(seed, scale)`` makes people, companies, the region tree and about ``scale``
source records spread over the five legacy systems, each record a slice of a matter
(storyline) with noise typical of its system; the ground truth says who every party really
is and which matter every record belongs to. See sandbox/README.md for the payloads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.enums import SourceSystem
from sandbox.forge import Forge
from sandbox.formats import BEIJING
from sandbox.model import World
from sandbox.mutations import mutate_world
from sandbox.risk_stories import (
    benign_repeat,
    negated_threat,
    self_harm_petition,
    threat_escalation,
)
from sandbox.singletons import (
    lone_alert,
    lone_court_case,
    lone_grid_event,
    lone_mediation,
    lone_petition,
)
from sandbox.storylines import (
    domestic_repeat,
    grid_to_court,
    litigation_petition,
    mediation_to_lawsuit,
    neighbour_quarrel,
    property_dispute,
    wage_arrears,
)
from sandbox.truth import world_fingerprint, write_truth

__all__ = ["STORYLINES", "WORLD_NOW", "generate_world", "mutate_world", "world_fingerprint",
           "write_truth"]

WORLD_NOW = datetime(2026, 11, 1, tzinfo=BEIJING)
"""Every world's present (the same for every seed): records occur in the two years before."""

STORYLINES: tuple[tuple[Callable[[Forge], None], float], ...] = (
    (lone_alert, 40), (lone_grid_event, 30), (lone_mediation, 18), (lone_petition, 5),
    (lone_court_case, 12), (neighbour_quarrel, 3), (domestic_repeat, 1.5),
    (wage_arrears, 0.8), (property_dispute, 3), (mediation_to_lawsuit, 3),
    (litigation_petition, 0.8), (threat_escalation, 0.6), (self_harm_petition, 0.3),
    (negated_threat, 1.0), (benign_repeat, 0.8), (grid_to_court, 1.0),
)
"""Storylines and their weights per matter: about three records in four are singletons."""


def generate_world(seed: int = 7, scale: int = 2000) -> World:
    """A world of about ``scale`` source records, identical for identical arguments."""
    world = World(seed=seed, scale=scale, regions=[], records={s: [] for s in SourceSystem},
                  truth={}, now=WORLD_NOW)
    forge = Forge.start(world)
    stories = [story for story, _ in STORYLINES]
    weights = [weight for _, weight in STORYLINES]
    # one of every cross-system storyline first, so that even a small world has each
    for story in stories[5:]:
        if len(world.truth) < scale:
            story(forge)
    while len(world.truth) < scale:
        forge.rng.choices(stories, weights)[0](forge)
    for records in world.records.values():
        records.sort(key=lambda r: (r.updated_at, r.key))
    return world
