"""The connectors' code tables checked against the sources' own codes (源系统代码对照).

``sandbox/codes.py`` is the sandbox's copy of what each legacy system publishes: its category,
type and status codes. ``connectors/mappings/`` is the hub's reading of them. They are kept
apart on purpose — the sandbox stands for the outside system, so a wrong mapping in a
connector must show up against it — and this test is where they meet: every code a source can
send is mapped, names and labels agree, and each generator topic lands on the category it
means. What a topic means is written out here by hand, not taken from either table.
"""

from __future__ import annotations

import pytest

from connectors.mappings import by_longest_prefix, court, grid, mediation, petition, police
from domain.enums import CaseStatus, DisputeCategory
from sandbox import codes

C = DisputeCategory
MEANING: dict[str, DisputeCategory] = {
    # generator topic → the unified category a person reading the record would give it
    "family": C.MARRIAGE_FAMILY, "neighbour": C.NEIGHBOUR, "housing": C.HOUSING_HOMESTEAD,
    "contract": C.CONTRACT, "debt": C.CONTRACT, "business": C.BUSINESS, "damages": C.DAMAGES,
    "land": C.LAND_FOREST, "acquisition": C.LAND_ACQUISITION, "environment": C.ENVIRONMENT,
    "labour": C.LABOUR, "consumer": C.CONSUMER, "medical": C.MEDICAL, "traffic": C.TRAFFIC,
    "property_mgmt": C.PROPERTY_MGMT, "other": C.OTHER,
    # not disputes, or no dispute category named by the source
    "theft": C.OTHER, "fraud": C.OTHER, "assault": C.OTHER, "help": C.OTHER,
    "sanitation": C.ENVIRONMENT, "safety": C.OTHER, "facility": C.OTHER,
    "litigation": C.OTHER, "confirmation": C.OTHER,
}  # fmt: skip
EXCEPTIONS: dict[tuple[str, str], DisputeCategory] = {
    # where a source's own code says something else than the topic, and the source wins
    ("mediation", "debt"): C.CONTRACT,  # filed as 合同纠纷
    ("court", "housing"): C.CONTRACT,  # 房屋租赁合同纠纷
    ("court", "consumer"): C.CONTRACT,  # 买卖合同纠纷
    ("court", "other"): C.CONTRACT,  # 民间借贷纠纷
}


def _meaning(source: str, topic: str) -> DisputeCategory:
    return EXCEPTIONS[source, topic] if (source, topic) in EXCEPTIONS else MEANING[topic]


def _police(code: str) -> DisputeCategory:
    return by_longest_prefix(police.CATEGORY_BY_CODE_PREFIX, code) or C.OTHER


@pytest.mark.parametrize(("topic", "code_list"), sorted(codes.POLICE_TOPIC_CODES.items()))
def test_police_categories_mean_their_topic(topic: str, code_list: tuple[str, ...]) -> None:
    assert {code: _police(code) for code in code_list} == dict.fromkeys(
        code_list, _meaning("police", topic)
    )


def test_police_names_and_states_agree_with_the_source() -> None:
    assert police.CATEGORY_NAMES == codes.POLICE_CATEGORY_NAMES
    assert {code: label for code, (_, label) in police.STATUS_BY_CJZT.items()} == (
        codes.POLICE_STATES
    )


def test_grid_types_and_states_agree_with_the_source() -> None:
    assert set(grid.CATEGORY_BY_EVENT_TYPE) == set(codes.GRID_EVENT_TYPES)
    for topic, event_type in codes.GRID_TOPIC_TYPES.items():
        assert grid.CATEGORY_BY_EVENT_TYPE[event_type] == _meaning("grid", topic), topic
    assert {code: label for code, (_, label) in grid.STATUS_BY_CODE.items()} == (
        codes.GRID_STATUSES
    )


def test_mediation_types_and_states_agree_with_the_source() -> None:
    assert set(mediation.CATEGORY_BY_DISPUTE_TYPE) == set(codes.MEDIATION_TYPES)
    for topic, dispute_type in codes.MEDIATION_TOPIC_TYPES.items():
        assert mediation.CATEGORY_BY_DISPUTE_TYPE[dispute_type] == _meaning("mediation", topic)
    labels = (*codes.MEDIATION_STATES, *codes.MEDIATION_OUTCOMES.values())
    assert set(mediation.STATUS_BY_LABEL) == set(labels)
    assert mediation.STATUS_BY_LABEL[codes.MEDIATION_OUTCOMES["success"]] is CaseStatus.RESOLVED
    assert mediation.STATUS_BY_LABEL[codes.MEDIATION_OUTCOMES["failed"]] is CaseStatus.FAILED


def test_petition_classes_and_states_agree_with_the_source() -> None:
    for topic, content_class in codes.PETITION_TOPIC_CLASSES.items():
        mapped = petition.CATEGORY_BY_CLASS.get(content_class, C.OTHER)
        assert mapped == _meaning("petition", topic), topic
    assert set(petition.STATUS_BY_NAME) == set(codes.PETITION_STATES)


def test_court_causes_types_and_outcomes_agree_with_the_source() -> None:
    for topic, cause in codes.COURT_CAUSES.items():
        assert court.category_of_cause(cause) == _meaning("court", topic), topic
    assert set(court.CASE_TYPES) == set(codes.COURT_CASE_TYPE_CODES)
    assert set(court.STATUS_BY_LABEL) == set(codes.COURT_STATES)
    outcomes = {
        *codes.COURT_PRE_MEDIATION_OUTCOMES,
        *codes.COURT_LITIGATION_OUTCOMES,
        codes.COURT_CONFIRMATION_OUTCOME,
    }
    assert outcomes <= set(court.STATUS_BY_OUTCOME)
