"""The typed per-request GraphQL context (请求上下文), with who is asking and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from db.matter_workflow import MatterWorkflow
from hub.settings import Settings
from resolvers.dataloaders import Loaders
from resolvers.services import SERVICES
from schema.context import DeadLetterReplayer, DevTokenMinter, EventSource, TypeServices
from schema.security import RequestSecurity


def header_text(raw: str | None) -> str | None:
    """A header as the client meant it: UTF-8 bytes (Starlette decodes Latin-1) or %-encoded."""
    if raw is None:
        return None
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        text = raw
    return unquote(text) if "%" in text else text


@dataclass
class Context:
    """What every resolver may use; loaders and sessions live one request."""

    request: Request | WebSocket
    response: Response | None
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    security: RequestSecurity
    bus: EventSource | None = None
    dev_tokens: DevTokenMinter | None = None
    """Mints development tokens (``devToken``): set in ``dev`` only."""
    workflow: MatterWorkflow | None = None
    dead_letters: DeadLetterReplayer | None = None
    """Replays dead letters (``replayDeadLetter``): set when a sources file is."""
    services: TypeServices = field(default=SERVICES)
    # A WebSocket's connection_init payload (graphql-transport-ws), set by Strawberry.
    connection_params: dict[str, object] | None = None
    prebuilt_json: bool = False
    """The answer is encoded by orjson (one JSON POST): a resolver may hand back a page
    already built as JSON (``schema.fastpath.prebuilt``)."""
    # Created per operation, so a DataLoader's cache never outlives the operation that filled
    # it, and every loader reads within this principal's scope.
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.sessions, self.security.scope)

    def replace_security(self, security: RequestSecurity) -> None:
        """Another principal for this context (a WebSocket's token arrives after it opened)."""
        self.security = security
        self.loaders = Loaders(self.sessions, security.scope)

    def start_operation(self) -> None:
        """Fresh per-operation state, for a context that serves several (a WebSocket's
        operations run one after another on it): loaders and audit notes never carry over."""
        self.security.start_operation()
        self.loaders = Loaders(self.sessions, self.security.scope)
