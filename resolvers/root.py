"""The assembled Strawberry schema (GraphQL 模式): the root types bound to their resolvers,
and the extensions every operation passes through.

The root types live here, above ``schema/`` (the types) and beside the resolvers they bind,
so that schema types never import resolvers. The typed list field of each record kind is
generated from the kind table (``domain.kinds``).
"""

from __future__ import annotations

import functools
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

import strawberry
import structlog
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from domain.kinds import KINDS, KindSpec
from resolvers import queries
from resolvers.audit import resolve_audit_chain_status, resolve_audit_log
from resolvers.linking import resolve_linked_records, resolve_person_timeline
from resolvers.matter_stats import (
    resolve_matter_kpis,
    resolve_matter_stats,
    resolve_overdue_matters,
)
from resolvers.matters import resolve_matter, resolve_matters
from resolvers.mutation import Mutation
from resolvers.operations import resolve_dead_letters, resolve_viewer, resolve_writeback_backlog
from resolvers.reads import ReadTransaction
from resolvers.report import resolve_monthly_report
from resolvers.stats import (
    resolve_kpi_definitions,
    resolve_open_risks,
    resolve_record_kpis,
    resolve_record_stats,
)
from resolvers.subscription import Subscription
from resolvers.sync import resolve_sync_status
from resolvers.writeback import resolve_writebacks
from schema.access import Authenticate, FieldRules
from schema.audit import AuditChainStatus, AuditLogEntry
from schema.audit_trail import AuditTrail
from schema.errors import ErrorCode, PublicErrors, client_code
from schema.extension_hooks import KnownHooksRunner
from schema.fastpath.executor import PlainFieldExecutor, streamline_resolvers
from schema.fastpath.prebuilt import mark_accepts_prebuilt
from schema.input_guard import HostileInput
from schema.kinds import KIND_TYPES, TYPE_OF_KIND
from schema.limits import QueryLimits
from schema.linking import RecordLink, TimelineEntry
from schema.matter_stats import MatterKpiRow, MatterStatRow, OverdueMatterItem
from schema.matters import MatterNode
from schema.operations import DeadLetterEntry, Viewer, WriteBackBacklog
from schema.pagination import Connection
from schema.persons import Person
from schema.records import Record
from schema.regions import Region
from schema.report import ReportFile
from schema.risks import RiskItem
from schema.scalars import BEIJING_DATETIME
from schema.sensitivity import (
    ADMINISTRATION,
    AUDIT,
    FIGURES,
    MATTERS,
    OPERATIONS,
    PERSONAL,
    RECORDS,
    records_of_kind,
)
from schema.stats import KpiDefinitionType, KpiRow, StatRow
from schema.sync import SourceSyncStatus
from schema.validation import DocumentValidation
from schema.writeback import WriteBack

log = structlog.get_logger(__name__)


def _govhub_version() -> str:
    try:
        return package_version("govhub")
    except PackageNotFoundError:  # running from a checkout without an install
        return "0.0.0+local"


def _kind_connection(spec: KindSpec) -> Any:
    # Any: the field stands in for a Connection of the concrete kind in the class body.
    node_type = TYPE_OF_KIND[spec.kind]
    return strawberry.field(
        name=spec.list_field,
        metadata=records_of_kind(spec.kind),
        resolver=queries.records_resolver(spec.kind),
        graphql_type=Connection[node_type],  # type: ignore[valid-type]  # a concrete kind type
        description=f"{node_type.__name__} records only, with their own fields ({spec.label}).",
    )


def _with_kind_connections(cls: type) -> type:
    """``cls`` with one typed connection per kind of the kind table, right after ``records``.

    Strawberry reads a type's fields in annotation order, so the class is rebuilt with the
    generated fields (and their annotations) in place: the SDL keeps its order as kinds are
    added.
    """
    namespace: dict[str, Any] = {}
    annotations: dict[str, Any] = {}
    for name, annotation in cls.__annotations__.items():
        annotations[name] = annotation
        if name == "records":
            for spec in KINDS:
                attribute = f"kind_{spec.list_field}"
                node_type: Any = TYPE_OF_KIND[spec.kind]  # a concrete kind type, known at run time
                annotations[attribute] = Connection[node_type]
                namespace[attribute] = _kind_connection(spec)
    for name, value in vars(cls).items():
        if name not in ("__dict__", "__weakref__", "__annotations__"):
            namespace.setdefault(name, value)
    namespace["__annotations__"] = annotations
    return type(cls.__name__, cls.__bases__, namespace)


