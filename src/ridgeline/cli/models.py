"""``ridgeline models list|show|evaluate|promote|rollback``: the registry and its validation gate from a shell.

A refused promotion prints the failed rule with its values and exits 1; every other error exits 1 with one line.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from ridgeline.cli.common import TrackingOption, console, err_console, user_errors
from ridgeline.domain.errors import PromotionRefused
from ridgeline.domain.promotion import EvaluationResult, PromotionResult, RuleOutcome, outcome_from_json
from ridgeline.domain.registry import ModelVersion

if TYPE_CHECKING:
    from ridgeline.client.reader import Client

app = typer.Typer(help="Registered models: list, inspect, evaluate, promote and roll back.", no_args_is_help=True)
AliasOption = typer.Option("champion", "--alias", "-a", help="The alias to compare with and move.")


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return str(value) if math.isnan(value) or math.isinf(value) else f"{value:.6g}"


@app.command("list")
def list_models(
    filter: str = typer.Option(None, "--filter", "-f", help="e.g. \"tags.team = 'risk'\" (docs/search.md)."),
    tracking_uri: str = TrackingOption,
) -> None:
    """A table of registered models: latest version, aliases, last change."""
    import ridgeline

    with user_errors(), ridgeline.Client(tracking_uri) as client:
        models = client.search_models(filter)
    table = Table(title="registered models", title_justify="left")
    for column in ("name", "latest", "aliases", "updated", "description"):
        table.add_column(column)
    for model in models:
        aliases = ", ".join(f"{alias}→v{number}" for alias, number in sorted(model.aliases.items()))
        latest = "-" if model.latest_version is None else f"v{model.latest_version}"
        summary = next(iter(model.description.splitlines()), "")
        table.add_row(model.name, latest, aliases, _when(model.updated_at), summary)
    console.print(table)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="The registered model's name."), tracking_uri: str = TrackingOption
) -> None:
    """The model's versions (status, aliases, source run, commit, metrics) and the moves of its aliases."""
    import ridgeline

    with user_errors(), ridgeline.Client(tracking_uri) as client:
        model = client.get_model(name)
        versions = client.get_model_versions(name)
        history = client.alias_history(name)
    console.print(f"[bold]{model.name}[/] {model.description}".rstrip(), highlight=False)
    if model.tags:
        console.print("tags: " + ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items())), highlight=False)
    console.print(_versions_table(versions))
    if history:
        moves = Table(title="alias history", title_justify="left")
        for column in ("when", "alias", "from", "to", "by"):
            moves.add_column(column)
        for event in history:
            before = "-" if event.from_version is None else f"v{event.from_version}"
            after = "deleted" if event.to_version is None else f"v{event.to_version}"
            moves.add_row(_when(event.at), event.alias, before, after, event.actor)
        console.print(moves)


def _versions_table(versions: list[ModelVersion]) -> Table:
    table = Table(title="versions", title_justify="left")
    for column in ("version", "status", "aliases", "flavor", "run", "commit", "created", "metrics"):
        table.add_column(column)
    for version in versions:
        metrics = ", ".join(f"{key}={_number(value)}" for key, value in sorted(version.metrics.items())[:4])
        table.add_row(
            f"v{version.version}",
            version.status.value,
            ", ".join(version.aliases),
            version.flavor or "-",
            (version.run_id or "-")[:12],
            (version.git_commit or "-")[:10],
            _when(version.created_at),
            metrics,
        )
    return table


