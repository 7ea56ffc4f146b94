"""Resolvers of the closed loop's mutations (事项办理): one per step, each a thin call into
:class:`db.matter_workflow.MatterWorkflow` as the principal's :class:`Actor`.

Which roles may call which mutation is decided before execution (``schema.access``: the
role's ``mutations``); the state machine decides the rest (step, jurisdiction, own
organisation, payload, version). Expected failures come back as :class:`MatterError` union
members with the domain's code; the operation itself is audited like every other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import strawberry

from db.matter_membership import attach_records, detach_records, merge_matters, split_matter
from db.matter_workflow import IntakeParty, MatterWorkflow, NewMatter
from db.models import Supervision
from domain.validators import InvalidIdentifier, normalize_phone, validate_resident_id
from domain.workflow.actors import Actor
from domain.workflow.errors import BadInput, NotFound, WorkflowError
from domain.workflow.payloads import OpenPayload, validated
from domain.workflow.vocabulary import MatterAction, MatterOrigin, SupervisionAction
from resolvers.cursors import parse_global_id
from resolvers.matters import load_matter_node
from resolvers.rows import KIND_OF_TYPE_NAME
from schema.context import Info
from schema.errors import BadUserInput, Forbidden, ServiceUnavailable
from schema.matter_inputs import (
    AssessMatterInput,
    CloseMatterInput,
    DispatchMatterInput,
    ExtendClockInput,
    MatterChanged,
    MatterError,
    MatterResult,
    OpenMatterInput,
    RecordFactInput,
    RedispatchMatterInput,
    ReportResultInput,
    RevisitMatterInput,
    SuperviseMatterInput,
    SupervisionChanged,
    SupervisionResult,
)
from schema.matters import MATTER_TYPE_NAME, SUPERVISION_TYPE_NAME, SupervisionOrder

A = MatterAction
MAX_PARTIES = 20

IdArg = Annotated[strawberry.ID, strawberry.argument(description="The matter's id (事项 ID).")]
OrderIdArg = Annotated[
    strawberry.ID, strawberry.argument(description="The supervision order's id (督办单 ID).")
]
VersionArg = Annotated[
    int | None,
    strawberry.argument(
        description="The version you saw; a matter changed since answers CONFLICT (版本号)."
    ),
]
NoteArg = Annotated[str, strawberry.argument(description="Note (备注).")]
ReasonArg = Annotated[str, strawberry.argument(description="Reason (理由).")]


def _service(info: Info) -> tuple[MatterWorkflow, Actor]:
    workflow = info.context.workflow
    if workflow is None:
        raise ServiceUnavailable("Matters need the running server (govhub serve).")
    principal = info.context.security.principal
    if principal is None:  # unreachable: unauthenticated operations are never executed
        raise Forbidden("Authentication required.")
    return workflow, Actor.of(principal)


def _pk(value: str, type_name: str) -> int:
    try:
        found, pk = parse_global_id(value)
    except BadUserInput:
        raise BadInput(f"id: not a {type_name} id") from None
    if found != type_name:
        raise BadInput(f"id: not a {type_name} id")
    return pk


def _fields(data: object) -> dict[str, Any]:
    return {k: v for k, v in vars(data).items() if v is not None}


async def _changed(info: Info, matter_id: int) -> MatterChanged:
    loaders = info.context.loaders.matters  # an earlier mutation of the document may have read it
    for loader in (loaders.clocks, loaders.events, loaders.supervisions, loaders.record_ids):
        if loader.cache_map.get(matter_id) is not None:
            loader.clear(matter_id)
    node = await load_matter_node(info, matter_id, scoped=False)
    if node is None:  # pragma: no cover - matters are never deleted
        raise NotFound(f"matter {matter_id} does not exist")
    return MatterChanged(matter=node)


async def _act(
    info: Info,
    id: str,
    action: MatterAction,
    payload: Mapping[str, Any] | None,
    expected_version: int | None,
) -> MatterResult:
    workflow, actor = _service(info)
    try:
        matter_id = _pk(id, MATTER_TYPE_NAME)
        await workflow.apply(
            matter_id, action, actor, payload, expected_version=expected_version
        )
        return await _changed(info, matter_id)
    except WorkflowError as error:
        return MatterError.of(error)


def _party(index: int, role: Any, name: str, id_number: str | None, phone: str | None
           ) -> IntakeParty:
    where = f"parties[{index}]"
    if not name.strip() or len(name) > 64:
        raise BadInput(f"{where}.name: 1 to 64 characters")
    try:
        id_number = validate_resident_id(id_number) if id_number else None
    except InvalidIdentifier as exc:
        raise BadInput(f"{where}.idNumber: {exc}") from None
    try:
        phone = normalize_phone(phone) if phone else None
    except InvalidIdentifier as exc:
        raise BadInput(f"{where}.phone: {exc}") from None
    return IntakeParty(role, name.strip(), id_number, phone)


async def resolve_open_matter(
    info: Info,
    input: Annotated[OpenMatterInput, strawberry.argument(description="Intake (登记内容).")],
) -> MatterResult:
    workflow, actor = _service(info)
    try:
        if input.origin not in (MatterOrigin.WALK_IN, MatterOrigin.PHONE):
            raise BadInput("origin: intake registers WALK_IN or PHONE matters")
        if len(input.parties) > MAX_PARTIES:
            raise BadInput(f"parties: at most {MAX_PARTIES}")
        if input.summary is not None and len(input.summary) > 2000:
            raise BadInput("summary: at most 2000 characters")
        payload = validated(OpenPayload, {
            "origin": input.origin, "region_code": input.region_code, "title": input.title,
            "category": input.category, "risk": input.risk,
        })  # fmt: skip
        parties = [
            _party(i, p.role, p.name, p.id_number, p.phone) for i, p in enumerate(input.parties)
        ]
        matter_id = await workflow.open(actor, NewMatter(payload, input.summary, parties))
        return await _changed(info, matter_id)
    except WorkflowError as error:
        return MatterError.of(error)


async def resolve_admit(info: Info, id: IdArg, note: NoteArg = "",
                        expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.ADMIT, {"note": note}, expected_version)


async def resolve_assess(info: Info, id: IdArg, input: AssessMatterInput,
                         expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.ASSESS, _fields(input), expected_version)


async def resolve_dispatch(info: Info, id: IdArg, input: DispatchMatterInput,
                           expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.DISPATCH, _fields(input), expected_version)


async def resolve_redispatch(info: Info, id: IdArg, input: RedispatchMatterInput,
                             expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.REDISPATCH, _fields(input), expected_version)


async def resolve_accept(info: Info, id: IdArg, note: NoteArg = "",
                         expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.ACCEPT, {"note": note}, expected_version)


async def resolve_object(info: Info, id: IdArg, reason: ReasonArg,
                         expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.OBJECT, {"reason": reason}, expected_version)


async def resolve_report_progress(info: Info, id: IdArg, note: NoteArg,
                                  expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.REPORT_PROGRESS, {"note": note}, expected_version)


async def resolve_report_result(info: Info, id: IdArg, input: ReportResultInput,
                                expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.REPORT_RESULT, _fields(input), expected_version)


async def resolve_verify(info: Info, id: IdArg, note: NoteArg = "",
                         expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.VERIFY, {"note": note}, expected_version)


async def resolve_send_back(info: Info, id: IdArg, reason: ReasonArg,
                            expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.SEND_BACK, {"reason": reason}, expected_version)


async def resolve_close(info: Info, id: IdArg, input: CloseMatterInput,
                        expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.CLOSE, _fields(input), expected_version)


async def resolve_revisit(info: Info, id: IdArg, input: RevisitMatterInput,
                          expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.REVISIT, _fields(input), expected_version)


async def resolve_reopen(info: Info, id: IdArg, reason: ReasonArg,
                         expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.REOPEN, {"reason": reason}, expected_version)


async def resolve_suspend(info: Info, id: IdArg, reason: ReasonArg,
                          expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.SUSPEND, {"reason": reason}, expected_version)


async def resolve_resume(info: Info, id: IdArg, note: NoteArg = "",
                         expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.RESUME, {"note": note}, expected_version)


async def resolve_withdraw(info: Info, id: IdArg, reason: ReasonArg,
                           expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.WITHDRAW, {"reason": reason}, expected_version)


async def resolve_extend(info: Info, id: IdArg, input: ExtendClockInput,
                         expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.EXTEND, _fields(input), expected_version)


async def resolve_record_fact(info: Info, id: IdArg, input: RecordFactInput,
                              expected_version: VersionArg = None) -> MatterResult:
    return await _act(info, id, A.RECORD_FACT, _fields(input), expected_version)


# -- 督办 ---------------------------------------------------------------------------------------


async def _order_changed(info: Info, order_id: int) -> SupervisionChanged:
    async with info.context.sessions() as session:
        row = await session.get(Supervision, order_id)
    assert row is not None
    changed = await _changed(info, row.matter_id)
    return SupervisionChanged(order=SupervisionOrder.from_row(row), matter=changed.matter)


async def resolve_supervise(info: Info, id: IdArg, input: SuperviseMatterInput,
                            expected_version: VersionArg = None) -> SupervisionResult:
    workflow, actor = _service(info)
    try:
        order_id = await workflow.supervise(
            _pk(id, MATTER_TYPE_NAME), actor, _fields(input), expected_version=expected_version
        )
        return await _order_changed(info, order_id)
    except WorkflowError as error:
        return MatterError.of(error)


async def _order_act(
    info: Info, id: str, action: SupervisionAction, payload: Mapping[str, Any],
    expected_version: int | None,
) -> SupervisionResult:
    workflow, actor = _service(info)
    try:
        order_id = await workflow.act_on_order(
            _pk(id, SUPERVISION_TYPE_NAME), action, actor, payload,
            expected_version=expected_version,
        )
        return await _order_changed(info, order_id)
    except WorkflowError as error:
        return MatterError.of(error)


async def resolve_reply_supervision(
    info: Info, id: OrderIdArg,
    reply: Annotated[str, strawberry.argument(description="Reply (督办回复).")],
    expected_version: VersionArg = None,
) -> SupervisionResult:
    return await _order_act(info, id, SupervisionAction.REPLY_SUPERVISION, {"reply": reply},
                            expected_version)


async def resolve_close_supervision(info: Info, id: OrderIdArg, reason: ReasonArg,
                                    expected_version: VersionArg = None) -> SupervisionResult:
    return await _order_act(info, id, SupervisionAction.CLOSE_SUPERVISION, {"reason": reason},
                            expected_version)


async def resolve_escalate_supervision(info: Info, id: OrderIdArg, reason: ReasonArg,
                                       expected_version: VersionArg = None
                                       ) -> SupervisionResult:
    return await _order_act(info, id, SupervisionAction.ESCALATE_SUPERVISION,
                            {"reason": reason}, expected_version)


# -- records of a matter, merge and split (关联、并案、拆案) ---------------------------------------

RecordIdsArg = Annotated[
    list[strawberry.ID],
    strawberry.argument(description="Records' global ids, at most 100 (记录 ID)."),
]


def _record_pks(values: list[strawberry.ID]) -> list[int]:
    pks = []
    for value in values:
        try:
            type_name, pk = parse_global_id(value)
        except BadUserInput:
            raise BadInput("recordIds: not record ids") from None
        if type_name not in KIND_OF_TYPE_NAME:
            raise BadInput("recordIds: not record ids")
        pks.append(pk)
    return pks


async def _membership(info: Info, change: Any) -> MatterResult:
    workflow, actor = _service(info)
    try:
        matter_id = await change(workflow, actor)
        return await _changed(info, matter_id)
    except WorkflowError as error:
        return MatterError.of(error)


async def resolve_attach_records(info: Info, id: IdArg, record_ids: RecordIdsArg,
                                 expected_version: VersionArg = None) -> MatterResult:
    async def change(workflow: MatterWorkflow, actor: Actor) -> int:
        matter_id = _pk(id, MATTER_TYPE_NAME)
        await attach_records(workflow, matter_id, _record_pks(record_ids), actor,
                             expected_version=expected_version)
        return matter_id

    return await _membership(info, change)


async def resolve_detach_records(info: Info, id: IdArg, record_ids: RecordIdsArg,
                                 reason: ReasonArg, expected_version: VersionArg = None
                                 ) -> MatterResult:
    async def change(workflow: MatterWorkflow, actor: Actor) -> int:
        matter_id = _pk(id, MATTER_TYPE_NAME)
        await detach_records(workflow, matter_id, _record_pks(record_ids), actor, reason,
                             expected_version=expected_version)
        return matter_id

    return await _membership(info, change)


async def resolve_merge_matters(
    info: Info,
    keep_id: Annotated[
        strawberry.ID, strawberry.argument(description="The matter kept (保留事项).")
    ],
    merge_ids: Annotated[
        list[strawberry.ID], strawberry.argument(description="Matters merged into it (并入事项).")
    ],
    reason: ReasonArg,
) -> MatterResult:
    async def change(workflow: MatterWorkflow, actor: Actor) -> int:
        merging = [_pk(m, MATTER_TYPE_NAME) for m in merge_ids]
        return await merge_matters(workflow, _pk(keep_id, MATTER_TYPE_NAME), merging, actor,
                                   reason)

    return await _membership(info, change)


async def resolve_split_matter(
    info: Info, id: IdArg, record_ids: RecordIdsArg,
    title: Annotated[str, strawberry.argument(description="The new matter's title (新事项标题).")],
    reason: ReasonArg,
) -> MatterResult:
    async def change(workflow: MatterWorkflow, actor: Actor) -> int:
        return await split_matter(workflow, _pk(id, MATTER_TYPE_NAME), _record_pks(record_ids),
                                  actor, title, reason)

    return await _membership(info, change)
