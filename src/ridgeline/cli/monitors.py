"""``ridgeline monitors``: production monitors from a shell: create them, feed them predictions and actuals from
files, read their reports and alerts.

Everything goes through ``ridgeline.monitoring``'s functions (embedded or over HTTP alike); the call they do not
offer (``ingest``) and the raw JSON of monitors (with their periods) and of report rows use the same transport the
functions use. Every error exits 1 with one line on stderr; ``--json`` output is the only thing written to stdout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from ridgeline.cli.common import TrackingOption, console, err_console, user_errors
from ridgeline.cli.monitor_files import print_json
from ridgeline.domain.errors import InvalidArgument

if TYPE_CHECKING:
    from ridgeline.client.monitoring_transport import MonitoringTransport

app = typer.Typer(
    help="Production monitors: drift, data quality and performance per window, with alerts.", no_args_is_help=True
)
NameArgument = typer.Argument(..., help="The monitor's name.")
JsonOption = typer.Option(False, "--json", help="Print JSON on stdout instead of tables.")
BatchOption = typer.Option(50_000, "--batch-size", min=1, help="Rows read and sent at a time.")
SkipOption = typer.Option(0, "--skip-rows", min=0, help="Leave out the file's first N rows (already sent).")
TargetArgument = typer.Argument(..., help="A monitor's name, or NAME@ALIAS / NAME/VERSION (all its monitors).")
InputOption = typer.Option(..., "--input", "-i", help="A .csv (with a header row) or .parquet file.")
ALERT_STATUSES = ("raised", "resolved")


@contextmanager
def _monitoring(tracking_uri: str | None) -> Iterator[MonitoringTransport]:
    """The transport behind ridgeline.monitoring: for the raw JSON (periods, report rows) and evaluate/ingest."""
    import ridgeline

    with ridgeline.Client(tracking_uri) as client:
        yield client._backend.monitoring


def _when(ms: int | None) -> str:
    # UTC: windows are cut on UTC boundaries, so local time would make a 1d window look like it starts at 02:00.
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")


# Never wrapped: a name or a time split over two lines reads as two. The other columns fold rather than lose their
# end to an ellipsis (a reference's source or a message half shown is useless).
_WHOLE = ("name", "target", "monitor", "window (UTC)", "raised (UTC)", "started (UTC)")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in _WHOLE)
    return table


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@app.command("create")
def create(
    model: str = typer.Argument(..., help="What to watch: NAME@ALIAS (follows the alias) or NAME/VERSION."),
    reference: str = typer.Option(
        None, "--reference", help="A .csv/.parquet file or a logged dataset name[@version]; default: training data."
    ),
    name: str = typer.Option(None, "--name", help="The monitor's name; default: NAME-ALIAS or NAME-VERSION."),
    window: str = typer.Option("1d", "--window", help="Window length: 15m, 1h, 1d, 1w."),
    features: list[str] = typer.Option(None, "--feature", help="A feature to watch (repeatable); default: all."),
    segment_by: list[str] = typer.Option(None, "--segment-by", help="A feature or tag to slice by (repeatable)."),
    task: str = typer.Option(None, "--task", help="classification or regression; default: inferred from labels."),
    rules: list[str] = typer.Option(
        None, "--rule", help="An alert rule, e.g. 'psi > 0.2 on at least 3 features' (repeatable)."
    ),
    channels: list[str] = typer.Option(
        None, "--channel", help='Where alerts go, a JSON object: \'{"type": "webhook", "url": "…"}\' (repeatable).'
    ),
    cooldown: str = typer.Option("1h", "--cooldown", help="Quiet time before an open alert is sent again."),
    description: str = typer.Option("", "--description", help="Free text shown with the monitor."),
    tracking_uri: str = TrackingOption,
) -> None:
    """Create a monitor of a registered model against a reference; prints what it watches."""
    import ridgeline.monitoring
    from ridgeline.cli.monitor_files import json_objects, read_reference, rule_options

    with user_errors():
        parsed_rules = rule_options(rules)
        parsed_channels = json_objects(channels, "--channel", '\'{"type": "webhook", "url": "https://…"}\'')
        data = read_reference(reference)
        created = ridgeline.monitoring.create_monitor(
            model,
            data,
            features=features or None,
            window=window,
            rules=parsed_rules,
            segment_by=segment_by or None,
            task=task,
            channels=parsed_channels,
            name=name,
            cooldown=cooldown,
            description=description,
            tracking_uri=tracking_uri,
        )
        with _monitoring(tracking_uri) as monitoring:
            body = monitoring.get(created.name)
    console.print(f"created monitor [bold]{body['name']}[/] watching {body['target']}", highlight=False, soft_wrap=True)
    if data is not reference:
        # The SDK records a DataFrame reference as "a DataFrame": the file it came from is named here.
        console.print(f"reference file: {escape(reference)} ({len(data)} rows)", highlight=False, soft_wrap=True)
    console.print(_summary(body))


def _summary(body: dict[str, Any]) -> Table:
    from ridgeline.monitoring.rules import Rule

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    features = body["features"]
    periods = body.get("periods") or []
    rows = [
        ("target", body["target"]),
        ("features", "every column of the reference" if features is None else ", ".join(features)),
        ("window", body["window"]),
        ("segment by", ", ".join(body["segment_by"]) or "-"),
        ("task", body["task"] or "inferred from the labels"),
        ("reference", periods[-1]["reference_source"] if periods else "-"),
        ("rules", "\n".join(Rule.from_json(rule).text for rule in body["rules"]) or "-"),
        ("channels", "\n".join(_channel(channel) for channel in body["channels"]) or "-"),
        ("cool-down", f"{body['cooldown_s']} s"),
    ]
    if body["description"]:
        rows.append(("description", body["description"]))
    for key, value in rows:
        grid.add_row(key, escape(value))  # names, URLs and rules are the user's text, not rich markup
    return grid


def _channel(channel: dict[str, Any]) -> str:
    """A channel on one line; secrets arrive masked as *** from the server."""
    rest = ", ".join(f"{key}={value}" for key, value in channel.items() if key != "type")
    return f"{channel.get('type', '?')}: {rest}" if rest else str(channel.get("type", "?"))


@app.command("list")
def list_monitors(
    model: str = typer.Option(None, "--model", help="Only the monitors of this registered model."),
    as_json: bool = JsonOption,
    tracking_uri: str = TrackingOption,
) -> None:
    """A table of monitors: what each watches, its window, rules and channels."""
    with user_errors(), _monitoring(tracking_uri) as monitoring:
        found = monitoring.find(model)
    if as_json:
        print_json(found)
        return
    table = _table("monitors", "name", "target", "window", "features", "segment by", "rules", "channels")
    for body in found:
        features = body["features"]
        table.add_row(
            body["name"],
            body["target"],
            body["window"],
            "all" if features is None else str(len(features)),
            ", ".join(body["segment_by"]),
            str(len(body["rules"])),
            str(len(body["channels"])),
        )
    console.print(table)


@app.command("show")
def show(name: str = NameArgument, as_json: bool = JsonOption, tracking_uri: str = TrackingOption) -> None:
    """A monitor's definition, its periods (one per model version, with the reference each is compared with),
    rules and channels."""
    with user_errors(), _monitoring(tracking_uri) as monitoring:
        body = monitoring.get(name)
    if as_json:
        print_json(body)
        return
    console.print(f"[bold]{body['name']}[/] {escape(body['description'])}".rstrip(), highlight=False, soft_wrap=True)
    console.print(_summary(body))
    periods = _table("periods", "period", "model version", "started (UTC)", "reference", "features")
    for period in body.get("periods") or []:
        version = period["model_version"]
        periods.add_row(
            str(period["number"]),
            "-" if version is None else f"v{version}",
            _when(period["started_at"]),
            escape(period["reference_source"]),
            escape(", ".join(period["features"])),
        )
    console.print(periods)


@app.command("report")
def report(
    name: str = NameArgument,
    start: str = typer.Option(None, "--start", help="First window: ISO 8601 (UTC by default) or epoch ms."),
    end: str = typer.Option(None, "--end", help="Windows starting before this: ISO 8601 or epoch ms."),
    segment: str = typer.Option(
        None, "--segment", help="NAME=VALUE, NAME (each of its values) or * (all); default: the whole population."
    ),
    period: int = typer.Option(None, "--period", min=1, help="Only this period (model version) of the monitor."),
    as_json: bool = JsonOption,
    tracking_uri: str = TrackingOption,
) -> None:
    """Per window: the dataset drift verdict, data quality, performance (once actuals arrived) and the drifted
    features with their test, score and threshold."""
    from ridgeline.cli.monitor_files import parse_time

    with user_errors():
        params = {
            "start": parse_time(start, "--start"),
            "end": parse_time(end, "--end"),
            "segment": segment,
            "period": period,
        }
        with _monitoring(tracking_uri) as monitoring:
            rows = monitoring.report(name, params)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"{name}: no windows in this range yet (log predictions first)", highlight=False, soft_wrap=True)
        return
    console.print(_report_table(name, rows))


def _report_table(name: str, rows: list[dict[str, Any]]) -> Table:
    from ridgeline.services.monitoring.reports import DATASET, PERFORMANCE_METRICS

    windows: dict[tuple[int, int, str], list[dict[str, Any]]] = {}
    for row in rows:
        windows.setdefault((row["period"], row["window_start"], row["segment"]), []).append(row)
    segmented = any(segment for _, _, segment in windows)
    table = _table(
        f"report of {name}: {len(windows)} windows",
        "window (UTC)",
        *(["segment"] if segmented else []),
        "version",
        "rows",
        "drift",
        "quality",
        "performance",
        "drifted features (test score, threshold)",
    )
    for (_, start, segment), group in windows.items():
        dataset = next(row for row in group if row["feature"] == DATASET)
        features = [row for row in group if row["feature"] != DATASET]
        share = f"{dataset['drifted_features']}/{dataset['evaluated_features']} ({dataset['drift_share']:.0%})"
        drift = f"[bold red]DRIFT {share}[/]" if dataset["drift"] else f"[green]ok[/] {share}"
        failing = [f"{row['feature']}: {', '.join(row['quality_failed'])}" for row in features if row["quality_failed"]]
        quality = "[green]ok[/]" if not failing else "[red]" + escape("\n".join(failing)) + "[/]"
        metrics = [f"{key} {_number(dataset[key])}" for key in PERFORMANCE_METRICS if dataset.get(key) is not None]
        if dataset.get("performance_error"):
            metrics.append(f"[red]{escape(dataset['performance_error'])}[/]")
        labelled = dataset.get("labelled_rows") or 0
        performance = ", ".join(metrics) + f" ({labelled} labelled)" if labelled or metrics else "-"
        drifted = [
            f"{row['feature']}{' (output)' if row['feature'] == 'prediction' else ''}: "
            f"{row['test']} {_number(row['score'])}, {_number(row['threshold'])}"
            for row in features
            if row["drift"]
        ]
        version = dataset["model_version"]
        table.add_row(
            _when(start),
            *([escape(segment) or "whole"] if segmented else []),
            "-" if version is None else f"v{version}",
            str(dataset["rows"]),
            drift,
            quality,
            performance,
            escape("\n".join(drifted)) or "-",
        )
    return table


@app.command("alerts")
def alerts(
    name: str = NameArgument,
    status: str = typer.Option(None, "--status", help="raised or resolved; default: both."),
    limit: int = typer.Option(200, "--limit", min=1, max=10_000, help="At most this many, newest first."),
    as_json: bool = JsonOption,
    tracking_uri: str = TrackingOption,
) -> None:
    """The monitor's alerts, newest first."""
    import ridgeline.monitoring

    with user_errors():
        if status is not None and status not in ALERT_STATUSES:
            raise InvalidArgument(f"--status is raised or resolved, not {status!r}", field="status")
        found = ridgeline.monitoring.alerts(name, status, limit, tracking_uri=tracking_uri)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print(f"{name}: no alerts", highlight=False, soft_wrap=True)
        return
    console.print(_alerts_table(f"alerts of {name}", found))


