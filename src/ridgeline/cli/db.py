"""``ridgeline db``: schema management."""

from __future__ import annotations

from pathlib import Path

import typer

from ridgeline.cli.common import BackendOption, HomeOption, console, shown_uri, user_errors
from ridgeline.config import Settings

app = typer.Typer(help="Manage the metadata database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(home: Path | None = HomeOption, backend_uri: str | None = BackendOption) -> None:
    """Migrate the metadata database to the current schema (the server also does this when it starts)."""
    from ridgeline.store.database import Database
    from ridgeline.store.migrate import HEAD_REVISION
    from ridgeline.store.migrate import upgrade as run_upgrade

    with user_errors():
        settings = Settings.load(home=home, backend_uri=backend_uri)
        database = Database(settings.metadata_uri)
        try:
            changed = run_upgrade(database)
        finally:
            database.dispose()
    state = "upgraded to" if changed else "already at"
    console.print(f"{shown_uri(settings.metadata_uri)}: {state} schema revision {HEAD_REVISION}", highlight=False)
