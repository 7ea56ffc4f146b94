"""Person resolution: exact identifiers, fuzzy names with place, guards, incremental runs."""

from __future__ import annotations

from datetime import date

from domain.linking import MentionFacts, NewPerson, PersonResolver, resolve_persons
from domain.linking.evidence import stored_blocking_keys
from domain.linking.persons import BLOCK_WINDOW

VILLAGE = "411202001001"
HOME = "湖滨区车站街道建设路12号"


def mention(mid: int, name: str, **facts: object) -> MentionFacts:
    return MentionFacts(mention_id=mid, name=name, record_id=mid, **facts)  # type: ignore[arg-type]


def people(matches: list) -> list[set[int]]:  # type: ignore[type-arg]
    groups: dict[object, set[int]] = {}
    for m in matches:
        groups.setdefault(m.person, set()).add(m.mention_id)
    return sorted(groups.values(), key=min)


def test_the_same_id_number_is_one_person_whatever_the_name() -> None:
    matches = resolve_persons([mention(1, "张伟", id_index="A"), mention(2, "张玮", id_index="A")])
    assert people(matches) == [{1, 2}]
    assert matches[1].confidence >= 0.99 and matches[1].evidence[0]["field"] == "id_number"


def test_a_shared_phone_joins_a_variant_name_and_a_polite_form() -> None:
    matches = resolve_persons(
        [
            mention(1, "陈建国", phone_index="P"),
            mention(2, "陳建国", phone_index="P"),
            mention(3, "陈先生", phone_index="P"),
        ]
    )
    assert people(matches) == [{1, 2, 3}]


def test_an_empty_id_number_is_no_id_number_and_keeps_no_one_apart() -> None:
    # given a mention whose source sent an empty ID number, beside the same person with one
    with_id = mention(1, "陈建国", phone_index="P", id_index="A")
    for empty in ("", None):
        matches = resolve_persons([with_id, mention(2, "陈建国", phone_index="P", id_index=empty)])
        # then the shared phone joins them, as it does without any ID number
        assert people(matches) == [{1, 2}], empty


def test_a_family_phone_under_another_name_is_not_a_match() -> None:
    matches = resolve_persons(
        [mention(1, "陈建国", phone_index="P"), mention(2, "李秀英", phone_index="P")]
    )
    assert people(matches) == [{1}, {2}]


def test_homophone_and_look_alike_match_at_the_same_house() -> None:
    # given three spellings of one person at one address, no identifiers in common
    matches = resolve_persons(
        [
            mention(1, "王小明", region_code=VILLAGE, address=HOME),
            mention(2, "王晓明", region_code=VILLAGE, address="三门峡市湖滨区建设路12号院"),
            mention(3, "玉小明", region_code=VILLAGE, address="建设路12号3-2-401"),
        ]
    )
    assert people(matches) == [{1, 2, 3}]
    names = {e["agreement"] for m in matches for e in m.evidence if e["field"] == "name"}
    assert names <= {"HOMOPHONE", "ONE_CHARACTER", "EXACT"}


def test_a_homophone_next_door_with_another_phone_is_another_person() -> None:
    # a grid worker 张伟 and a resident 张玮 on one street, each with a phone of their own
    matches = resolve_persons(
        [
            mention(1, "张建伟", region_code=VILLAGE, address=HOME, phone_index="P1"),
            mention(2, "张建玮", region_code=VILLAGE, address="建设路13号", phone_index="P2"),
        ]
    )
    assert people(matches) == [{1}, {2}]


def test_a_full_name_alone_joins_within_a_county_only_where_the_places_allow() -> None:
    county, township_a, township_b = "411202", "411202001", "411202003"
    matches = resolve_persons(
        [
            mention(1, "李秀兰", region_code=township_a + "001"),
            mention(2, "李秀兰", region_code=township_b + "002"),  # another township
            mention(3, "李秀兰", region_code=township_a + "004"),  # another village
            mention(4, "刘建华", region_code=township_a + "001"),
            mention(5, "刘建华", region_code=county),  # placed only in the county
            mention(6, "赵国庆", region_code=township_a + "001", phone_index="P6"),
            mention(7, "赵国庆", region_code=county, phone_index="P7"),  # two phones disagree
        ]
    )
    assert people(matches) == [{1}, {2}, {3}, {4, 5}, {6}, {7}]


def test_the_same_name_in_another_county_is_another_person() -> None:
    matches = resolve_persons(
        [
            mention(1, "王小明", region_code="411202001001", address=HOME),
            mention(2, "王小明", region_code="510129001001", address=HOME),
        ]
    )
    assert people(matches) == [{1}, {2}]