def _alerts_table(title: str, found: list[dict[str, Any]], changes: dict[str, str] | None = None) -> Table:
    table = _table(title, "raised (UTC)", "status", "severity", "rule", "segment", "window (UTC)", "message")
    for alert in found:
        status = alert["status"] if changes is None else changes[alert["id"]]
        shown = f"[green]{status}[/] {_when(alert['resolved_at'])}" if "resolved" in status else f"[red]{status}[/]"
        table.add_row(
            _when(alert["raised_at"]),
            shown,
            alert["severity"],
            escape(alert["rule"]),
            escape(alert["segment"]) or "whole",
            _when(alert["window_start"]),
            escape(alert["message"]),
        )
    return table


@app.command("log-predictions")
def log_predictions(
    name: str = TargetArgument,
    input: Path = InputOption,
    prediction_column: str = typer.Option(..., "--prediction-column", help="The column holding the model's output."),
    id_column: str = typer.Option(None, "--id-column", help="Ids to join actuals on later; default: generated."),
    timestamp_column: str = typer.Option(
        None,
        "--timestamp-column",
        help="When each prediction was made (ISO 8601, date-time or epoch ms); default: now.",
    ),
    score_column: str = typer.Option(None, "--score-column", help="Class probabilities or scores."),
    tag_columns: list[str] = typer.Option(None, "--tag-column", help="A column to segment by, not a feature."),
    feature_columns: list[str] = typer.Option(
        None, "--feature-column", help="A feature column (repeatable); default: every other column."
    ),
    batch_size: int = BatchOption,
    skip_rows: int = SkipOption,
    tracking_uri: str = TrackingOption,
) -> None:
    """Send a file of predictions to a monitor, in chunks, with a progress bar."""
    from ridgeline.cli.monitor_files import PredictionColumns, open_source, send_predictions

    columns = PredictionColumns(
        prediction_column, id_column, timestamp_column, score_column, tag_columns or [], feature_columns or []
    )
    with user_errors():
        source = open_source(input)
        read, sent = send_predictions(source, name, columns, (batch_size, skip_rows), tracking_uri)
    console.print(
        f"{read} predictions from {escape(source.path.name)} → {name}: {sent['rows']} rows logged, "
        f"{sent['windows']} window updates",
        highlight=False,
        soft_wrap=True,
    )


