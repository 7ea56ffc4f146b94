"""``govhub demo``: the whole thing on embedded SQLite in one command.

Starts the sandbox (the five simulated systems), migrates and seeds the database, writes a
sources file for the sandbox, runs a first sync with progress, then serves GraphQL while the
scheduler keeps syncing.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import uvicorn

from domain.divisions import SEED_REGIONS
from domain.enums import RegionLevel, SourceSystem
from domain.roles import Role
from hub.auth import mint_token
from hub.output import output_console
from hub.settings import Settings
from hub.sync_cli import run_sync, summary_table
from sandbox.runner import Sandbox, SandboxConfig

console = output_console()
SEED_CITIES = [r for r in SEED_REGIONS if r.level is RegionLevel.CITY]


def render_sources_file(
    urls: dict[SourceSystem, str],
    credentials: dict[SourceSystem, dict[str, str]],
    *,
    schedule_seconds: float = 30.0,
    page_size: int = 200,
) -> str:
    """A sources TOML for the given endpoints (JSON string escapes are valid TOML strings)."""
    lines = ["# Written by `govhub demo` for the local sandbox.", ""]
    for source, url in urls.items():
        lines += [
            f"[sources.{source.value}]",
            f"base_url = {json.dumps(url)}",
            f"schedule_seconds = {schedule_seconds}",
            f"page_size = {page_size}",
            "timeout_seconds = 10",
            "credentials = { "
            + ", ".join(f"{k} = {json.dumps(v)}" for k, v in credentials[source].items())
            + " }",
            "",
        ]
    return "\n".join(lines)


async def run_demo(
    settings: Settings, *, listening: socket.socket, sandbox: SandboxConfig
) -> None:
    """The demo on ``listening``, the hub's HTTP socket, bound by the caller before anything
    starts (a taken port is reported at once, not after the first sync)."""
    from hub.app import create_app
    from hub.cli import migrate_database

    host, port = listening.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host

    async with Sandbox(sandbox) as sb:
        console.print(f"sandbox: {len(sb.urls)} systems, about {sandbox.scale} records")
        sources_path = Path(settings.data_dir) / "sources.toml"
        sources_path.parent.mkdir(parents=True, exist_ok=True)
        sources_path.write_text(render_sources_file(sb.urls, sb.credentials), encoding="utf-8")
        settings = settings.model_copy(update={"sources_file": sources_path})
        await migrate_database(settings, seed=True)
        console.print("first sync from the sandbox …")
        results = await run_sync(settings, None, full=False)
        console.print(summary_table(results))
        token = mint_token(
            settings, role=Role.CENTER_STAFF, regions=[r.code for r in SEED_CITIES],
            ttl_seconds=12 * 3600, sub="demo", name="演示用户", org="综治中心(演示)",
        )  # fmt: skip
        token_path = Path(settings.data_dir) / "demo-token.txt"
        token_path.write_text(token + "\n", encoding="ascii")
        token_path.chmod(0o600)
        console.print(
            f"demo token (center_staff, 三门峡市 + 成都市, 12 h) written to {token_path}; e.g.\n"
            f"  curl -s localhost:{port}/graphql -H 'content-type: application/json' "
            f'-H "Authorization: Bearer $(cat {token_path})" '
            "-d '{\"query\": \"{ records(first: 3) { totalCount edges { node { title } } } }\"}'",
            soft_wrap=True,  # one line, so it can be copied whole (also in a log file)
        )
        console.print(
            f"[bold]govhub[/bold] serving on http://{host}:{port}/graphql "
            f"(GraphiQL in a browser, token filled in; sources: {sources_path}; "
            f"syncing every 30 s); the staff console on http://{host}:{port}/console",
            soft_wrap=True,
        )
        config = uvicorn.Config(create_app(settings), log_config=None, lifespan="on")
        await uvicorn.Server(config).serve(sockets=[listening])