@strawberry.type(description="Entry points for reading govhub (查询入口).")
@_with_kind_connections
class Query:
    @strawberry.field(description="The running govhub version (版本号).")
    def version(self) -> str:
        return _govhub_version()

    node: relay.Node | None = strawberry.field(
        metadata=RECORDS,
        resolver=queries.resolve_node,
        description=(
            "Any object by its global id (按全局 ID 查询). An unknown id answers null with a "
            "NOT_FOUND error; a malformed one, BAD_USER_INPUT."
        ),
    )
    nodes: list[relay.Node | None] = strawberry.field(
        metadata=RECORDS,
        resolver=queries.resolve_nodes,
        description=(
            "Objects by global id (批量查询), each on its own: an unknown id, or one outside "
            "what you may read, is null in its place without an error (as Relay expects); a "
            "malformed or refused id is null with its error (BAD_USER_INPUT, FORBIDDEN) at "
            "its index of the path; the others are answered."
        ),
    )
    records: Connection[Record] = strawberry.field(
        metadata=RECORDS,
        resolver=queries.records_resolver(),
        description="Records of every kind, newest first by default (全部记录).",
    )
    person: Person | None = strawberry.field(
        metadata=PERSONAL,
        resolver=queries.resolve_person,
        description="A resolved person by global id (自然人); unknown ids answer NOT_FOUND.",
    )
    persons: Connection[Person] = strawberry.field(
        metadata=PERSONAL,
        resolver=queries.resolve_persons,
        description="Resolved persons whose name starts with `search` (自然人检索).",
    )
    linked_records: list[RecordLink] | None = strawberry.field(
        metadata=RECORDS,
        resolver=resolve_linked_records,
        description=(
            "A record's linked records in other systems, both ways, strongest first (关联记录): "
            "link kind, confidence, evidence and decision; rejected links and records out of "
            "reach are left out. An unknown or out-of-reach record answers NOT_FOUND."
        ),
    )
    person_timeline: list[TimelineEntry] | None = strawberry.field(
        metadata=PERSONAL,
        resolver=resolve_person_timeline,
        description=(
            "A person's records across the five systems, by occurrence (人员时间线); a merged "
            "person answers with the one kept. Records out of reach are left out; a person "
            "none within reach names answers NOT_FOUND."
        ),
    )
    record_stats: list[StatRow] = strawberry.field(
        metadata=FIGURES,
        resolver=resolve_record_stats,
        description=(
            "Record counts grouped by any of kind, source, category, status, risk level, region "
            "(rolled up to a level) and a Beijing calendar period, over the same filter as "
            "`records` and only what the role may read (分组统计). Rankings: `top`."
        ),
    )
    record_kpis: list[KpiRow] = strawberry.field(
        metadata=FIGURES,
        resolver=resolve_record_kpis,
        description=(
            "KPIs over records with numerator, denominator and definition, grouped like "
            "`recordStats` (考核指标): 调解成功率, 诉前调解成功率, 万人起诉率, 重复信访率 "
            "(重复信访件: 信访系统登记重复信访次数 ≥ 1, 或关联此前的信访件), 非警务警情分流率."
        ),
    )
    open_risks: list[RiskItem] = strawberry.field(
        metadata=FIGURES,
        resolver=resolve_open_risks,
        description=(
            "Records at a risk level (RED by default) not yet resolved, closed or withdrawn, "
            "newest first, within the filter and the role's reach (风险清单): kind, category, "
            "status, place, time and title only."
        ),
    )
    matter_stats: list[MatterStatRow] = strawberry.field(
        metadata=FIGURES,
        resolver=resolve_matter_stats,
        description=(
            "Matter counts grouped by any of step, status, category, risk level, origin, track "
            "(承办单位类型) and region (rolled up to a level), and a Beijing calendar period of "
            "the registration or closure date, over the same filter as `matters`, within the "
            "role's reach: jurisdiction, or a partner's own organisation (事项分组统计). "
            "Figures only: a dashboard gets them without reading a matter. Rankings: `top`."
        ),
    )
    matter_kpis: list[MatterKpiRow] = strawberry.field(
        metadata=FIGURES,
        resolver=resolve_matter_kpis,
        description=(
            "KPIs over matters with numerator, denominator and definition, and the handling "
            "duration P50/P90, grouped like `matterStats` (事项考核指标): 按期办结率 (an open "
            "matter whose handling limit ran out, running or stopped late, counts against "
            "it), 及时受理率, 回访率, 回访满意率, 化解在村/镇/县占比. Each KPI counts a matter on "
            "its own date (see its definition)."
        ),
    )
    overdue_matters: list[OverdueMatterItem] = strawberry.field(
        metadata=FIGURES,
        resolver=resolve_overdue_matters,
        description=(
            "Open matters with a running clock past due, longest overdue first, within the "
            "filter and the role's reach (逾期清单): case code, category, step, place, "
            "organisations and since when — no title, no party."
        ),
    )
    kpi_definitions: list[KpiDefinitionType] = strawberry.field(
        metadata=FIGURES,
        resolver=resolve_kpi_definitions,
        description="How each KPI is counted (指标口径).",
    )
    monthly_report: ReportFile = strawberry.field(
        metadata=FIGURES,
        resolver=resolve_monthly_report,
        description=(
            "The monthly review of a region and period as an XLSX workbook (月研判报表), the "
            "one `govhub report` writes: record and matter KPIs, counts by region, category, "
            "kind and risk level, the trend and the KPI definitions — counted within the "
            "role's reach as `recordKpis` and `matterKpis` count, small cells left empty and "
            "marked 小数抑制. A region outside the jurisdiction is FORBIDDEN."
        ),
    )
    matters: Connection[MatterNode] = strawberry.field(
        metadata=MATTERS,
        resolver=resolve_matters,
        description=(
            "Matters in the closed loop (事项), newest first by default: staff see those in "
            "their jurisdiction, partners those dispatched to their organisation."
        ),
    )
    matter: MatterNode | None = strawberry.field(
        metadata=MATTERS,
        resolver=resolve_matter,
        description="A matter by global id (事项); one out of reach answers NOT_FOUND.",
    )
    region: Region | None = strawberry.field(
        resolver=queries.resolve_region,
        description="A region by code (行政区划); unknown codes answer NOT_FOUND.",
    )
    regions: list[Region] = strawberry.field(
        resolver=queries.resolve_regions,
        description="The regions directly beneath `parent`, or the top of the tree (下级区划).",
    )
    writebacks: list[WriteBack] = strawberry.field(
        metadata=OPERATIONS,
        resolver=resolve_writebacks,
        description=(
            "Write-backs to the departments' systems (回写状态), oldest first, without "
            "payloads: an administrator sees every write-back, centre staff those of the "
            "matters in their jurisdiction."
        ),
    )
    sync_status: list[SourceSyncStatus] = strawberry.field(
        resolver=resolve_sync_status,
        description="Sync health of each source system (数据源同步状态).",
    )
    audit_log: Connection[AuditLogEntry] = strawberry.field(
        metadata=AUDIT,
        resolver=resolve_audit_log,
        description="Audited operations, newest first; auditor role only (审计日志).",
    )
    viewer: Viewer = strawberry.field(
        resolver=resolve_viewer,
        description=(
            "Who is asking (当前用户): principal, role, organisation, jurisdiction, and the "
            "rights and console menu the role policy gives."
        ),
    )
    dead_letters: Connection[DeadLetterEntry] = strawberry.field(
        metadata=ADMINISTRATION,
        resolver=resolve_dead_letters,
        description=(
            "Source records that could not be ingested, newest first, without payloads; "
            "admin only (死信)."
        ),
    )
    writeback_backlog: list[WriteBackBacklog] = strawberry.field(
        metadata=ADMINISTRATION,
        resolver=resolve_writeback_backlog,
        description=(
            "The outbox per target system: rows by state, the oldest unsettled write's age, "
            "and the unsettled writes with attempts and last error; admin only (回写积压)."
        ),
    )
    audit_chain_status: AuditChainStatus = strawberry.field(
        metadata=AUDIT,
        resolver=resolve_audit_chain_status,
        description="Verify the audit log's hash chain now; auditor role only (审计链校验).",
    )