@app.command("log-actuals")
def log_actuals(
    name: str = TargetArgument,
    input: Path = InputOption,
    id_column: str = typer.Option(..., "--id-column", help="The ids the predictions were logged with."),
    value_column: str = typer.Option(..., "--value-column", help="The true label or value."),
    timestamp_column: str = typer.Option(None, "--timestamp-column", help="When the truth was known."),
    batch_size: int = BatchOption,
    skip_rows: int = SkipOption,
    tracking_uri: str = TrackingOption,
) -> None:
    """Send the true values of logged predictions, matched by id; their windows get performance metrics."""
    from ridgeline.cli.monitor_files import open_source, send_actuals

    with user_errors():
        source = open_source(input)
        chunking = (batch_size, skip_rows)
        read, sent = send_actuals(source, name, id_column, value_column, timestamp_column, chunking, tracking_uri)
    console.print(
        f"{read} actuals from {escape(source.path.name)} → {name}: {sent['matched']} matched a logged prediction, "
        f"{sent['windows']} window updates",
        highlight=False,
        soft_wrap=True,
    )
    if sent["matched"] < sent["rows"]:
        err_console.print(
            f"warning: {sent['rows'] - sent['matched']} of {sent['rows']} actuals matched no logged prediction",
            highlight=False,
            soft_wrap=True,
        )


