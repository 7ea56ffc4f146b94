"""Organisation resolution: by USCC, then by normalised name within one county."""

from __future__ import annotations

from domain.linking import NewPerson, OrganisationFacts, resolve_organisations
from domain.linking.organisations import (
    ORGANISATION_KEY_MAX,
    KnownOrganisation,
    looks_like_organisation,
    normalise_organisation_name,
    organisation_name_key,
)

CODE_A = "91411202MA00000001"
CODE_B = "91510129MA00000002"


def test_the_same_code_is_one_organisation_and_a_name_without_code_joins_it() -> None:
    matches = resolve_organisations(
        [
            OrganisationFacts(1, "三门峡市金桥建筑劳务有限公司", CODE_A),
            OrganisationFacts(2, "三门峡市金桥建筑劳务有限责任公司", None, "411202001001"),
            OrganisationFacts(3, "三门峡市金桥建筑劳务有限公司", CODE_A),
        ]
    )
    assert len({m.organisation for m in matches}) == 1
    assert matches[1].evidence[0]["field"] == "name"


def test_one_name_in_two_counties_is_two_organisations() -> None:
    matches = resolve_organisations(
        [
            OrganisationFacts(1, "金桥物业服务有限公司", CODE_A),
            OrganisationFacts(2, "金桥物业服务有限公司", CODE_B),
            OrganisationFacts(3, "金桥物业服务有限公司", None, "510129001001"),
        ]
    )
    assert matches[0].organisation != matches[1].organisation
    assert matches[2].organisation == matches[1].organisation


def test_a_name_two_codes_hold_in_one_county_joins_neither_without_a_code() -> None:
    # given two companies registered under one name in one county, and a mention without a code
    other = "91411202MA00000003"
    known = [KnownOrganisation(5, "金桥物业服务有限公司", CODE_A)]
    matches = resolve_organisations(
        [
            OrganisationFacts(1, "金桥物业服务有限公司", other),
            OrganisationFacts(2, "金桥物业服务有限公司", None, "411202003001"),
        ],
        known,
    )
    # then the code keeps its own organisation and the bare name starts another
    assert isinstance(matches[0].organisation, NewPerson)
    assert matches[1].organisation not in (5, matches[0].organisation)
    assert matches[1].evidence[0]["field"] == "new_organisation"


def test_known_organisations_are_reused_and_staff_decisions_kept() -> None:
    known = [KnownOrganisation(5, "金桥物业服务有限公司", CODE_A)]
    matches = resolve_organisations(
        [
            OrganisationFacts(1, "金桥物业服务有限公司", CODE_A),
            OrganisationFacts(
                2, "别的公司名称有限公司", CODE_A, organisation_id=8, staff_decided=True
            ),
            OrganisationFacts(3, "新来的商贸有限公司", None, "411202001001"),
        ],
        known,
    )
    assert [m.organisation for m in matches[:2]] == [5, 8]
    assert isinstance(matches[2].organisation, NewPerson)


def test_organisation_names_are_recognised() -> None:
    assert looks_like_organisation("成都新格林建筑劳务有限公司")
    assert not looks_like_organisation("王建国")


def test_a_name_key_fits_its_column_though_upper_casing_lengthens_it() -> None:
    # given a 128-character name that upper-casing makes three times as long
    name = "ﬃ" * 124 + "有限公司"
    assert len(normalise_organisation_name(name)) > ORGANISATION_KEY_MAX
    # then its key is the name as compared, cut to the column
    key = organisation_name_key(name)
    assert len(key) == ORGANISATION_KEY_MAX and normalise_organisation_name(name).startswith(key)
    assert (
        organisation_name_key("三门峡市金桥物业服务有限责任公司") == "三门峡市金桥物业服务有限公司"
    )
