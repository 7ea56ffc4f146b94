"""The staff console's sources against the API they call: every GraphQL document in them is
valid against the schema, every enum value the API can send has a Chinese name, and nothing
in them points anywhere but govhub."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLObjectType, get_named_type, parse, validate

from console import CONSOLE
from domain.enums import Role
from resolvers.root import schema

VENDOR = CONSOLE / "vendor"  # third-party files, pinned by checksum (vendor/*/README.md)
SOURCES = sorted(path for path in CONSOLE.rglob("*.js") if VENDOR not in path.parents)
# A template literal that is a GraphQL document: starts with query, mutation or subscription.
DOCUMENT = re.compile(r"`\s*((?:query|mutation|subscription)\b[^`]*)`")
# Chinese names per API enum, by the constant in labels.js that holds them.
LABELLED_ENUMS = {
    "KIND": "RecordKind",
    "SOURCE": "SourceSystem",
    "CATEGORY": "DisputeCategory",
    "STATUS": "CaseStatus",
    "RISK": "RiskLevel",
    "PARTY_ROLE": "PartyRole",
    "DIRECTION": "LinkDirection",
    "CHANGE": "RecordChangeKind",
    "KPI": "KpiId",
    "RISK_OVERRIDE_ERROR": "RiskOverrideErrorCode",
    "STEP": "MatterStep",
    "ORIGIN": "MatterOrigin",
    "TRACK": "DispatchTrack",
    "TIER": "ComplexityTier",
    "OUTCOME": "MatterOutcome",
    "SATISFACTION": "Satisfaction",
    "CLOCK_STATE": "ClockState",
    "SUPERVISION_LEVEL": "SupervisionLevel",
    "SUPERVISION_STATUS": "SupervisionStatus",
    "ACTOR_KIND": "ActorKind",
    "MATTER_EVENT": "MatterEventKind",
    "MATTER_ERROR": "MatterErrorCode",
    "WRITEBACK_STATE": "WriteBackState",
}


def _documents() -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        found += [
            (f"{path.name}:{m.group(1).split('(')[0][:40]}", m.group(1))
            for m in DOCUMENT.finditer(text)
        ]
    return found


def _table(name: str) -> set[str]:
    return set(_names(name))


def _names(name: str) -> dict[str, str]:
    """A labels.js table: code → Chinese name."""
    labels = (CONSOLE / "js" / "labels.js").read_text(encoding="utf-8")
    match = re.search(rf"export const {name} = \{{(.*?)\}};", labels, re.DOTALL)
    assert match, f"labels.js has no table {name}"
    return dict(re.findall(r"(\w+):\s*'([^']*)'", match.group(1)))


def test_the_console_holds_graphql_documents() -> None:
    assert len(_documents()) >= 15


@pytest.mark.parametrize(("where", "document"), _documents(), ids=lambda value: value[:40])
def test_every_document_is_valid_against_the_schema(where: str, document: str) -> None:
    errors = validate(schema._schema, parse(document))
    assert errors == [], f"{where}: {[error.message for error in errors]}"


@pytest.mark.parametrize(("table", "enum"), LABELLED_ENUMS.items())
def test_every_enum_value_has_a_chinese_name(table: str, enum: str) -> None:
    graphql_enum = schema._schema.type_map[enum]
    assert isinstance(graphql_enum, GraphQLEnumType)
    assert set(graphql_enum.values) <= _table(table)


def test_every_role_has_a_chinese_name() -> None:
    assert {role.value for role in Role} <= _table("ROLE")


def test_every_timeline_action_and_clock_unit_has_a_chinese_name() -> None:
    from domain.deadlines.rules import TimeUnit
    from domain.workflow.vocabulary import MatterAction, SupervisionAction

    actions = {a.value for a in MatterAction} | {a.value for a in SupervisionAction}
    by_the_hub = {"RECORD_JOINED", "WARNING", "OVERDUE", "RECORD_ATTACHED", "RECORD_DETACHED"}
    assert actions | by_the_hub | {"MERGED_FROM", "SPLIT_TO"} <= _table("MATTER_ACTION")
    assert {unit.value for unit in TimeUnit} <= _table("CLOCK_UNIT")


def test_every_write_back_operation_has_a_chinese_name() -> None:
    from domain.writeback import WriteOperation

    labels = (CONSOLE / "js" / "labels.js").read_text(encoding="utf-8")
    table = re.search(r"export const WRITE_OPERATION = \{(.*?)\};", labels, re.DOTALL)
    assert table, "labels.js has no table WRITE_OPERATION"
    assert {op.value for op in WriteOperation} <= set(re.findall(r"'([\w.]+)':", table.group(1)))


def test_a_refused_or_exhausted_write_back_is_named_as_the_api_describes_it() -> None:
    """FAILED (对方拒收) is never sent again and DEAD (重试用尽) has no attempt left: the
    console's name says so, and promises no retry the relay will not make."""
    described = schema._schema.type_map["WriteBackState"].description or ""
    names = _names("WRITEBACK_STATE")
    for state in ("FAILED", "DEAD"):
        gloss = re.search(rf"{state} ([^,(.]+)", described)
        assert gloss, f"WriteBackState's description names no {state}"
        assert gloss.group(1) in names[state]
        assert "将重试" not in names[state]


