"""The Starlette application: GraphQL, health, readiness and metrics (应用入口)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from cross_web import AsyncHTTPRequestAdapter
from cross_web.exceptions import HTTPException
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketState
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types.unset import UNSET, UnsetType

from console import CONSOLE, CONSOLE_PATH
from db.audit import configure_audit_key
from db.audit_checkpoints import CheckpointFile
from db.engine import create_engine, session_factory
from db.matter_workflow import MatterWorkflow
from db.migrate import is_at_head
from db.pii import configure_pii
from domain.heap import collect_young_less_often, freeze_imported
from domain.roles import Principal, Role
from hub.audit import AuditWriter
from hub.auth import AuthenticationError, DevTokens, TokenVerifier
from hub.background import scheduled_sync
from hub.bus import EventBus, open_bus, record_announcer, redis_reachable
from hub.context import Context, header_text
from hub.cors import CorsPolicy, cors_policy
from hub.deadletters import SourceDeadLetters
from hub.graphiql import ASSET_PATH, ASSETS, graphiql_page, initial_token
from hub.graphql_http import GraphQLOverHTTP
from hub.guard import BodyLimit, UnauthenticatedLimit, attempt_counter
from hub.matters import build_workflow, deadline_scanner, intake_rules, matter_intake
from hub.metrics import SERVING_PROCESSES, MetricsMiddleware, exposed_registry
from hub.outbox import running_relay
from hub.persisted import load_persisted_documents, persisted_roles, with_document_id
from hub.risk import risk_alert_announcer, risk_config
from hub.settings import Settings, decode_key
from resolvers.root import general_schema, schema
from schema.audit_trail import expiry_event
from schema.security import RequestSecurity, clean_purpose

log = structlog.get_logger(__name__)


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    verifier: TokenVerifier
    audit: AuditWriter
    persisted_documents: Mapping[str, str] = field(default_factory=dict)
    persisted_roles: frozenset[Role] = frozenset()
    cors: CorsPolicy = field(default_factory=lambda: CorsPolicy(origins=(), localhost=False))
    bus: EventBus | None = None  # open while the app runs (lifespan)
    dev_tokens: DevTokens | None = None  # the devToken mutation's minter: dev only
    workflow: MatterWorkflow | None = None  # the closed loop, while the app runs
    dead_letters: SourceDeadLetters | None = None  # replayDeadLetter: with a sources file


class GovhubGraphQL(GraphQLOverHTTP):
    """Strawberry's ASGI app with govhub's typed per-request context.

    Every operation needs ``Authorization: Bearer <JWT>``. A refused credential is answered
    HTTP 401 with ``WWW-Authenticate: Bearer`` and one GraphQL error coded
    ``UNAUTHENTICATED`` (and audited); statuses and bodies follow ``hub.graphql_http``.
    GraphiQL is served in ``dev`` only.
    """

    def __init__(self, state: AppState) -> None:
        super().__init__(
            schema if state.settings.fast_path else general_schema(),
            graphql_ide="graphiql" if state.settings.env == "dev" else None,
            # One operation at a time per WebSocket: the connection's context (principal,
            # loaders, audit state) is then never shared by two operations at once.
            max_subscriptions_per_connection=1,
            allowed_origins=list(state.cors.origins),
        )
        self.state = state
        self._expiries: set[asyncio.Future[None]] = set()

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        """A page on another origin may subscribe when CORS would let it query (hub.cors)."""
        return self.state.cors.allows(origin)

    def security(
        self, request: Request | WebSocket, authorization: str | None = None
    ) -> RequestSecurity:
        """Who is asking: the bearer token in ``authorization``, else in the request headers."""
        state = self.state
        try:
            principal = state.verifier.verify(authorization or request.headers.get("authorization"))
            problem = None
        except AuthenticationError as exc:
            principal, problem = None, str(exc)
        return RequestSecurity(
            principal,
            authentication_error=problem,
            purpose=clean_purpose(header_text(request.headers.get("x-purpose"))),
            env=state.settings.env,
            audit=state.audit if state.settings.audit_enabled else None,
            persisted_documents=state.persisted_documents,
            persisted_roles=state.persisted_roles,
            stats_min_cell=state.settings.stats_min_cell,
            over_websocket=isinstance(request, WebSocket),
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            settings=self.state.settings,
            sessions=self.state.sessions,
            security=self.security(request),
            bus=self.state.bus,
            dev_tokens=self.state.dev_tokens,
            workflow=self.state.workflow,
            dead_letters=self.state.dead_letters,
        )

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from govhub's own pinned assets, the header editor holding a token."""
        return HTMLResponse(graphiql_page(initial_token(self.state.settings)))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """WebSocket (``graphql-transport-ws``): the token comes in ``connection_init``'s
        payload as ``{"Authorization": "Bearer ..."}`` (browsers cannot set headers on a
        WebSocket) or on the upgrade request; a connection without a valid one is closed
        with 4403 before any operation runs."""
        params = context.connection_params or {}
        given = params.get("Authorization", params.get("authorization"))
        authorization = given if isinstance(given, str) else None
        context.replace_security(self.security(context.request, authorization))
        principal = context.security.principal
        if principal is None:
            log.info("websocket_refused", reason=context.security.authentication_error)
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        if principal.expires_at is not None and isinstance(context.request, WebSocket):
            self._close_at_expiry(context.request, principal)
        acknowledged: UnsetType = UNSET
        return acknowledged

    def _close_at_expiry(self, websocket: WebSocket, principal: Principal) -> None:
        """A socket lives no longer than its token: at ``exp`` it is closed with 4403
        (``token expired``) and the closing audited; every operation sent on it before then
        is checked against ``exp`` too (``schema.access.Authenticate``)."""
        assert principal.expires_at is not None
        delay = max(0.0, principal.expires_at - time.time())

        async def close() -> None:
            if websocket.application_state is not WebSocketState.CONNECTED:
                return
            log.info("websocket_expired", sub=principal.sub)
            if self.state.settings.audit_enabled:
                with contextlib.suppress(Exception):  # the socket closes all the same
                    await self.state.audit.record(expiry_event(principal))
            with contextlib.suppress(RuntimeError):  # closed meanwhile by the client
                await websocket.close(code=4403, reason="token expired")

        def start() -> None:
            task = asyncio.ensure_future(close())
            self._expiries.add(task)
            task.add_done_callback(self._expiries.discard)

        asyncio.get_running_loop().call_later(delay, start)

    def decode_json(self, data: str | bytes) -> object:
        """A WebSocket message's JSON, which must be an object: anything else (invalid UTF-8
        or JSON, nesting deeper than the parser's recursion, a list, a bare ``null``, number
        or string) is a ``JSONDecodeError``, which closes the socket with 4400, never an
        unhandled error. Request bodies are read by :meth:`parse_json`."""
        decoded = self._json(data)
        if not isinstance(decoded, dict):
            raise json.JSONDecodeError("Expected a JSON object (a GraphQL message).", "", 0)
        return decoded

    def parse_json(self, data: str | bytes) -> object:
        """A request body's JSON: an object, or a list (a batch); else a 400 saying why."""
        try:
            decoded = self._json(data)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, exc.msg) from exc
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "Expected a JSON object (a GraphQL request).")
        return decoded

    @staticmethod
    def _json(data: str | bytes) -> object:
        try:
            return json.loads(data)
        except (RecursionError, UnicodeDecodeError, ValueError) as exc:
            raise json.JSONDecodeError("Unable to parse request body as JSON", "", 0) from exc

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Also accept ``{"documentId": ...}`` (GraphQL over HTTP's persisted documents)."""
        parsed = await super().parse_http_body(request)
        if isinstance(parsed, GraphQLRequestData) and not isinstance(
            parsed.operation_name, str | None
        ):
            raise HTTPException(400, "`operationName` must be a string or null, if provided.")
        if isinstance(parsed, GraphQLRequestData) and parsed.query is None:
            with contextlib.suppress(ValueError, TypeError):
                body: Any = json.loads(await request.get_body())
                if isinstance(body, dict) and (extensions := with_document_id(body)):
                    parsed.extensions = extensions
        return parsed


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings, *, engine: AsyncEngine | None = None) -> Starlette:
    """Build the app; the engine (created here unless given) is disposed on shutdown."""
    configure_pii(decode_key(settings.pii_key_value()))
    configure_audit_key(settings.audit_key_bytes())
    checkpoints = settings.audit_checkpoint_file
    owned = engine is None
    engine = engine or create_engine(
        settings.database_url,
        schema=settings.database_schema,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_max_overflow,
        plan_cache_mode=settings.db_plan_cache_mode,
    )
    sessions = session_factory(engine)
    risk = risk_config(settings)
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        verifier=TokenVerifier(settings),
        audit=AuditWriter(
            sessions,
            checkpoints=CheckpointFile(checkpoints) if checkpoints is not None else None,
            checkpoint_seconds=settings.audit_checkpoint_seconds,
        ),
        persisted_documents=load_persisted_documents(settings),
        persisted_roles=persisted_roles(settings),
        cors=cors_policy(settings),
        dev_tokens=DevTokens(settings) if settings.env == "dev" else None,
        dead_letters=SourceDeadLetters(settings.sources_file) if settings.sources_file else None,
    )

    async def readyz(_request: Request) -> Response:
        try:
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            at_head = await is_at_head(state.engine)
        except Exception as exc:  # any failure to reach the database means "not ready"
            log.warning("readiness_check_failed", error=type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        if not at_head:
            return JSONResponse({"status": "unavailable", "database": "migrations pending"}, 503)
        ready = {"status": "ready", "database": "ok", "migrations": "head"}
        if settings.redis_url is not None:
            if not await redis_reachable(settings.redis_url):
                log.warning("readiness_check_failed", error="RedisUnreachable")
                return JSONResponse({**ready, "status": "unavailable", "redis": "unreachable"}, 503)
            ready["redis"] = "ok"
        return JSONResponse(ready)

    async def metrics(request: Request) -> Response:
        if settings.metrics_token is not None:
            expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
            given = request.headers.get("authorization", "").encode("latin-1", "replace")
            if not hmac.compare_digest(given, expected):
                return JSONResponse({"error": "UNAUTHENTICATED"}, 401)
        return Response(generate_latest(exposed_registry()), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        log.info(
            "hub_started",
            env=settings.env,
            database=engine.dialect.name,
            fast_path=settings.fast_path,
        )
        if state.cors.localhost:
            log.info(
                "cors_localhost_allowed",
                note="dev: pages on localhost, any port, may call this hub (prod: the list only)",
                origins=list(state.cors.origins),
            )
        # Start-up objects (schema, models, modules) leave the collector's generations, so a
        # full collection during a request stays short (GraphQL pages allocate many objects).
        freeze_imported()
        thresholds = collect_young_less_often()  # given back when the app stops
        state.audit.start()  # group commit: concurrent requests share one audit transaction
        SERVING_PROCESSES.inc()
        try:
            async with open_bus(settings.redis_url, settings.bus_namespace()) as bus:
                state.bus = bus
                announce = record_announcer(bus)
                workflow = build_workflow(settings, state.sessions, bus)
                state.workflow = workflow
                follow = matter_intake(workflow, intake_rules(settings))
                async with (
                    scheduled_sync(
                        settings,
                        engine,
                        state.sessions,
                        announce,
                        risk,
                        risk_alert_announcer(bus),
                        follow,
                    ),
                    running_relay(settings, state.sessions),
                    deadline_scanner(settings, workflow),
                ):
                    yield
        finally:
            SERVING_PROCESSES.dec()
            gc.set_threshold(*thresholds)
            state.bus = None
            state.workflow = None
            await state.audit.stop()
            await counter.close()
            if owned:
                await engine.dispose()

    def has_valid_token(authorization: str | None) -> bool:
        try:
            state.verifier.verify(authorization)
        except AuthenticationError:
            return False
        return True

    counter = attempt_counter(settings.redis_url)
    graphql_app = GovhubGraphQL(state)
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *([Route("/metrics", metrics)] if settings.metrics_enabled else []),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
    ]
    if graphql_app.graphql_ide:  # GraphiQL's scripts, from govhub itself (no CDN)
        routes.append(Mount(ASSET_PATH, StaticFiles(directory=ASSETS), name="graphiql-assets"))
    # The staff console (综治中心工作台): static files calling /graphql like any client.
    routes.append(Mount(CONSOLE_PATH, StaticFiles(directory=CONSOLE, html=True), name="console"))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(MetricsMiddleware),
            # Before anything reads a body or writes an audit row (hub/guard.py).
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
            Middleware(
                UnauthenticatedLimit,
                per_minute=settings.unauthenticated_per_minute,
                is_authenticated=has_valid_token,
                counter=counter,
            ),
            Middleware(
                CORSMiddleware,
                allow_origins=list(state.cors.origins),
                allow_origin_regex=state.cors.origin_regex,
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
            ),
        ],
        lifespan=lifespan,
    )
    app.state.govhub = state
    return app
