"""``ridgeline runs list|show|reproduce``"""

from __future__ import annotations

import datetime as dt
import math

import typer
from rich.table import Table

from ridgeline.cli.common import TrackingOption, console, user_errors
from ridgeline.cli.reproduce import reproduce
from ridgeline.domain.entities import RunRecord

app = typer.Typer(help="List and inspect runs.", no_args_is_help=True)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def _duration(run: RunRecord) -> str:
    ms = run.duration_ms
    if ms is None:
        return "running" if run.status.value == "RUNNING" else "-"
    seconds = ms / 1000
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.6g}"


@app.command("list")
def list_runs(
    project: str = typer.Option("default", "--project", "-p", help="Project name."),
    filter: str = typer.Option(None, "--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.model = 'rf'\""),
    order_by: list[str] = typer.Option(None, "--order-by", "-o", help="e.g. 'metrics.acc desc' (repeatable)."),
    limit: int = typer.Option(50, "--limit", "-n", help="Runs to show (1-1000)."),
    columns: list[str] = typer.Option(
        None, "--column", "-c", help="Extra columns: metrics.KEY, params.KEY or tags.KEY (repeatable)."
    ),
    tracking_uri: str = TrackingOption,
) -> None:
    """A table of runs in a project, filtered and ordered with the search grammar."""
    import ridgeline

    with user_errors(), ridgeline.Client(tracking_uri) as client:
        page = client.search_runs(project, filter=filter, order_by=order_by or None, limit=limit)
    table = Table(title=f"runs in {project}", title_justify="left")
    for name in ("id", "name", "status", "started", "duration"):
        table.add_column(name)
    extra = columns or []
    for column in extra:
        table.add_column(column, justify="right" if column.startswith("metrics.") else "left")
    for run in page:
        cells = [run.id, run.name, run.status.value, _when(run.start_time), _duration(run)]
        for column in extra:
            kind, _, key = column.partition(".")
            if kind == "metrics":
                cells.append(_number(run.metrics[key]) if key in run.metrics else "")
            else:
                cells.append({"params": run.params, "tags": run.tags}.get(kind, {}).get(key, ""))
        table.add_row(*cells)
    console.print(table)
    if page.next_cursor:
        console.print(f"[dim]more runs match; raise --limit (showing {len(page)})[/]")


@app.command("show")
def show_run(run_id: str, tracking_uri: str = TrackingOption) -> None:
    """Everything about one run: attributes, params, tags and latest metrics."""
    import ridgeline

    with user_errors(), ridgeline.Client(tracking_uri) as client:
        run = client.get_run(run_id)
    overview = Table(show_header=False, title=f"run {run.name}", title_justify="left")
    overview.add_column(style="bold")
    overview.add_column()
    for label, value in (
        ("id", run.id),
        ("project", run.project_id),
        ("status", run.status.value),
        ("user", run.user or "-"),
        ("started", _when(run.start_time)),
        ("ended", _when(run.end_time)),
        ("duration", _duration(run)),
        ("parent", run.parent_run_id or "-"),
        ("notes", run.notes or "-"),
    ):
        overview.add_row(label, value)
    console.print(overview)
    for title, mapping in (("params", run.params), ("tags", run.tags)):
        if mapping:
            table = Table(title=title, title_justify="left")
            table.add_column("key")
            table.add_column("value")
            for key, value in sorted(mapping.items()):
                table.add_row(key, value)
            console.print(table)
    if run.latest_metrics:
        table = Table(title="metrics (latest)", title_justify="left")
        table.add_column("key")
        table.add_column("value", justify="right")
        table.add_column("step", justify="right")
        for key, point in sorted(run.latest_metrics.items()):
            table.add_row(key, _number(point.value), str(point.step))
        console.print(table)


app.command("reproduce")(reproduce)