# Failures of govhub itself; every other code is a client's (bad input, no token, not
# allowed, not found) and is logged at info: the client was told, nothing needs an operator.
SERVER_ERRORS = frozenset({ErrorCode.INTERNAL_SERVER_ERROR, ErrorCode.SERVICE_UNAVAILABLE})


class GovhubSchema(strawberry.Schema):
    """Logs errors without their messages' data: codes and types only, never PII or SQL;
    finds its extensions' hooks once per extension class (``schema.extension_hooks``)."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return KnownHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            code = client_code(error)  # what the client is told, parse and validation too
            (log.warning if code is None or code in SERVER_ERRORS else log.info)(
                "graphql_error",
                code=code,
                error=type(original).__name__ if original else type(error).__name__,
                path=error.path,
            )


def build_schema(*, streamlined: bool = True) -> GovhubSchema:
    """The schema; ``streamlined=False`` keeps graphql-core's and Strawberry's general paths
    instead of the lighter ones (schema.fastpath): the tests compare the two, and
    ``GOVHUB_FAST_PATH=false`` serves the general one."""
    built = GovhubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(KIND_TYPES),
        execution_context_class=PlainFieldExecutor if streamlined else None,
        scalar_overrides={datetime: BEIJING_DATETIME},
        # Order matters: the audit trail wraps everything (it sees every outcome, codes final);
        # authentication runs before parsing; field rules after validation, before the limits.
        extensions=[
            AuditTrail,
            Authenticate,
            DocumentValidation,
            FieldRules,
            HostileInput,
            QueryLimits,
            PublicErrors,
            ReadTransaction,
        ],
    )
    if streamlined:
        streamline_resolvers(built)
        mark_accepts_prebuilt(built._schema)
    return built


schema = build_schema()


@functools.cache
def general_schema() -> GovhubSchema:
    """The same schema on graphql-core's general execution path only (built on first use)."""
    return build_schema(streamlined=False)
