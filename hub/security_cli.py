"""``govhub token`` (dev tokens) and ``govhub audit verify`` (the hash chain)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

import typer

from db.audit import configure_audit_key, verify_chain
from db.audit_checkpoints import CheckpointFile
from db.engine import create_engine, session_factory
from db.migrate import current_revision, head_revision, is_at_head
from domain.roles import Role
from hub.auth import mint_token
from hub.database import reachable_database
from hub.output import output_console
from hub.settings import Settings

console = output_console()


def register(app: typer.Typer, settings_factory: Callable[[], Settings]) -> None:
    audit = typer.Typer(help="The hash-chained audit log (审计日志).")
    app.add_typer(audit, name="audit")

    @app.command()
    def token(
        role: Annotated[Role, typer.Option(help="Role claim.")],
        region: Annotated[list[str], typer.Option(help="Division code(s) of the jurisdiction.")],
        scope: Annotated[list[str] | None, typer.Option(help="Scope(s), e.g. pii:read.")] = None,
        ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
        sub: Annotated[str, typer.Option(help="Subject (user id).")] = "dev",
        name: Annotated[str, typer.Option(help="Display name.")] = "开发用户",
        org: Annotated[str, typer.Option(help="Organisation.")] = "govhub-dev",
    ) -> None:
        """Mint a development JWT (HS256) for a role and region; printed on stdout."""
        settings = settings_factory()
        try:
            minted = mint_token(
                settings, role=role, regions=region, scopes=scope or [], ttl_seconds=ttl,
                sub=sub, name=name, org=org,
            )  # fmt: skip
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        typer.echo(minted)

    @audit.command("verify")
    def verify() -> None:
        """Check the chain and its latest signed checkpoint; name the first row that was
        edited, deleted, moved or re-chained, or how many of the newest rows are missing."""
        settings = settings_factory()
        configure_audit_key(settings.audit_key_bytes())
        path = settings.audit_checkpoint_file
        checkpoint = CheckpointFile(path).latest() if path is not None else None
        if checkpoint is None:
            console.print("[yellow]no signed checkpoint[/yellow]: a truncated tail goes unseen")

        async def run() -> tuple[int, str | None]:
            engine = create_engine(settings.database_url, schema=settings.database_schema)
            try:
                await reachable_database(engine)
                if not await is_at_head(engine):  # verifying reads; it changes no schema
                    found = await current_revision(engine)
                    console.print(
                        f"[red]database not at the newest migration[/red] (at {found or 'none'},"
                        f" newest {head_revision()}): run `govhub migrate` first"
                    )
                    raise typer.Exit(2)
                async with session_factory(engine)() as session:
                    checked, problem = await verify_chain(session, checkpoint=checkpoint)
            finally:
                await engine.dispose()
            return checked, problem.describe() if problem else None

        checked, problem = asyncio.run(run())
        verdict = output_console(stderr=False)  # the command's result: stdout
        if problem:
            verdict.print(f"[red]audit chain broken[/red] after {checked} good rows: {problem}")
            raise typer.Exit(1)
        anchored = f", up to checkpoint {checkpoint.sequence}" if checkpoint else ""
        verdict.print(f"[green]audit chain intact[/green]: {checked} rows{anchored}")
