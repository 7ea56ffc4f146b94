"""``govhub eval linking``: precision, recall and F1 of linking against sandbox ground truth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from db.engine import create_engine, session_factory
from db.linking_eval import LinkingEvaluation, TruthFileError, evaluate_linking, load_truth
from db.linking_lock import linking_lock
from db.pii import configure_pii
from db.resolution import resolve_all
from db.risk_eval import RiskEvaluation, evaluate_risk
from domain.enums import RiskLevel
from hub.database import ready_database
from hub.output import output_console
from hub.settings import Settings, decode_key

console = output_console(stderr=False)
"""The scores: stdout (``govhub eval risk … > scores.txt``)."""
errors = output_console()
"""What stops an evaluation: stderr, as every command's errors."""


async def run_evaluation(
    settings: Settings, document: dict[str, Any], *, resolve: bool
) -> LinkingEvaluation:
    """Optionally resolve and link everything first (committed), then score the database."""
    configure_pii(decode_key(settings.pii_key_value()))
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        await ready_database(engine)
        sessions = session_factory(engine)
        if resolve:
            async with sessions.begin() as session, linking_lock(session):
                await resolve_all(session)
        async with sessions() as session:
            return await evaluate_linking(session, document)
    finally:
        await engine.dispose()


async def run_risk_evaluation(
    settings: Settings, document: dict[str, Any], *, complete_only: bool = False
) -> RiskEvaluation:
    """Score the grades the database holds now (a sync grades as it goes)."""
    configure_pii(decode_key(settings.pii_key_value()))
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        await ready_database(engine)
        async with session_factory(engine)() as session:
            return await evaluate_risk(session, document, complete_only=complete_only)
    finally:
        await engine.dispose()


def risk_table(result: RiskEvaluation) -> Table:
    table = Table(title=f"risk grading (风险研判质量) over {result.matters} matters")
    for column in ("", "precision", "recall", "true positives", "predicted", "actual"):
        table.add_column(column)
    for name, score in (("RED", result.red), ("RED+YELLOW", result.red_yellow)):
        table.add_row(
            name, f"{score.precision:.4f}", f"{score.recall:.4f}", str(score.true_positives),
            str(score.predicted), str(score.actual),
        )  # fmt: skip
    return table


def confusion_table(result: RiskEvaluation) -> Table:
    levels = list(RiskLevel)
    table = Table(title="truth (rows) × govhub (columns), matters")
    table.add_column("")
    for level in levels:
        table.add_column(level.value)
    for truth in levels:
        table.add_row(truth.value, *(str(result.confusion.get((truth, p), 0)) for p in levels))
    return table


def evaluation_table(result: LinkingEvaluation) -> Table:
    table = Table(title=f"linking quality (关联质量) over {result.records} records")
    for column in ("", "precision", "recall", "F1", "true pairs", "predicted pairs", "items"):
        table.add_column(column)
    for name, score in (("persons", result.persons), ("matters", result.matters)):
        table.add_row(
            name, f"{score.precision:.4f}", f"{score.recall:.4f}", f"{score.f1:.4f}",
            str(score.true_pairs), str(score.predicted_pairs), str(score.items),
        )  # fmt: skip
    return table


def _truth(path: Path) -> dict[str, Any]:
    """The ground truth, read before the database is opened; exit 2 saying what is wrong."""
    try:
        return load_truth(path)
    except TruthFileError as exc:
        errors.print(f"[red]truth file error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _nothing_to_score() -> None:
    """No stored record is one the truth names: a score over nothing would read as perfect."""
    errors.print(
        "[red]nothing to score[/red]: the database holds none of the records the truth file "
        "names (is GOVHUB_DATABASE_URL the synced database, and the truth file that of the "
        "same sandbox seed and scale?)"
    )
    raise typer.Exit(1)


def register(app: typer.Typer, settings_factory: Callable[[], Settings]) -> None:
    """Add ``eval`` to the main CLI."""
    evaluation = typer.Typer(help="Measure quality against the sandbox's ground truth (评估).")
    app.add_typer(evaluation, name="eval")

    @evaluation.command("linking")
    def linking(
        truth: Annotated[
            Path, typer.Option(help="Ground truth JSON (govhub sandbox --truth PATH).", exists=True)
        ],
        resolve: Annotated[
            bool, typer.Option(help="Run a full resolution and linking first (committed).")
        ] = True,
    ) -> None:
        """Person-resolution and matter-linking precision/recall/F1 for the stored records."""
        settings = settings_factory()
        result = asyncio.run(run_evaluation(settings, _truth(truth), resolve=resolve))
        if result.records == 0:
            _nothing_to_score()
        console.print(evaluation_table(result))
        if result.skipped_records:
            console.print(
                f"{result.skipped_records} records left out of the person score "
                "(stored parties do not line up with the truth's)"
            )

    @evaluation.command("risk")
    def risk(
        truth: Annotated[
            Path, typer.Option(help="Ground truth JSON (govhub sandbox --truth PATH).", exists=True)
        ],
        misses: Annotated[int, typer.Option(help="List this many disagreements.")] = 0,
        complete_only: Annotated[
            bool, typer.Option(help="Score only matters whose every record is stored.")
        ] = False,
    ) -> None:
        """Risk-grade precision/recall for RED and RED+YELLOW per matter, and detection delay."""
        settings = settings_factory()
        document = _truth(truth)
        result = asyncio.run(run_risk_evaluation(settings, document, complete_only=complete_only))
        if result.matters == 0:
            _nothing_to_score()
        console.print(risk_table(result))
        console.print(confusion_table(result))
        delay = result.median_delay
        console.print(
            "median detection delay: "
            + (f"{delay:g} days over {len(result.delays)} matters" if delay is not None else "n/a")
        )
        for matter, storyline, actual, predicted in result.misses[:misses]:
            console.print(f"  {matter} {storyline}: truth {actual.value}, govhub {predicted.value}")
