"""The ``govhub`` command line (命令行)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

from db.audit import configure_audit_key
from db.engine import create_engine, session_factory
from db.pii import configure_pii
from db.regions import seed_regions
from domain.enums import SourceSystem
from domain.heap import settle_collector
from hub import eval_cli, outbox, report_cli, risk_cli, security_cli, sync_cli
from hub.auth import TokenVerifier
from hub.database import ready_database
from hub.logging import configure_logging
from hub.matters import check_rule_files
from hub.output import output_console, refuse_configuration
from hub.persisted import load_persisted_documents, persisted_roles
from hub.settings import ConfigErrorCode, Settings, SettingsError, decode_key, load_settings
from hub.worker_metrics import fresh_metrics_dir, serve_workers

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from starlette.applications import Starlette

app = typer.Typer(
    help="govhub: one hub over the city's five dispute-resolution systems.", no_args_is_help=True
)
console = output_console()


def _settings() -> Settings:
    try:
        settings = load_settings()
        configure_logging(json=settings.env == "prod")
        configure_pii(decode_key(settings.pii_key_value()))
        configure_audit_key(settings.audit_key_bytes())
    except SettingsError as exc:
        refuse_configuration(exc.code, str(exc))
    return settings


def _check_serving(settings: Settings) -> None:
    """What ``serve`` and ``demo`` load at start-up, loaded now: a bad rules file or persisted
    documents file stops the command here, coded, before anything starts."""
    try:
        check_rule_files(settings)
        load_persisted_documents(settings)
        persisted_roles(settings)
        TokenVerifier(settings)  # the JWT key: each serving process loads it as it starts
    except SettingsError as exc:
        refuse_configuration(exc.code, str(exc))
    checkpoints = settings.audit_checkpoint_file
    if checkpoints is not None:  # the audit chain's anchors: unwritable, a tail cut goes unseen
        try:
            checkpoints.parent.mkdir(parents=True, exist_ok=True)
            with checkpoints.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            refuse_configuration(ConfigErrorCode.INVALID_SETTING, (
                f"GOVHUB_AUDIT_CHECKPOINT_FILE {checkpoints} cannot be written: "
                f"{exc.strerror or exc}"
            ))  # fmt: skip


async def migrate_database(settings: Settings, *, seed: bool) -> None:
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        await ready_database(engine)
        if seed:
            async with session_factory(engine).begin() as session:
                inserted, updated = await seed_regions(session)
            console.print(f"regions seeded: {inserted} inserted, {updated} updated")
    finally:
        await engine.dispose()


@app.command()
def migrate(
    seed_regions_: Annotated[
        bool, typer.Option("--seed-regions", help="Load the demo area's division codes.")
    ] = False,
) -> None:
    """Bring the database schema to the newest migration."""
    settings = _settings()
    asyncio.run(migrate_database(settings, seed=seed_regions_))
    console.print("[green]database at head[/green]")


def _serve(settings: Settings, host: str, port: int) -> None:
    from hub.app import create_app

    problem = settings.several_workers_problem()
    if problem is not None:
        refuse_configuration(ConfigErrorCode.INVALID_SETTING, problem)
    metrics_dir = None
    if settings.workers > 1:  # the workers' metrics, added up by whichever answers /metrics
        try:
            metrics_dir = fresh_metrics_dir(settings.metrics_dir)
        except SettingsError as exc:
            refuse_configuration(exc.code, str(exc))
    if settings.env == "dev" and not loopback(host):
        refuse_configuration(ConfigErrorCode.INVALID_SETTING, (
            f"GOVHUB_ENV=dev serves on a loopback interface only, not {host}: in dev anyone "
            "who reaches the hub mints a token for any role (devToken); set GOVHUB_ENV=prod, "
            f"with its keys, to serve on {host}"
        ))  # fmt: skip
    if settings.sources_file is not None:
        sync_cli.sources_of(settings)  # a bad sources file stops here, named, not at start-up
    _check_serving(settings)
    asyncio.run(migrate_database(settings, seed=False))
    if metrics_dir is None:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, lifespan="on")
        return
    # Each process builds its app from the same environment (``worker_app``); uvicorn binds
    # the socket once and restarts a process that dies.
    serve_workers(uvicorn.Config(
        "hub.cli:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        log_config=None,
        lifespan="on",
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    ), metrics_dir)  # fmt: skip


def loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) reaches this machine only: every address it
    resolves to is a loopback one. A name that does not resolve is not loopback."""
    try:
        found = {str(address[4][0]) for address in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return False

    def is_loopback(address: str) -> bool:
        try:
            return ipaddress.ip_address(address.partition("%")[0]).is_loopback
        except ValueError:
            return False

    return bool(found) and all(is_loopback(address) for address in found)


WORKER_HEALTHCHECK_SECONDS = 60
"""How long uvicorn waits for a worker to answer its health check before it kills it as hung.
A new worker answers only once it has imported govhub (4–5 s on a busy 2-core machine, two
workers importing at once): with uvicorn's 5 s it was killed at start and started again, in
a loop while the machine stayed busy. A dead worker is still seen at once (its exit)."""


def worker_app() -> Starlette:
    """The app of one of ``serve --workers N``'s processes, configured as ``serve`` is."""
    from hub.app import create_app

    settle_collector()  # as ``main`` does, once the imports are done
    return create_app(_settings())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes to answer from, one per core (GOVHUB_WORKERS); more than one "
            "needs PostgreSQL and GOVHUB_REDIS_URL.",
        ),
    ] = None,
) -> None:
    """Run migrations, then serve GraphQL, /healthz, /readyz and /metrics."""
    settings = _settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    _serve(settings, host or settings.host, port or settings.port)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    scale: Annotated[int, typer.Option(min=1, help="About this many sandbox records.")] = 2000,
    seed: Annotated[int, typer.Option(help="Sandbox world seed.")] = 7,
    sandbox_port: Annotated[int, typer.Option(help="First sandbox port (five in a row).")] = 9101,
    profile: Annotated[str, typer.Option(help="Sandbox faults: clean/flaky/hostile.")] = "clean",
) -> None:
    """Everything in one command on embedded SQLite: sandbox, migrate, sync, serve."""
    from hub.demo import run_demo
    from sandbox.runner import SandboxConfig, bind_socket, check_base_port, port_range

    _check_profile(profile)
    config = SandboxConfig(seed=seed, scale=scale, base_port=sandbox_port, profile=profile)
    sandbox_ports = port_range(config.host, sandbox_port)
    try:
        check_base_port(sandbox_port)
    except ValueError as exc:
        _say(f"[red]cannot start the demo[/red]: the sandbox on {sandbox_ports}: {exc}")
        raise typer.Exit(2) from exc
    settings = _settings()
    _check_serving(settings)
    if not loopback(host):
        _say(f"[yellow]warning[/yellow]: the demo serves on {host}: anyone who reaches it mints "
             "a token for any role (devToken) and reads the demo token from GraphiQL")
    try:  # the hub's own port, held from now on: taken, the demo stops before it starts anything
        listening = bind_socket(host, port)
    except socket.gaierror as exc:
        _say(f"[red]cannot start the demo[/red]: the hub's host {host} cannot be resolved: "
             f"{exc.strerror or exc}")
        raise typer.Exit(2) from exc
    except ValueError as exc:
        _say(f"[red]cannot start the demo[/red]: the hub's {exc}")
        raise typer.Exit(2) from exc
    except OSError as exc:
        _say(f"[red]cannot start the demo[/red]: the hub's port {host}:{port} is not free: "
             f"{exc.strerror or exc}")
        raise typer.Exit(2) from exc
    with listening, contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(run_demo(settings, listening=listening, sandbox=config))
        except OSError as exc:  # one of the sandbox's five ports taken
            _say(f"[red]cannot start the demo[/red]: the sandbox on {sandbox_ports}: "
                 f"{exc.strerror or exc}")
            raise typer.Exit(2) from exc


