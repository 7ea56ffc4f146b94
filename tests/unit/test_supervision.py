"""督办: issuing, replying, closing, escalating — and repeated breach climbing region levels."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import Clock, ClockOpKind, load_rules
from domain.roles import Principal, Role
from domain.supervision import (
    SupervisionMachine,
    SupervisionStatus,
    breach_target,
    escalated,
    escalation,
    region_above,
)
from domain.workflow.actors import Actor
from domain.workflow.errors import WorkflowError, WorkflowErrorCode
from domain.workflow.state import MatterState
from domain.workflow.vocabulary import (
    MatterOrigin,
    MatterStep,
    SupervisionAction,
    SupervisionLevel,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 3, 10, tzinfo=SH)
RULES = load_rules()
MACHINE = SupervisionMachine(RULES)
CALENDAR = ChineseWorkingCalendar()
L = SupervisionLevel

MATTER = MatterState(
    step=MatterStep.IN_PROGRESS,
    origin=MatterOrigin.GRID_EVENT,
    region_code="411202001",
    assigned_org="org:tjw",
)
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("4112",)))
STAFF_ELSEWHERE = Actor.of(Principal("staff-2", Role.CENTER_STAFF, regions=("5101",)))
TARGET = Actor.of(Principal("m-1", Role.MEDIATOR, org="org:tjw"))
OTHER = Actor.of(Principal("c-1", Role.PARTNER_COURT, org="org:court"))
SCANNER = Actor.system("deadline-scanner")


@pytest.mark.parametrize(
    ("prior", "region", "expected"),
    [
        (0, "411202001", (L.REMINDER, "411202001")),  # 提醒 from the township itself
        (1, "411202001", (L.SUPERVISE, "411202")),  # 督办 from 湖滨区
        (2, "411202001", (L.LISTED, "411200")),  # 挂牌督办 from 三门峡市
        (3, "411202001", (L.LISTED, "410000")),  # … from 河南省
        (4, "411202001", (L.LISTED, "410000")),  # the province is the top
        (1, "411202001001", (L.SUPERVISE, "411202001")),  # village → township
        (1, "419001", (L.SUPERVISE, "410000")),  # 济源 sits directly under the province
        (1, None, (L.SUPERVISE, None)),
    ],
)
def test_repeated_breach_climbs_levels_and_regions(
    prior: int, region: str | None, expected: tuple[SupervisionLevel, str | None]
) -> None:
    assert escalation(prior, region) == expected


def test_region_above_keeps_what_it_cannot_raise() -> None:
    assert region_above("410000") == "410000"
    assert region_above("grid-17") == "grid-17"
    assert region_above(None) is None


def test_who_a_breach_supervises() -> None:
    assert breach_target(RULES["dispatch.accept"], MATTER, "centre") == "org:tjw"
    unassigned = MatterState(MatterStep.ASSESSED, MatterOrigin.GRID_EVENT, "411202001")
    assert breach_target(RULES["matter.tier.simple"], unassigned, "centre") == "centre"
    assert breach_target(RULES["matter.revisit"], MATTER, "centre") == "centre"
    assert breach_target(RULES["judicial_confirmation.apply"], MATTER, "centre") is None
    with pytest.raises(ValueError, match="escalates"):
        breach_target(RULES["supervision.reply"], MATTER, "centre")


def test_a_breached_clock_becomes_an_automatic_order_with_a_reply_clock() -> None:
    # the scanner's path: the clock's due rung is pending → 督办 its duty holder
    clock = Clock.start(RULES["dispatch.accept"], datetime(2025, 2, 24, 9, tzinfo=SH))
    # 3 wd from Mon 2/24: 2/25, 2/26, 2/27 → due 2/28 00:00; warn80 (ceil 2.4 = 3 days)
    # would coincide with it and is left out
    due = [r.key for r in clock.pending_rungs(CALENDAR, NOW)]
    assert due == ["warn50", "due"]

    issued = MACHINE.on_breach(MATTER, RULES["dispatch.accept"], "org:tjw", 0, NOW)
    order = issued.order
    assert (order.level, order.issuing_region, order.automatic) == (
        L.REMINDER, "411202001", True,
    )
    assert order.breach_rule_id == "dispatch.accept" and order.status is SupervisionStatus.OPEN
    # what staff read: the limit's Chinese name, in Chinese punctuation, not the rule's id
    assert order.reason == f"逾期：{RULES['dispatch.accept'].name}"
    assert [(op.kind, op.rule_id) for op in issued.clock_ops] == [
        (ClockOpKind.START, "supervision.reply")
    ]
    assert issued.events[0].action is SupervisionAction.ISSUE_SUPERVISION
    # 5 working days from Mon 3/3/2025: 3/4..3/10 (Mon)
    reply = Clock.start(RULES["supervision.reply"], NOW).schedule(CALENDAR)
    assert reply.last_day == datetime(2025, 3, 10).date()


def test_staff_issue_reply_and_close() -> None:
    issued = MACHINE.issue(
        MATTER, STAFF, {"level": "SUPERVISE", "target_org": "org:tjw", "reason": "推诿拖延"}, NOW
    )
    assert (issued.order.level, issued.order.issuing_region) == (L.SUPERVISE, "411202001")

    replied = MACHINE.apply(
        issued.order, SupervisionAction.REPLY_SUPERVISION, TARGET, {"reply": "已约双方面谈"}, NOW,
        expected_version=1,
    )
    assert (replied.order.status, replied.order.version) == (SupervisionStatus.REPLIED, 2)
    assert [(op.kind, op.rule_id) for op in replied.clock_ops] == [
        (ClockOpKind.STOP, "supervision.reply")
    ]
    closed = MACHINE.apply(
        replied.order, SupervisionAction.CLOSE_SUPERVISION, STAFF, {"reason": "回复属实"}, NOW
    )
    assert closed.order.status is SupervisionStatus.CLOSED and closed.clock_ops == ()


def test_escalation_supersedes_the_order_with_a_higher_one() -> None:
    first = MACHINE.on_breach(MATTER, RULES["dispatch.accept"], "org:tjw", 0, NOW).order
    escalated = MACHINE.apply(
        first, SupervisionAction.ESCALATE_SUPERVISION, SCANNER, {"reason": "督办逾期未回复"}, NOW
    )
    assert escalated.order.status is SupervisionStatus.ESCALATED
    successor = escalated.successor
    assert successor is not None
    assert (successor.level, successor.issuing_region, successor.rung) == (
        L.SUPERVISE, "411202", 1,
    )
    assert successor.reason == "升级：督办逾期未回复"
    assert successor.target_org == "org:tjw" and successor.status is SupervisionStatus.OPEN
    assert [(op.kind, op.rule_id) for op in escalated.clock_ops] == [
        (ClockOpKind.STOP, "supervision.reply")
    ]
    assert [(op.kind, op.rule_id) for op in escalated.successor_clock_ops] == [
        (ClockOpKind.START, "supervision.reply")
    ]
    assert [e.action for e in escalated.events] == [
        SupervisionAction.ESCALATE_SUPERVISION, SupervisionAction.ISSUE_SUPERVISION,
    ]


@pytest.mark.parametrize(
    ("prior", "region", "raised"),
    [
        (2, "411202001", (L.LISTED, "410000")),  # 挂牌督办 from the city: the province above
        (1, "411200", (L.LISTED, "410000")),  # 督办 from the province: the level rises
    ],
)
def test_an_order_below_the_top_of_level_or_region_escalates(
    prior: int, region: str, raised: tuple[SupervisionLevel, str]
) -> None:
    matter = MatterState(step=MatterStep.IN_PROGRESS, origin=MatterOrigin.GRID_EVENT,
                         region_code=region, assigned_org="org:tjw")  # fmt: skip
    order = MACHINE.on_breach(matter, RULES["dispatch.accept"], "org:tjw", prior, NOW).order
    assert escalated(order.level, order.issuing_region) == raised
    successor = MACHINE.apply(
        order, SupervisionAction.ESCALATE_SUPERVISION, STAFF, {"reason": "仍未办理"}, NOW
    ).successor
    assert successor is not None and (successor.level, successor.issuing_region) == raised


@pytest.mark.parametrize("actor", [STAFF, SCANNER], ids=["staff", "scanner"])
def test_a_listed_order_from_the_province_escalates_no_further(actor: Actor) -> None:
    # given a 挂牌督办 issued by 河南省, which has no region above it
    order = MACHINE.on_breach(MATTER, RULES["dispatch.accept"], "org:tjw", 3, NOW).order
    assert (order.level, order.issuing_region) == (L.LISTED, "410000")
    assert escalated(order.level, order.issuing_region) is None
    # when staff (or the scanner) escalate it
    with pytest.raises(WorkflowError) as caught:
        MACHINE.apply(order, SupervisionAction.ESCALATE_SUPERVISION, actor, {"reason": "x"}, NOW)
    # then it is refused, saying why: no identical order restarts the reply clock
    assert caught.value.code is WorkflowErrorCode.ILLEGAL_TRANSITION
    assert "LISTED issued by the top region (410000)" in caught.value.message
    # and an unplaced matter's 挂牌督办 is at the top too
    unplaced = MatterState(step=MatterStep.IN_PROGRESS, origin=MatterOrigin.WALK_IN,
                           region_code=None, assigned_org="org:tjw")  # fmt: skip
    top = MACHINE.on_breach(unplaced, RULES["dispatch.accept"], "org:tjw", 2, NOW).order
    assert (top.level, top.issuing_region) == (L.LISTED, None)
    assert escalated(top.level, top.issuing_region) is None


@pytest.mark.parametrize(
    ("action", "actor", "payload", "code"),
    [
        (SupervisionAction.REPLY_SUPERVISION, OTHER, {"reply": "x"}, "FORBIDDEN"),
        (SupervisionAction.REPLY_SUPERVISION, SCANNER, {"reply": "x"}, "FORBIDDEN"),
        (SupervisionAction.REPLY_SUPERVISION, TARGET, {"reply": ""}, "BAD_USER_INPUT"),
        (SupervisionAction.CLOSE_SUPERVISION, TARGET, {"reason": "x"}, "FORBIDDEN"),
        (SupervisionAction.CLOSE_SUPERVISION, STAFF_ELSEWHERE, {"reason": "x"}, "FORBIDDEN"),
        (SupervisionAction.ESCALATE_SUPERVISION, TARGET, {"reason": "x"}, "FORBIDDEN"),
        (SupervisionAction.ISSUE_SUPERVISION, STAFF, {}, "ILLEGAL_TRANSITION"),
    ],
)
def test_refusals_carry_codes(
    action: SupervisionAction, actor: Actor, payload: dict[str, str], code: str
) -> None:
    order = MACHINE.on_breach(MATTER, RULES["dispatch.accept"], "org:tjw", 0, NOW).order
    with pytest.raises(WorkflowError) as caught:
        MACHINE.apply(order, action, actor, payload, NOW)
    assert caught.value.code is WorkflowErrorCode(code)


def test_a_closed_order_moves_no_more_and_a_stale_version_conflicts() -> None:
    order = MACHINE.on_breach(MATTER, RULES["dispatch.accept"], "org:tjw", 0, NOW).order
    closed = MACHINE.apply(
        order, SupervisionAction.CLOSE_SUPERVISION, STAFF, {"reason": "已处理"}, NOW
    ).order
    for action, actor, payload in [
        (SupervisionAction.REPLY_SUPERVISION, TARGET, {"reply": "x"}),
        (SupervisionAction.ESCALATE_SUPERVISION, STAFF, {"reason": "x"}),
    ]:
        with pytest.raises(WorkflowError) as caught:
            MACHINE.apply(closed, action, actor, payload, NOW)
        assert caught.value.code is WorkflowErrorCode.ILLEGAL_TRANSITION
    with pytest.raises(WorkflowError) as stale:
        MACHINE.apply(order, SupervisionAction.CLOSE_SUPERVISION, STAFF, {"reason": "x"}, NOW,
                      expected_version=5)
    assert stale.value.code is WorkflowErrorCode.CONFLICT


@pytest.mark.parametrize(
    ("actor", "payload", "code"),
    [
        (TARGET, {"level": "REMINDER", "target_org": "org:tjw", "reason": "x"}, "FORBIDDEN"),
        (SCANNER, {"level": "REMINDER", "target_org": "org:tjw", "reason": "x"}, "FORBIDDEN"),
        (STAFF_ELSEWHERE, {"level": "REMINDER", "target_org": "org:tjw", "reason": "x"},
         "FORBIDDEN"),
        (STAFF, {"level": "URGENT", "target_org": "org:tjw", "reason": "x"}, "BAD_USER_INPUT"),
        (STAFF, {"level": "LISTED", "target_org": "org:tjw", "reason": "x",
                 "issuing_region": "4112"}, "BAD_USER_INPUT"),
    ],
)
def test_manual_issue_refusals(actor: Actor, payload: dict[str, str], code: str) -> None:
    with pytest.raises(WorkflowError) as caught:
        MACHINE.issue(MATTER, actor, payload, NOW)
    assert caught.value.code is WorkflowErrorCode(code)


COUNTY_STAFF = Actor.of(Principal("staff-3", Role.CENTER_STAFF, org="湖滨区综治中心",
                                  regions=("411202",)))
ISSUE = {"level": "SUPERVISE", "target_org": "org:tjw", "reason": "推诿拖延"}


@pytest.mark.parametrize(
    ("actor", "issuing", "expected"),
    [
        (STAFF, "411202001", "411202001"),  # the matter's own township
        (STAFF, "411202", "411202"),  # its county
        (STAFF, "411200", "411200"),  # its city, within the city staff's jurisdiction
        (COUNTY_STAFF, "411202", "411202"),
        (COUNTY_STAFF, "411200", "FORBIDDEN"),  # a county centre does not issue as the city
        (STAFF, "411203", "BAD_USER_INPUT"),  # another county: not above the matter
        (STAFF, "510104", "BAD_USER_INPUT"),  # another province altogether
        (STAFF, "411202002", "BAD_USER_INPUT"),  # a sibling township
    ],
)
def test_the_issuing_centre_is_the_matters_region_or_above_within_jurisdiction(
    actor: Actor, issuing: str, expected: str
) -> None:
    payload = {**ISSUE, "issuing_region": issuing}
    if expected.isdigit():
        assert MACHINE.issue(MATTER, actor, payload, NOW).order.issuing_region == expected
        return
    with pytest.raises(WorkflowError) as caught:
        MACHINE.issue(MATTER, actor, payload, NOW)
    assert caught.value.code is WorkflowErrorCode(expected)


@pytest.mark.parametrize("step", [MatterStep.CLOSED, MatterStep.REVISITED, MatterStep.WITHDRAWN])
def test_a_finished_matter_is_not_supervised(step: MatterStep) -> None:
    finished = MatterState(step=step, origin=MatterOrigin.GRID_EVENT, region_code="411202001")
    with pytest.raises(WorkflowError) as caught:
        MACHINE.issue(finished, STAFF, ISSUE, NOW)
    assert caught.value.code is WorkflowErrorCode.ILLEGAL_TRANSITION


@pytest.mark.parametrize(
    ("step", "note"), [(MatterStep.CLOSED, "事项已结案"), (MatterStep.WITHDRAWN, "事项已撤回")]
)
def test_orders_end_with_their_matter_and_stop_their_clocks(step: MatterStep, note: str) -> None:
    ended_by = Actor.system("matter-ended")
    issued = MACHINE.issue(MATTER, STAFF, ISSUE, NOW).order
    replied = MACHINE.apply(
        issued, SupervisionAction.REPLY_SUPERVISION, TARGET, {"reply": "已约谈"}, NOW
    ).order
    open_end = MACHINE.end_with_matter(issued, ended_by, NOW, step)
    assert open_end.order.status is SupervisionStatus.CLOSED and not open_end.order.clocks
    assert [(op.kind, op.rule_id) for op in open_end.clock_ops] == [
        (ClockOpKind.STOP, "supervision.reply")
    ]
    assert open_end.events[0].action is SupervisionAction.CLOSE_SUPERVISION
    assert open_end.events[0].note == f"{note}，督办随之办结"
    replied_end = MACHINE.end_with_matter(replied, ended_by, NOW, step)
    assert replied_end.order.status is SupervisionStatus.CLOSED and replied_end.clock_ops == ()
    with pytest.raises(WorkflowError) as caught:
        MACHINE.end_with_matter(open_end.order, ended_by, NOW, step)
    assert caught.value.code is WorkflowErrorCode.ILLEGAL_TRANSITION


def test_a_reply_limit_per_level_is_configuration(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """include_defaults = true

[[rule]]
id = "supervision.reply"
name = "督办回复"
scope = "local"
basis = "Local practice."
starts_on = ["ISSUE_SUPERVISION"]
stops_on = ["REPLY_SUPERVISION", "CLOSE_SUPERVISION", "ESCALATE_SUPERVISION"]
when = { levels = ["REMINDER", "SUPERVISE"] }
budget = 5
unit = "working_day"
duty = "supervised_org"

[[rule]]
id = "supervision.reply.listed"
name = "挂牌督办回复"
scope = "local"
basis = "Local practice."
starts_on = ["ISSUE_SUPERVISION"]
stops_on = ["REPLY_SUPERVISION", "CLOSE_SUPERVISION", "ESCALATE_SUPERVISION"]
when = { levels = ["LISTED"] }
budget = 2
unit = "working_day"
duty = "supervised_org"
""",
        encoding="utf-8",
    )
    machine = SupervisionMachine(load_rules(path))
    issued = machine.on_breach(MATTER, RULES["dispatch.accept"], "org:tjw", 2, NOW)
    assert issued.order.level is L.LISTED
    assert [op.rule_id for op in issued.clock_ops] == ["supervision.reply.listed"]