def test_conflicting_id_numbers_never_merge_even_through_a_chain() -> None:
    # given two people with one name and one phone but different ID numbers, and a third
    # mention (no ID) that matches both
    matches = resolve_persons(
        [
            mention(1, "王小明", id_index="A", phone_index="P"),
            mention(2, "王小明", id_index="B", phone_index="P"),
            mention(3, "王小明", phone_index="P"),
        ]
    )
    groups = people(matches)
    assert {1} in groups or {1, 3} in groups
    assert not any({1, 2} <= g for g in groups)


def test_conflicting_birth_dates_never_merge() -> None:
    matches = resolve_persons(
        [
            mention(1, "王小明", phone_index="P", birth_date=date(1980, 1, 1)),
            mention(2, "王小明", phone_index="P", birth_date=date(1990, 1, 1)),
        ]
    )
    assert people(matches) == [{1}, {2}]


def test_two_parties_of_one_record_are_two_people() -> None:
    a = MentionFacts(1, "王小明", record_id=9, region_code=VILLAGE, address=HOME)
    b = MentionFacts(2, "王小明", record_id=9, region_code=VILLAGE, address=HOME)
    assert people(resolve_persons([a, b])) == [{1}, {2}]


def test_blocking_compares_only_within_a_window() -> None:
    # given many mentions sharing a phone (a switchboard), each is compared with a bounded
    # number of others, yet they still end up in one person through the chain
    resolver = PersonResolver()
    many = [mention(i, "王小明", phone_index="P") for i in range(1, 200)]
    matches = resolver.resolve(many)
    assert len({m.person for m in matches}) == 1
    assert BLOCK_WINDOW < 200


def test_new_mentions_join_existing_persons_incrementally() -> None:
    # given stored persons 10 and 20
    resolver = PersonResolver()
    resolver.add_existing(
        [
            MentionFacts(1, "张伟", id_index="A", person_id=10),
            MentionFacts(2, "李娜", phone_index="Q", person_id=20),
        ]
    )
    # when a batch arrives
    matches = resolver.resolve(
        [
            MentionFacts(3, "张玮", id_index="A"),
            MentionFacts(4, "李女士", phone_index="Q"),
            MentionFacts(5, "赵六", phone_index="R"),
            MentionFacts(6, "赵六", phone_index="R"),
        ]
    )
    # then known people keep their ids and the stranger becomes one new person
    by_id = {m.mention_id: m.person for m in matches}
    assert by_id[3] == 10 and by_id[4] == 20
    assert isinstance(by_id[5], NewPerson) and by_id[5] == by_id[6]


def test_a_new_mention_never_merges_two_stored_persons() -> None:
    resolver = PersonResolver()
    resolver.add_existing(
        [
            MentionFacts(1, "张伟", id_index="A", person_id=10),
            MentionFacts(2, "张伟", phone_index="P", person_id=20),
        ]
    )
    [match] = resolver.resolve([MentionFacts(3, "张伟", id_index="A", phone_index="P")])
    assert match.person == 10


def test_staff_decisions_are_kept_against_the_evidence() -> None:
    # given staff put a mention with ID A on person 7, against another mention with ID A
    matches = resolve_persons(
        [
            MentionFacts(1, "张伟", id_index="A", person_id=7, staff_decided=True),
            MentionFacts(2, "王芳", phone_index="P", person_id=7, staff_decided=True),
            MentionFacts(3, "张伟", id_index="A", person_id=99),
        ]
    )
    by_id = {m.mention_id: m for m in matches}
    assert by_id[1].person == 7 and by_id[2].person == 7
    assert by_id[1].evidence[0]["field"] == "staff_decision"
    assert by_id[3].person == 7


def test_unmatched_mentions_start_their_own_person_with_full_confidence() -> None:
    [match] = resolve_persons([mention(1, "欧阳修")])
    assert isinstance(match.person, NewPerson) and match.confidence == 1.0
    assert match.evidence[0]["field"] == "new_person"


def test_a_look_alike_is_looked_for_by_name_only_within_its_village() -> None:
    # given a name stored in one village, a look-alike there and one elsewhere in the county
    home = set(stored_blocking_keys("王小明", VILLAGE))
    same_village = set(stored_blocking_keys("玉小明", VILLAGE))
    same_county = set(stored_blocking_keys("玉小明", "411202002003"))
    coded_to_county = set(stored_blocking_keys("王小明", "411202000000"))
    # then only the first shares a key with it; the same name anywhere in the county shares
    # its pinyin key, and a mention coded no finer than the county has that key alone
    assert home & same_village and not home & same_county
    assert coded_to_county == {"py:wang|xiao|ming@411202"} and coded_to_county < home