def _check_profile(profile: str) -> None:
    from sandbox.faults import PROFILES

    if profile not in PROFILES:
        raise typer.BadParameter(
            f"profile must be one of {', '.join(PROFILES)}, not {profile!r}",
            param_hint="--profile")


def _say(message: str) -> None:
    """One line on stderr, however long (a log file's reader greps it whole)."""
    console.print(message, soft_wrap=True)


@app.command()
def sandbox(
    seed: Annotated[int, typer.Option(help="World seed; the same seed gives the same world.")] = 7,
    scale: Annotated[
        int, typer.Option(min=1, help="About this many source records in all.")
    ] = 2000,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    base_port: Annotated[
        int, typer.Option(help="First of five ports (110, grid, mediation, petition, court).")
    ] = 9101,
    profile: Annotated[
        str, typer.Option(help="Faults at start-up: clean, flaky or hostile.")
    ] = "clean",
    truth: Annotated[Path | None, typer.Option(help="Write the ground truth JSON here.")] = None,
    write_faults: Annotated[float | None, typer.Option(
        "--write-faults", min=0.0, max=1.0,
        help="Write faults on every system at this rate in all, whatever the profile: "
        "5xx before applying, answer lost and timeout after applying, a third each.")] = None,
) -> None:
    """Start the five simulated legacy systems over real HTTP."""
    from sandbox.runner import SandboxConfig, check_base_port, port_range, run_sandbox

    _check_profile(profile)
    try:
        check_base_port(base_port)
    except ValueError as exc:
        _say(f"[red]cannot start the sandbox[/red] on {port_range(host, base_port)}: {exc}")
        raise typer.Exit(2) from exc
    if truth is not None and not truth.parent.is_dir():
        raise typer.BadParameter(
            f"no directory {truth.parent} to write it in", param_hint="--truth"
        )
    if truth is not None and truth.is_dir():
        raise typer.BadParameter(f"{truth} is a directory, not a file", param_hint="--truth")
    configure_logging(json=False)
    try:
        run_sandbox(
            SandboxConfig(
                seed=seed,
                scale=scale,
                host=host,
                base_port=base_port,
                profile=profile,
                truth_path=truth,
                write_faults=write_faults,
            )
        )
    except OSError as exc:  # the truth not writable there, a port taken, an interface not there
        if truth is not None and exc.filename is not None and Path(exc.filename) == truth:
            _say(f"[red]cannot write the ground truth[/red] to {truth}: {exc.strerror or exc}")
        else:
            _say(f"[red]cannot start the sandbox[/red] on {port_range(host, base_port)}: "
                 f"{exc.strerror or exc}")
        raise typer.Exit(2) from exc


def sync_worker(sources: list[SourceSystem], full: bool, pipe: Connection) -> None:
    """One of ``sync --workers N``'s processes, configured as ``sync`` is (hub.sync_workers)."""
    from hub.sync_workers import work_share

    settle_collector()  # as ``main`` does, once the imports are done
    work_share(_settings(), sources, full, pipe)


sync_cli.register(app, _settings, sync_worker)
outbox.register(app, _settings)
eval_cli.register(app, _settings)
security_cli.register(app, _settings)
report_cli.register(app, _settings)
risk_cli.register(app, _settings)


def main() -> None:
    settle_collector()  # once the imports are done: they live as long as the process
    app()


if __name__ == "__main__":  # python -m hub.cli, as the govhub script
    main()
