"""Start the five simulated systems over real HTTP (``govhub sandbox``; tests).

    async with Sandbox(SandboxConfig(base_port=0, scale=200)) as sb:
        sb.urls[SourceSystem.GRID]          # "http://127.0.0.1:40123"
        sb.credentials[SourceSystem.GRID]   # {"token": "..."}

Ports are ``base_port`` + 0 110 (POLICE_110), +1 GRID, +2 MEDIATION, +3 PETITION, +4 COURT;
``base_port=0`` picks free ephemeral ports. Each system is a ``uvicorn.Server`` running as a
task in the current event loop (no signal handlers, ``log_level="warning"``, no lifespan).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import socket
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.routing import Route

from domain.enums import SourceSystem
from sandbox.control import MutateDriver, build_app
from sandbox.faults import (
    FaultSettings,
    FaultState,
    profile_settings,
    silence_injected_resets,
    with_write_faults,
)
from sandbox.model import SourceRecord, World
from sandbox.systems import court, grid, mediation, petition, police
from sandbox.systems.common import (
    Monotonic,
    Mutator,
    RecordStore,
    SimClock,
    SystemContext,
    default_mutator,
)
from sandbox.systems.delivery import choose_malformed

PORT_OFFSETS: dict[SourceSystem, int] = {
    SourceSystem.POLICE_110: 0,
    SourceSystem.GRID: 1,
    SourceSystem.MEDIATION: 2,
    SourceSystem.PETITION: 3,
    SourceSystem.COURT: 4,
}

LOG_WIDTH = 200
"""Columns the start-up table takes when it goes to a file or a pipe (else 80, folding every
address and credential across lines): the widest row, IPv6 host and all, fits."""

MAX_PORT = 65535
LAST_BASE_PORT = MAX_PORT - max(PORT_OFFSETS.values())
"""The highest ``base_port`` whose five ports all exist."""


def check_base_port(base_port: int) -> None:
    """``ValueError`` unless ``base_port`` is 0 (free ports) or starts five ports that exist."""
    if base_port != 0 and not 1 <= base_port <= LAST_BASE_PORT:
        raise ValueError(f"ports end at {MAX_PORT}: the base port must be 0 (free ports) "
                         f"or 1–{LAST_BASE_PORT}")


def port_range(host: str, base_port: int) -> str:
    """Where the five systems listen, for a message: ``127.0.0.1:9101–9105``."""
    if base_port == 0:
        return f"{host} (free ports)"
    return f"{host}:{base_port}–{base_port + max(PORT_OFFSETS.values())}"


ROUTES: dict[SourceSystem, Callable[[SystemContext], list[Route]]] = {
    SourceSystem.POLICE_110: police.routes,
    SourceSystem.GRID: grid.routes,
    SourceSystem.MEDIATION: mediation.routes,
    SourceSystem.PETITION: petition.routes,
    SourceSystem.COURT: court.routes,
}

# Well-known development credentials of a simulated system (never real secrets).
DEFAULT_CREDENTIALS: dict[SourceSystem, dict[str, str]] = {
    SourceSystem.POLICE_110: {"username": "jjpt_sync", "password": "Police@110"},
    SourceSystem.GRID: {"token": "grid-sandbox-token-7f3a9c"},
    SourceSystem.MEDIATION: {"app_key": "govhub-sandbox", "app_secret": "med-secret-2f9c41"},
    SourceSystem.PETITION: {"username": "xfexport", "password": "Xf@export1",
                            "api_key": "xf-sandbox-key-91d2"},
    SourceSystem.COURT: {"client_id": "govhub", "client_secret": "court-secret-5b7e"},
}

URL_PATHS: dict[SourceSystem, str] = {
    SourceSystem.POLICE_110: "/services/AlarmService?wsdl",
    SourceSystem.GRID: "/api/v2/events",
    SourceSystem.MEDIATION: "/openapi/v1/cases",
    SourceSystem.PETITION: "/exports/",
    SourceSystem.COURT: "/oauth/token, /api/v1/cases",
}


@dataclass(slots=True)
class SandboxConfig:
    """How to run the sandbox; ``base_port=0`` picks free ports."""

    seed: int = 7
    scale: int = 2000
    host: str = "127.0.0.1"
    base_port: int = 9101
    profile: str = "clean"
    truth_path: Path | None = None
    write_faults: float | None = None
    """When set, the write faults of every system at this rate in all, whatever the profile."""

    def fault_settings(self) -> FaultSettings:
        settings = profile_settings(self.profile)
        if self.write_faults is not None:
            with_write_faults(settings, self.write_faults)
        return settings


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Sandbox:
    """The five systems, started on enter and stopped (hangs released) on exit."""

    def __init__(
        self,
        config: SandboxConfig,
        world: World | None = None,
        *,
        mutator: Mutator | None = None,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        config.fault_settings()  # fail fast on an unknown profile or a bad rate
        check_base_port(config.base_port)  # and on ports past 65535
        self.config = config
        self._world = world
        self._mutator = mutator or default_mutator
        self._monotonic = monotonic
        self.urls: dict[SourceSystem, str] = {}
        self.credentials: dict[SourceSystem, dict[str, str]] = {
            s: dict(c) for s, c in DEFAULT_CREDENTIALS.items()}
        self.systems: dict[SourceSystem, SystemContext] = {}
        self._servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []
        self._drivers: list[MutateDriver] = []

    @property
    def world(self) -> World:
        if self._world is None:
            raise RuntimeError("the sandbox has not started")
        return self._world

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Generate the world (unless given), then start every system and wait until it listens."""
        cfg = self.config
        if self._world is None:
            from sandbox.world import generate_world  # a separate, heavy module

            self._world = await asyncio.to_thread(generate_world, cfg.seed, cfg.scale)
        if cfg.truth_path is not None:
            from sandbox.world import write_truth

            write_truth(self._world, cfg.truth_path)
        silence_injected_resets()
        try:
            for system in PORT_OFFSETS:
                await self._start_system(system)
        except BaseException:
            await self.stop()
            raise

    async def _start_system(self, system: SourceSystem) -> None:
        cfg, world = self.config, self.world
        ctx = SystemContext(
            system=system, world=world, store=RecordStore(world.records.get(system, [])),
            faults=FaultState(cfg.fault_settings(), random.Random(f"{cfg.seed}:{system}")),
            clock=SimClock(world.now, self._monotonic), monotonic=self._monotonic,
            credentials=self.credentials[system], mutator=self._mutator,
            mutate_rng=random.Random(f"{cfg.seed}:{system}:mutate"),
        )
        routes = ROUTES[system](ctx)
        ctx.malformed = choose_malformed(ctx, ctx.faults.settings.malformed_rate)
        driver = MutateDriver(ctx)
        app = build_app(ctx, routes, driver)
        port = cfg.base_port + PORT_OFFSETS[system] if cfg.base_port else 0
        sock = bind_socket(cfg.host, port)
        server = _EmbeddedServer(uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False,
            timeout_graceful_shutdown=3))
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        self._servers.append((server, task))
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError(f"{system} server stopped during start-up")
            await asyncio.sleep(0.005)
        host = cfg.host if ":" not in cfg.host else f"[{cfg.host}]"
        self.urls[system] = f"http://{host}:{sock.getsockname()[1]}"
        self.systems[system] = ctx
        self._drivers.append(driver)
        driver.sync()

    def mutate(self, system: SourceSystem, count: int = 5) -> list[SourceRecord]:
        """Change ``count`` records of one system now (what the ``mutate`` fault does)."""
        return self.systems[system].apply_mutation(count)

    async def stop(self) -> None:
        """Release hanging requests, stop mutation and shut every server down."""
        for ctx in self.systems.values():
            ctx.faults.closing.set()
        for driver in self._drivers:
            await driver.stop()
        for server, _ in self._servers:
            server.should_exit = True
        await asyncio.gather(*(task for _, task in self._servers), return_exceptions=True)
        self._servers.clear()
        self._drivers.clear()


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, ready for
    ``uvicorn.Server.serve(sockets=…)``; :class:`socket.gaierror` when ``host`` does not
    resolve, :class:`OSError` when the port is taken (the caller says so in one line),
    ``ValueError`` when ``port`` is outside 0–65535.

    It listens at once, so the port is held from here on: a socket bound but not listening
    holds nothing against another that sets SO_REUSEADDR too (Linux lets both bind). asyncio
    calls ``listen`` again when it serves the socket, which changes nothing but the backlog.
    """
    if not 0 <= port <= MAX_PORT:  # else bind raises OverflowError
        raise ValueError(f"port {port} is outside 0–{MAX_PORT}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on such sockets, and without it
    # every request on a kept-alive connection waits for the peer's delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # SO_REUSEADDR: a port left in TIME_WAIT by the last run is taken again at once
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


def run_sandbox(config: SandboxConfig) -> None:
    """Run the sandbox until Ctrl-C, printing where each system listens and its credentials."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(config))


async def _serve_forever(config: SandboxConfig) -> None:
    from rich.console import Console  # only the CLI prints
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a log: no screen to fit, and what is copied must stay whole
        console = Console(width=LOG_WIDTH)
    with console.status(f"generating world (seed {config.seed}, scale {config.scale})…"):
        sandbox = Sandbox(config)
        await sandbox.start()
    try:
        writes = "" if config.write_faults is None else f", write faults {config.write_faults}"
        table = Table(
            title=f"govhub sandbox — profile {config.profile}{writes}, seed {config.seed}")
        for column in ("system", "base URL", "endpoints", "credentials"):
            table.add_column(column, overflow="fold")
        for system, url in sandbox.urls.items():
            creds = ", ".join(f"{k}={v}" for k, v in sandbox.credentials[system].items())
            table.add_row(system.value, url, URL_PATHS[system], creds)
        console.print(table)
        console.print("Faults: POST <base URL>/_sandbox/control (JSON) · "
                      "reconciliation: GET <base URL>/_sandbox/stats", markup=False)
        if config.truth_path is not None:
            console.print(f"Ground truth written to {config.truth_path}")
        console.print("Press Ctrl-C to stop.")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not on Windows
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await sandbox.stop()
