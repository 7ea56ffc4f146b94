"""Linking people and matters across the five systems (人员归一与事项关联).

Pure rules, no storage: :mod:`~domain.linking.persons` clusters party mentions into persons,
:mod:`~domain.linking.organisations` does the same for organisations,
:mod:`~domain.linking.matters` links records into matters, and
:mod:`~domain.linking.scoring` measures both against ground truth. ``db.linking`` loads,
runs and stores them.
"""

from __future__ import annotations

from domain.linking.evidence import MentionFacts
from domain.linking.matters import LinkKind, ProposedLink, RecordFacts, link_matters
from domain.linking.organisations import (
    OrganisationFacts,
    OrganisationMatch,
    resolve_organisations,
)
from domain.linking.persons import (
    NewPerson,
    PersonKey,
    PersonMatch,
    PersonResolver,
    resolve_persons,
)
from domain.linking.scoring import PairwiseScore, connected_components, pairwise_score

__all__ = [
    "LinkKind",
    "MentionFacts",
    "NewPerson",
    "OrganisationFacts",
    "OrganisationMatch",
    "PairwiseScore",
    "PersonKey",
    "PersonMatch",
    "PersonResolver",
    "ProposedLink",
    "RecordFacts",
    "connected_components",
    "link_matters",
    "pairwise_score",
    "resolve_organisations",
    "resolve_persons",
]
