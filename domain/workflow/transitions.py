"""Who may do what, from where (流转规则) — one row per action, as data.

The machine reads this table; tests check it against a matrix written out by hand. Which
clocks an action starts and stops is not here: the deadline rules say that
(``starts_on``/``stops_on`` in the rules file).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.workflow.payloads import (
    AssessPayload,
    ClosePayload,
    DispatchPayload,
    ExtendPayload,
    NotePayload,
    OpenPayload,
    Payload,
    ProgressPayload,
    ReasonPayload,
    RecordFactPayload,
    RedispatchPayload,
    ResultPayload,
    RevisitPayload,
)
from domain.workflow.vocabulary import OPEN_STEPS, ActorKind, MatterAction, MatterStep

S = MatterStep
STAFF, PARTNER, SYSTEM = ActorKind.CENTRE_STAFF, ActorKind.PARTNER, ActorKind.SYSTEM


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    """One action: from which steps, to which step, by whom, carrying what."""

    sources: frozenset[MatterStep]
    target: MatterStep | None
    """None: the step does not change."""
    actors: frozenset[ActorKind]
    payload: type[Payload]
    while_suspended: bool = False
    """Allowed while the matter is suspended (挂起); the others wait for 恢复."""
    only_while_suspended: bool = False


def _spec(
    sources: set[MatterStep] | frozenset[MatterStep],
    target: MatterStep | None,
    actors: set[ActorKind],
    payload: type[Payload],
    *,
    while_suspended: bool = False,
    only_while_suspended: bool = False,
) -> TransitionSpec:
    return TransitionSpec(
        frozenset(sources), target, frozenset(actors), payload,
        while_suspended or only_while_suspended, only_while_suspended,
    )


HANDLING = {S.ACCEPTED, S.ASSESSED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS}
"""Steps in which a matter can be suspended (挂起) and resumed."""

TRANSITIONS: dict[MatterAction, TransitionSpec] = {
    # OPEN has no source step: MatterMachine.open creates the matter.
    MatterAction.OPEN: _spec(set(), S.REGISTERED, {STAFF, SYSTEM}, OpenPayload),
    MatterAction.ADMIT: _spec({S.REGISTERED}, S.ACCEPTED, {STAFF}, NotePayload),
    MatterAction.ASSESS: _spec(
        {S.ACCEPTED, S.ASSESSED, S.RETURNED}, S.ASSESSED, {STAFF}, AssessPayload
    ),
    MatterAction.DISPATCH: _spec({S.ASSESSED, S.RETURNED}, S.DISPATCHED, {STAFF}, DispatchPayload),
    MatterAction.REDISPATCH: _spec(
        {S.DISPATCHED, S.IN_PROGRESS, S.FED_BACK}, S.DISPATCHED, {STAFF}, RedispatchPayload
    ),
    MatterAction.ACCEPT: _spec({S.DISPATCHED}, S.IN_PROGRESS, {PARTNER}, NotePayload),
    MatterAction.OBJECT: _spec({S.DISPATCHED}, S.RETURNED, {PARTNER}, ReasonPayload),
    MatterAction.REPORT_PROGRESS: _spec(
        {S.DISPATCHED, S.IN_PROGRESS}, S.IN_PROGRESS, {PARTNER, SYSTEM}, ProgressPayload
    ),
    MatterAction.REPORT_RESULT: _spec(
        {S.DISPATCHED, S.IN_PROGRESS}, S.FED_BACK, {PARTNER, SYSTEM}, ResultPayload
    ),
    MatterAction.VERIFY: _spec({S.FED_BACK}, S.VERIFIED, {STAFF}, NotePayload),
    MatterAction.SEND_BACK: _spec({S.FED_BACK}, S.IN_PROGRESS, {STAFF}, ReasonPayload),
    MatterAction.CLOSE: _spec({S.VERIFIED}, S.CLOSED, {STAFF}, ClosePayload),
    MatterAction.REVISIT: _spec({S.CLOSED}, S.REVISITED, {STAFF}, RevisitPayload),
    MatterAction.REOPEN: _spec({S.REVISITED}, S.ACCEPTED, {STAFF}, ReasonPayload),
    MatterAction.SUSPEND: _spec(HANDLING, None, {STAFF}, ReasonPayload),
    MatterAction.RESUME: _spec(HANDLING, None, {STAFF}, NotePayload, only_while_suspended=True),
    MatterAction.EXTEND: _spec(
        OPEN_STEPS | {S.CLOSED}, None, {STAFF, PARTNER}, ExtendPayload, while_suspended=True
    ),
    MatterAction.RECORD_FACT: _spec(
        frozenset(MatterStep) - {S.WITHDRAWN},
        None,
        {STAFF, PARTNER, SYSTEM},
        RecordFactPayload,
        while_suspended=True,
    ),
    MatterAction.WITHDRAW: _spec(
        OPEN_STEPS, S.WITHDRAWN, {STAFF, SYSTEM}, ReasonPayload, while_suspended=True
    ),
}

PARTNER_ACTIONS = frozenset(a for a, spec in TRANSITIONS.items() if PARTNER in spec.actors)
"""Actions a partner may take — only on matters dispatched to its own organisation."""
