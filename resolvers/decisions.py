"""Resolvers of staff decisions (人工研判): confirm or reject a link, merge or split persons.

Which roles may call them is decided before execution (``schema.access``: the role's
``mutations``). Here each decision is checked against the principal's jurisdiction
(:mod:`db.decision_scope`), applied by :mod:`db.decisions` with the principal's ``sub`` as
the decider (its own audit row, same transaction), and committed. Expected failures come
back as :class:`~schema.linking.LinkDecisionError` union members, never as raised errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db.decision_scope import ensure_link_within, ensure_mentions_within, ensure_persons_within
from db.decisions import (
    confirm_link,
    merge_persons,
    reject_link,
    split_person,
)
from db.models import Link
from db.risk_facts import records_of_persons
from domain.linking.errors import LinkingBadInput, LinkingError, LinkingNotFound
from resolvers.cursors import parse_global_id
from resolvers.rows import global_id
from schema.context import Info
from schema.errors import BadUserInput, Forbidden
from schema.linking import (
    LINK_TYPE_NAME,
    MENTION_TYPE_NAME,
    LinkDecided,
    LinkDecisionError,
    LinkDecisionResult,
    MergePersonsResult,
    PersonsMerged,
    PersonSplit,
    SplitPersonResult,
)
from schema.persons import Person

MAX_IDS = 100

LinkIdArg = Annotated[
    strawberry.ID, strawberry.argument(description="The link's global id (关联 ID).")
]


def _pk(value: str, type_name: str) -> int:
    try:
        found, pk = parse_global_id(value)
    except BadUserInput as exc:
        raise LinkingBadInput(f"invalid id {value[:40]!r}") from exc
    if found != type_name:
        raise LinkingBadInput(f"id {value[:40]!r} is not a {type_name}")
    return pk


def _pks(values: list[strawberry.ID], type_name: str) -> list[int]:
    if len(values) > MAX_IDS:
        raise LinkingBadInput(f"pass at most {MAX_IDS} ids")
    return [_pk(value, type_name) for value in values]


async def _regrade(info: Info, record_ids: list[int]) -> None:
    """After a decision commits: the records whose facts it changed, and their persons, are
    graded again (风险研判), so a merged person carries the grade of all their records at once
    rather than after the next sync touches one of them."""
    workflow = info.context.workflow
    if workflow is not None:
        await workflow.grade_records(record_ids)


def _decider(info: Info) -> str:
    principal = info.context.security.principal
    if principal is None:  # unreachable: unauthenticated operations are never executed
        raise Forbidden("Authentication required.")
    return principal.sub


async def _person(info: Info, person_id: int) -> Person:
    person = await info.context.loaders.person.load(person_id)
    if person is None:  # committed just now within the scope; gone only if raced away
        raise LinkingNotFound(f"person {person_id} does not exist")
    return info.context.security.saw_person(person)


async def _decide_link(
    info: Info,
    id: str,
    decide: Callable[[AsyncSession, int, str], Awaitable[Link]],
) -> LinkDecided | LinkDecisionError:
    by = _decider(info)
    try:
        link_id = _pk(id, LINK_TYPE_NAME)
        async with info.context.sessions.begin() as session:
            await ensure_link_within(session, link_id, info.context.security.scope)
            link = await decide(session, link_id, by)
    except LinkingError as error:
        return LinkDecisionError.of(error)
    await _regrade(info, [link.from_record_id, link.to_record_id])
    return LinkDecided(
        id=global_id(LINK_TYPE_NAME, link.id),
        link_kind=link.link_kind,
        decision=link.decision or "",
        decided_by=link.decided_by or by,
        decided_at=link.decided_at,  # type: ignore[arg-type]  # set by the decision itself
        from_record_id=link.from_record_id,
        to_record_id=link.to_record_id,
    )


async def resolve_confirm_link(info: Info, id: LinkIdArg) -> LinkDecisionResult:
    return await _decide_link(info, id, confirm_link)


async def resolve_reject_link(info: Info, id: LinkIdArg) -> LinkDecisionResult:
    return await _decide_link(info, id, reject_link)


async def resolve_merge_persons(
    info: Info,
    keep_id: Annotated[
        strawberry.ID, strawberry.argument(description="The person to keep (保留人员 ID).")
    ],
    merge_ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(description="The persons merged into it (并入人员 ID)."),
    ],
) -> MergePersonsResult:
    by = _decider(info)
    scope = info.context.security.scope
    try:
        keep = _pk(keep_id, "Person")
        merging = _pks(merge_ids, "Person")
        async with info.context.sessions.begin() as session:
            await ensure_persons_within(session, [keep, *merging], scope)
            await merge_persons(session, keep, merging, by)
            touched = sorted(await records_of_persons(session, [keep]))
        await _regrade(info, touched)
        return PersonsMerged(person=await _person(info, keep))
    except LinkingError as error:
        return LinkDecisionError.of(error)


async def resolve_split_person(
    info: Info,
    person_id: Annotated[
        strawberry.ID, strawberry.argument(description="The person to split (原人员 ID).")
    ],
    mention_ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(
            description="Mentions moving to a new person, from the timeline (当事人提及 ID)."
        ),
    ],
) -> SplitPersonResult:
    by = _decider(info)
    scope = info.context.security.scope
    try:
        person = _pk(person_id, "Person")
        moving = _pks(mention_ids, MENTION_TYPE_NAME)
        async with info.context.sessions.begin() as session:
            await ensure_persons_within(session, [person], scope)
            await ensure_mentions_within(session, moving, scope)
            split_off = await split_person(session, person, moving, by)
            split_off_id = split_off.id
            touched = sorted(await records_of_persons(session, [person, split_off_id]))
        await _regrade(info, touched)
        return PersonSplit(
            person=await _person(info, person), split_off=await _person(info, split_off_id)
        )
    except LinkingError as error:
        return LinkDecisionError.of(error)
