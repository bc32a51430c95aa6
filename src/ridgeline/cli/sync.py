"""``ridgeline sync``: upload runs logged offline, and what the SDK spooled while the server was unreachable."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ridgeline.cli.common import HomeOption, TrackingOption, console, err_console, path_or_none, setting_help
from ridgeline.client.replay import backend_for_spool
from ridgeline.client.spool import RunSpool, deliver_leftover, leftover_spools
from ridgeline.config import Settings
from ridgeline.domain.errors import Unavailable

SpoolOption = typer.Option(None, "--spool-dir", help=setting_help("spool_dir"), show_default=False)


def sync(
    spool_dir: Path | None = SpoolOption,
    tracking_uri: str | None = TrackingOption,
    home: Path | None = HomeOption,
) -> None:
    """Upload the runs waiting in the spool folder, oldest record first; running it again is harmless.

    A run goes to --tracking-uri when given, else where it was headed when it was spooled; a run logged offline
    goes to the configured tracking URI (the local data folder when none is set). Runs still being written by a
    live process are left to it.
    """
    settings = Settings.load(spool_dir=path_or_none(spool_dir), home=path_or_none(home))
    spools = list(leftover_spools(settings.spool_location))
    if not spools:
        console.print(f"Nothing to sync in {settings.spool_location}.")
        return
    table = Table("run", "name", "records", "points", "result")
    waiting = 0
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task("syncing", total=sum(spool.pending for spool in spools))
        for spool in spools:
            records = spool.pending
            result, points = _sync_one(spool, tracking_uri, settings)
            waiting += result != "delivered"
            table.add_row(spool.run_id, spool.name, str(records), str(points), result)
            progress.advance(task, records)
    console.print(table)
    console.print(f"{len(spools) - waiting} of {len(spools)} runs synced from {settings.spool_location}.")
    if waiting:
        err_console.print("Some runs are still waiting (see above); run `ridgeline sync` again later.")
        raise typer.Exit(1)


def _sync_one(spool: RunSpool, tracking_uri: str | None, settings: Settings) -> tuple[str, int]:
    """Deliver one spool (its lock held); returns the result to show and the points delivered."""
    try:
        backend = backend_for_spool(spool, tracking_uri, settings)
    except ValueError as exc:
        spool.release()
        return f"waiting: {exc}", 0
    try:
        done = deliver_leftover(spool, backend)
    except Unavailable as exc:
        return f"waiting: {exc}", 0
    finally:
        backend.close()
    return "delivered", done.points