@app.command("ingest")
def ingest(tracking_uri: str = TrackingOption) -> None:
    """One pass over `ridgeline serve`'s prediction log into the monitors (then their alert rules)."""
    with user_errors(), _monitoring(tracking_uri) as monitoring:
        counts = monitoring.ingest()
    if not counts:
        console.print("nothing new in the prediction log for any monitor", highlight=False, soft_wrap=True)
        return
    table = _table("ingested from the prediction log", "monitor", "rows")
    for monitor, rows in sorted(counts.items()):
        table.add_row(monitor, str(rows))
    console.print(table)


@app.command("evaluate")
def evaluate(name: str = NameArgument, tracking_uri: str = TrackingOption) -> None:
    """Run the monitor's alert rules now; prints the alerts raised, sent again, still raised or resolved."""
    import ridgeline.monitoring

    with user_errors():
        # The open alerts before, to say what this evaluation did to each alert it returns.
        before = {
            alert["id"]: alert
            for alert in ridgeline.monitoring.alerts(name, "raised", 10_000, tracking_uri=tracking_uri)
        }
        changed = ridgeline.monitoring.evaluate_alerts(name, tracking_uri=tracking_uri)
    if not changed:
        console.print(
            f"{name}: no alert raised, sent again or resolved (open alerts stay as they were)",
            highlight=False,
            soft_wrap=True,
        )
        return
    changes = {alert["id"]: _change(alert, before.get(alert["id"])) for alert in changed}
    console.print(_alerts_table(f"alerts of {name} after evaluating its rules", changed, changes))


def _change(alert: dict[str, Any], before: dict[str, Any] | None) -> str:
    if before is None:
        return "raised now"
    if alert["status"] == "resolved":
        return "resolved now"
    # Not sent again: the rule still holds and the alert moved to a newer window within its cool-down.
    return "sent again" if alert["notified_at"] != before["notified_at"] else "still raised"


@app.command("delete")
def delete(
    name: str = NameArgument,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    tracking_uri: str = TrackingOption,
) -> None:
    """Delete a monitor with its windows, events and alerts."""
    import ridgeline.monitoring

    with user_errors():
        # An unknown name fails before the question is asked.
        found = ridgeline.monitoring.get_monitor(name, tracking_uri=tracking_uri)
        if not yes and not typer.confirm(
            f"Delete monitor {found.name} ({found.target}) with its windows, events and alerts?"
        ):
            err_console.print("not deleted", highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        ridgeline.monitoring.delete_monitor(name, tracking_uri=tracking_uri)
    console.print(f"deleted monitor {name}", highlight=False, soft_wrap=True)