def _sync_run_error_codes() -> set[str]:
    """The codes a sync run's error can begin with: a failed call's (``error_code``, or ERROR
    for what the tree does not name) and those the sync and its workers write themselves
    (``result.error = "ABANDONED: ..."``)."""
    from connectors import errors

    written = re.compile(r'\berror\s*=\s*\(?\s*f?"([A-Z][A-Z0-9_]*): ')
    hub_sources = Path(errors.__file__).parents[1]
    own = {
        code
        for package in ("connectors", "hub")
        for path in (hub_sources / package).rglob("*.py")
        for code in written.findall(path.read_text(encoding="utf-8"))
    }
    return {code for _, code in errors._CODES} | {"ERROR"} | own


def test_every_sync_run_error_code_has_a_chinese_explanation() -> None:
    codes = _sync_run_error_codes()
    assert {"SERVER_ERROR", "AUTH", "BREAKER_OPEN", "INTERNAL", "WORKER_DIED"} <= codes
    assert codes <= _table("SYNC_ERROR")
    # INCOMPLETE is a run's status, its error naming no code: syncRunProblem explains it by status
    assert "INCOMPLETE" in _table("SYNC_ERROR")


def test_every_write_back_error_code_has_a_chinese_name() -> None:
    # 回写状态 on a matter's page names why a write to a department's system failed: every
    # code the relay stores (connectors.errors.error_code, REJECTED, ERROR for the rest)
    from connectors.errors import _CODES

    codes = {code for _kind, code in _CODES} | {"REJECTED", "ERROR"}
    assert codes <= _table("WRITE_ERROR")


def test_every_error_code_has_a_chinese_message() -> None:
    from schema.errors import ErrorCode

    assert {code.value for code in ErrorCode} <= _table("ERROR")


def _due_instant_fields() -> set[str]:
    """The API's fields holding a due instant (到期时间, 逾期起算): DateTime fields said to be
    due in their description."""
    fields = set()
    for kind in schema._schema.type_map.values():
        if isinstance(kind, GraphQLObjectType) and not kind.name.startswith("__"):
            fields |= {
                name for name, field in kind.fields.items()
                if get_named_type(field.type).name == "DateTime"
                and re.search(r"\bdue\b", field.description or "", re.IGNORECASE)
            }  # fmt: skip
    return fields


def test_every_due_instant_is_shown_as_its_last_day_at_24_00() -> None:
    """A due instant at midnight ends the day before (24:00): shown by ``dueTime``, never by
    ``beijingTime``, which would show the next day at 00:00 (tests/e2e/test_console_due.py
    runs ``dueTime`` itself)."""
    fields = _due_instant_fields()
    assert {"dueAt", "overdueSince"} <= fields
    shown_by: dict[str, set[str]] = {name: set() for name in fields}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for helper, argument in re.findall(r"\b(beijingTime|dueTime)\(([^()]*)\)", text):
            for name in fields:
                if re.search(rf"\.{name}\b", argument):
                    shown_by[name].add(helper)
                    assert helper == "dueTime", f"{path.name} shows {argument} by {helper}"
    assert all(helpers == {"dueTime"} for helpers in shown_by.values()), shown_by


@pytest.mark.parametrize("path", [*SOURCES, CONSOLE / "index.html"], ids=lambda p: p.name)
def test_nothing_points_outside_govhub(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path
    for target in re.findall(r"fetch\(\s*'([^']*)'", text):
        assert target == "/graphql", f"{path.name} fetches {target}"


def test_the_page_declares_its_icon_so_no_favicon_is_asked_for() -> None:
    """Without one the browser asks /favicon.ico, which the hub does not serve: a 404 and
    a console error on every load."""
    index = (CONSOLE / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<link rel="icon" href="data:[^"]*">', index)


def test_the_vendored_echarts_is_the_one_its_readme_names() -> None:
    folder = VENDOR / "echarts"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((folder / "echarts.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in readme
    assert "Apache-2.0" in readme and (folder / "LICENSE").exists()
