"""Documents cleared by the field rules are remembered (schema/access.py), never a refusal,
and only for what the rules read: role, ``pii:read``, whether a purpose was given."""

from __future__ import annotations

import pytest

from domain.roles import PII_SCOPE, Principal, Role
from resolvers.root import schema
from schema import access
from schema.access import checked_access_problems, selected_fields
from schema.errors import Forbidden, PurposeRequired

QUERY_PARTIES = "{ records(first: 1) { edges { node { id parties { name } } } } }"
QUERY_ID_NUMBERS = "{ records(first: 1) { edges { node { id parties { idNumber } } } } }"

GRAPHQL = schema._schema


def _principal(role: Role, *scopes: str) -> Principal:
    return Principal("x", role, regions=("4112",), scopes=frozenset(scopes))


def test_a_document_cleared_for_one_role_is_still_refused_to_another() -> None:
    # given a document selecting parties, cleared for centre staff
    fields = selected_fields(GRAPHQL, QUERY_PARTIES)
    assert (
        checked_access_problems(_principal(Role.CENTER_STAFF), None, "prod", fields, GRAPHQL) == []
    )
    assert (
        checked_access_problems(_principal(Role.CENTER_STAFF), None, "prod", fields, GRAPHQL) == []
    )
    # when a role that reads no parties sends it
    problems = checked_access_problems(_principal(Role.AUDITOR), None, "prod", fields, GRAPHQL)
    # then it is refused all the same
    assert problems and all(isinstance(p, Forbidden) for p in problems)


def test_a_cleared_document_still_needs_a_purpose_for_identifiers() -> None:
    # given identifiers cleared for a pii:read principal who stated a purpose
    fields = selected_fields(GRAPHQL, QUERY_ID_NUMBERS)
    reader = _principal(Role.CENTER_STAFF, PII_SCOPE)
    assert checked_access_problems(reader, "案件 2024-17", "prod", fields, GRAPHQL) == []
    # when the same principal sends it without one
    problems = checked_access_problems(reader, None, "prod", fields, GRAPHQL)
    # then the purpose is required, as when nothing was remembered
    assert [type(p) for p in problems] == [PurposeRequired]


def test_the_cleared_documents_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # given room for two cleared documents
    monkeypatch.setattr(access, "CLEARED_DOCUMENTS", 2)
    monkeypatch.setattr(access, "_CLEARED", type(access._CLEARED)())
    staff = _principal(Role.CENTER_STAFF)
    # when three distinct documents are cleared
    for query in ("{ version }", "{ records(first: 1) { totalCount } }", QUERY_PARTIES):
        assert (
            checked_access_problems(staff, None, "prod", selected_fields(GRAPHQL, query), GRAPHQL)
            == []
        )
    # then only the two most recent are kept
    assert len(access._CLEARED) == 2


def test_a_documents_hash_is_worked_out_once_per_text() -> None:
    import hashlib

    # given a document's hash worked out once
    access.document_hash.cache_clear()
    first = access.document_hash(QUERY_PARTIES)
    # when the same text comes again (another string object) and another text after it
    again = access.document_hash("".join(QUERY_PARTIES))
    other = access.document_hash(QUERY_ID_NUMBERS)
    # then the same text is answered from the cache, each with its own SHA-256
    assert again == first == hashlib.sha256(QUERY_PARTIES.encode()).hexdigest()
    assert other == hashlib.sha256(QUERY_ID_NUMBERS.encode()).hexdigest()
    assert access.document_hash.cache_info().hits == 1
