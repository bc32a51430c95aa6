"""``ridgeline predict MODEL_URI --input FILE --output OUT.parquet``: batch scoring in bounded memory."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ridgeline.cli.common import TrackingOption, err_console, user_errors
from ridgeline.serving.batch import DEFAULT_BATCH_ROWS


def predict(
    model_uri: str = typer.Argument(
        ..., help="models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/PATH or a folder."
    ),
    input: Path = typer.Option(..., "--input", "-i", help="A .csv (with a header row) or .parquet file."),
    output: Path = typer.Option(..., "--output", "-o", help="The .parquet file to write: input columns + predictions."),
    batch_size: int = typer.Option(DEFAULT_BATCH_ROWS, "--batch-size", min=1, help="Rows scored at a time."),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help="Allow loading pickle-based model packages."),
    tracking_uri: str | None = TrackingOption,
) -> None:
    """Score a file larger than memory, chunk by chunk, with a progress bar."""
    import ridgeline
    from ridgeline.serving.batch import score_file
    from ridgeline.serving.models import Served

    with user_errors():
        served = Served(None, ridgeline.load_model(model_uri, allow_pickle=allow_pickle, tracking_uri=tracking_uri))
        with Progress(
            TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console
        ) as bar:
            task = bar.add_task("rows", total=None)
            rows = score_file(
                lambda frame: served.predict(served.prepare(frame)),
                input.expanduser(),
                output.expanduser(),
                batch_size,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    err_console.print(f"{rows} rows scored into {output}", highlight=False)
