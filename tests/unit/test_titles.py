"""The title a role is shown: the source's, or category and region (domain/titles.py)."""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType

from domain.enums import DisputeCategory
from domain.roles import POLICIES, Role
from domain.titles import reads_source_title, redacted_title
from resolvers.root import schema
from schema.fastpath.marks import DIRECT_SYNC


@pytest.mark.parametrize(
    ("category", "region", "title"),
    [
        (DisputeCategory.HOUSING_HOMESTEAD, "湖滨区", "房屋宅基地纠纷 · 湖滨区"),
        (DisputeCategory.NEIGHBOUR, None, "邻里纠纷"),
        (DisputeCategory.LABOUR, "渑池县", "劳动争议 · 渑池县"),
    ],
)
def test_a_redacted_title_is_category_and_region(
    category: DisputeCategory, region: str | None, title: str
) -> None:
    assert redacted_title(category, region) == title


def test_the_source_title_needs_parties_and_free_text() -> None:
    readers = {role for role in Role if reads_source_title(POLICIES[role])}
    assert Role.DASHBOARD_VIEWER not in readers and Role.PARTNER_JUDICIAL not in readers
    assert readers == {r for r in Role if POLICIES[r].parties and POLICIES[r].free_text}
    assert not reads_source_title(None)


def test_every_title_a_role_is_shown_is_read_in_place_on_the_lighter_path() -> None:
    # given the served schema, whose compiled readers call a synchronous rereadable resolver
    # themselves instead of awaiting a coroutine per row
    titled = {
        name: named_type.fields["title"]
        for name, named_type in schema._schema.type_map.items()
        if isinstance(named_type, GraphQLObjectType) and "title" in named_type.fields
    }
    # then every title (records', the open risk list's, matters') is read that way
    assert {"Dispute", "RiskItem", "Matter"} <= set(titled)
    awaited = [name for name, field in titled.items() if not getattr(field.resolve, DIRECT_SYNC, 0)]
    assert awaited == []
