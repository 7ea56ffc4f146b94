"""The Starlette application: GraphQL, health, readiness and metrics (应用入口)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from db.engine import create_engine, session_factory
from db.migrate import is_at_head
from db.pii import configure_pii
from hub.background import scheduled_sync
from hub.context import Context
from hub.metrics import REGISTRY, MetricsMiddleware
from hub.settings import Settings, decode_key
from schema.root import schema

log = structlog.get_logger(__name__)


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


class GovhubGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with govhub's typed per-request context."""

    def __init__(self, state: AppState) -> None:
        super().__init__(schema, graphql_ide="graphiql" if state.settings.env == "dev" else None)
        self.state = state

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            settings=self.state.settings,
            sessions=self.state.sessions,
        )


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings, *, engine: AsyncEngine | None = None) -> Starlette:
    """Build the app; the engine (created here unless given) is disposed on shutdown."""
    configure_pii(decode_key(settings.pii_key_value()))
    owned = engine is None
    engine = engine or create_engine(settings.database_url, schema=settings.database_schema)
    state = AppState(settings=settings, engine=engine, sessions=session_factory(engine))

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
        return JSONResponse({"status": "ready", "database": "ok", "migrations": "head"})

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        log.info("hub_started", env=settings.env, database=engine.dialect.name)
        # Start-up objects (schema, models, modules) leave the collector's generations, so a
        # full collection during a request stays short (GraphQL pages allocate many objects).
        gc.freeze()
        try:
            async with scheduled_sync(settings, engine, state.sessions):
                yield
        finally:
            if owned:
                await engine.dispose()

    graphql_app = GovhubGraphQL(state)
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
        ],
        middleware=[
            Middleware(MetricsMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
            ),
        ],
        lifespan=lifespan,
    )
    app.state.govhub = state
    return app
