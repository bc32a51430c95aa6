"""The ``ridgeline`` command: one typer app, one module per command group."""

from __future__ import annotations

import typer

from ridgeline import __version__
from ridgeline.cli import (
    db,
    exchange,
    gc,
    models,
    monitors,
    predict,
    quickstart,
    retention,
    runs,
    serve,
    server,
    storage,
    sync,
    tokens,
    users,
    workspaces,
)

app = typer.Typer(
    name="ridgeline",
    help="Ridgeline: track experiments, manage models, serve and monitor them. Self-hosted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("server")(server.server)
app.command("serve")(serve.serve)
app.command("predict")(predict.predict)
app.command("quickstart")(quickstart.quickstart)
app.command("sync")(sync.sync)
app.command("gc")(gc.gc)
app.command("storage")(storage.storage)
app.add_typer(db.app, name="db")
app.add_typer(runs.app, name="runs")
app.add_typer(models.app, name="models")
app.add_typer(monitors.app, name="monitors")
app.add_typer(retention.app, name="retention")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(workspaces.app, name="workspaces")
app.command("invite")(users.invite)
app.command("audit")(workspaces.audit)
app.command("export")(exchange.export)
app.add_typer(exchange.import_app, name="import")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ridgeline {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Global options."""


def main() -> None:
    app()
