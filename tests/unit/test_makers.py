"""Schema objects made from rows without ``__init__`` (schema/makers.py) are the objects
``__init__`` makes; a type whose ``__init__`` would do more keeps it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from db.queries import KIND_COLUMNS, RECORD_COLUMNS, kind_label
from domain.enums import RecordKind
from schema.kinds import _FIELDS, _MAKERS, TYPE_OF_KIND, record_from_row
from schema.makers import maker_of
from schema.persons import Party, Person, party_from_row, person_from_row


@dataclasses.dataclass
class Plain:
    a: int
    b: str


@dataclasses.dataclass
class WithDefault:
    a: int
    b: str = "x"


@dataclasses.dataclass
class WithPostInit:
    a: int
    b: str

    def __post_init__(self) -> None:
        self.b = self.b.upper()


@dataclasses.dataclass(slots=True)
class Slotted:
    a: int
    b: str


def test_a_plain_dataclass_is_made_without_init() -> None:
    make = maker_of(Plain, ["a", "b"])
    assert make.__name__ == "make"
    made = make({"a": 1, "b": "乙"})
    assert type(made) is Plain and made == Plain(1, "乙") and vars(made) == vars(Plain(1, "乙"))


@pytest.mark.parametrize("cls", [WithDefault, WithPostInit, Slotted])
def test_a_type_whose_init_does_more_keeps_it(cls: type[Any]) -> None:
    make = maker_of(cls, ["a", "b"])
    assert make.__name__ == "construct"
    assert make({"a": 1, "b": "y"}) == cls(1, "y")


def test_attributes_other_than_the_init_fields_keep_init() -> None:
    assert maker_of(Plain, ["a"]).__name__ == "construct"
    assert maker_of(Plain, ["a", "b", "c"]).__name__ == "construct"
    with pytest.raises(TypeError):
        maker_of(Plain, ["a"])({"a": 1})  # as __init__ refuses it


@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("kind_columns", [True, False])
def test_every_record_kind_is_made_as_init_makes_it(kind: RecordKind, kind_columns: bool) -> None:
    assert _MAKERS[kind].__name__ == "make"  # the fast way holds for every kind
    row: dict[str, Any] = {name: f"v-{name}" for name in RECORD_COLUMNS}
    row.update({"id": 42, "kind": kind, "occurred_at": datetime(2026, 11, 30, tzinfo=UTC)})
    row.update({kind_label(kind, name): f"k-{name}" for name in KIND_COLUMNS[kind]})
    made = record_from_row(row, kind_columns=kind_columns)  # type: ignore[arg-type]
    node_type: Any = TYPE_OF_KIND[kind]
    values: dict[str, Any] = {
        attribute: (row[label] if kind_columns or label in RECORD_COLUMNS else None)
        for attribute, label in _FIELDS[kind]
    }
    expected = node_type(id=made.id, **values)
    assert type(made) is node_type
    assert vars(made) == vars(expected)


def test_parties_and_persons_are_made_as_init_makes_them() -> None:
    party_row = {
        "role": "APPLICANT", "source_role": "申请人", "name": "张三", "is_organisation": False,
        "person_id": 7, "sealed_id_number": "s1", "sealed_phone": None,
    }  # fmt: skip
    assert vars(party_from_row(party_row)) == vars(Party(**party_row))  # type: ignore[arg-type]
    person_row = {
        "id": 7, "name": "张三", "region_code": "411202", "sealed_id_number": "s1",
        "sealed_phone": "s2",
    }  # fmt: skip
    person = person_from_row(person_row)  # type: ignore[arg-type]
    expected = Person(
        id=person.id,
        person_id=7,
        name="张三",
        region_code="411202",
        sealed_id_number="s1",
        sealed_phone="s2",
    )
    assert vars(person) == vars(expected)
    labelled = {f"person__{name}": value for name, value in person_row.items()}
    assert vars(person_from_row(labelled, "person__")) == vars(expected)  # type: ignore[arg-type]


def test_timeline_entries_are_made_as_init_makes_them() -> None:
    from resolvers.linking import _make_entry
    from schema.linking import TimelineEntry

    values: dict[str, Any] = {
        "occurred_at": datetime(2026, 11, 30, tzinfo=UTC),
        "kind": RecordKind.PETITION,
        "roles": [],
        "mention_ids": ["UGFydHlNZW50aW9uOjE="],
        "record": None,
    }
    assert _make_entry.__name__ == "make"
    assert vars(_make_entry(dict(values))) == vars(TimelineEntry(**values))