@app.command("evaluate")
def evaluate(
    model_uri: str = typer.Argument(..., help="models:/NAME/VERSION or models:/NAME@ALIAS (a registered version)."),
    data: Path = typer.Option(..., "--data", "-d", help="Evaluation data: a .csv or .parquet file."),
    target: str = typer.Option(..., "--target", "-t", help="The column holding the true labels or values."),
    alias: str = AliasOption,
    metrics: list[str] = typer.Option(None, "--metric", "-m", help="Only these metrics (repeatable)."),
    task: str = typer.Option(None, "--task", help="classification or regression (default: inferred)."),
    tracking_uri: str = TrackingOption,
) -> None:
    """Score a version and the alias holder on the same data; the metrics are stored on both versions."""
    import ridgeline.registry
    from ridgeline.services.dataset_files import read_table

    with user_errors():
        frame = read_table(data.expanduser())
        result = ridgeline.registry.evaluate(
            model_uri,
            frame,
            metrics or None,
            target=target,
            alias=alias,
            task=task,
            dataset_name=data.name,
            tracking_uri=tracking_uri,
        )
    console.print(_evaluation_table(result))


def _evaluation_table(result: EvaluationResult) -> Table:
    candidate, champion = result.candidate, result.champion
    title = f"evaluation {result.evaluation_id} of {result.model_name} on {candidate.dataset_name} "
    table = Table(title=title + f"({candidate.rows} rows, {candidate.task})", title_justify="left")
    table.add_column("metric")
    table.add_column(f"v{candidate.version}", justify="right")
    if champion is not None:
        table.add_column(f"v{champion.version} ({result.alias})", justify="right")
        table.add_column("delta", justify="right")
    deltas = result.deltas
    for key, value in candidate.metrics.items():
        row = [key, _number(value)]
        if champion is not None:
            row += [_number(champion.metrics.get(key)), _number(deltas.get(key))]
        table.add_row(*row)
    return table


@app.command("promote")
def promote(
    name: str = typer.Argument(..., help="The registered model's name."),
    version: str = typer.Argument(..., help="The version to promote."),
    alias: str = AliasOption,
    require: list[str] = typer.Option(
        None,
        "--require",
        "-r",
        help="A rule on the stored evaluation, e.g. 'accuracy >= 0.9' or 'f1 > champion + 0.01' (repeatable).",
    ),
    tracking_uri: str = TrackingOption,
) -> None:
    """Move the alias to the version if every rule passes; exit 1 naming the failed rule otherwise."""
    _promotion(tracking_uri, lambda client: client.promote_model(name, version, alias, require or None))


@app.command("rollback")
def rollback(
    name: str = typer.Argument(..., help="The registered model's name."),
    alias: str = AliasOption,
    tracking_uri: str = TrackingOption,
) -> None:
    """Move the alias back to the version it pointed at before its last move."""
    _promotion(tracking_uri, lambda client: client.rollback_model(name, alias))


def _promotion(tracking_uri: str | None, action: Callable[[Client], PromotionResult]) -> None:
    """Run a promote or rollback; a refusal shows every rule's values before user_errors prints it and exits 1."""
    import ridgeline

    with user_errors(), ridgeline.Client(tracking_uri) as client:
        try:
            result = action(client)
        except PromotionRefused as refused:
            outcomes = (refused.details or {}).get("outcomes", []) if isinstance(refused.details, dict) else []
            if outcomes:
                err_console.print(_outcomes_table([outcome_from_json(item) for item in outcomes]))
            raise
    console.print(_moved(result), highlight=False)
    if result.outcomes:
        console.print(_outcomes_table(result.outcomes))


def _outcomes_table(outcomes: list[RuleOutcome]) -> Table:
    table = Table(title="rules", title_justify="left")
    for column in ("rule", "result", "candidate", "champion", "required"):
        table.add_column(column)
    for outcome in outcomes:
        verdict = "[green]pass[/]" if outcome.passed else "[red]fail[/]"
        table.add_row(
            outcome.rule, verdict, _number(outcome.candidate), _number(outcome.champion), _number(outcome.required)
        )
    return table


def _moved(result: PromotionResult) -> str:
    before = "nothing" if result.previous_version is None else f"v{result.previous_version}"
    if result.previous_version == result.version:
        return f"{result.model_name}: {result.alias} already points at v{result.version}"
    return f"{result.model_name}: {result.alias} {before} → v{result.version}"
