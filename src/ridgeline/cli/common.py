"""Options and error handling shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from ridgeline.config import SETTINGS_BY_NAME
from ridgeline.domain.errors import RidgelineError

console = Console()
err_console = Console(stderr=True)


def setting_help(name: str, default: object = None) -> str:
    """Option help from the settings table, with its environment variable (escaped: rich would eat [...])."""
    setting = SETTINGS_BY_NAME[name]
    shown = "" if default is None else f"default: {default}; "
    return f"{setting.help} \\[{shown}env: {setting.env}]"


HomeOption = typer.Option(None, "--home", help=setting_help("home"), show_default=False)
TrackingOption = typer.Option(None, "--tracking-uri", help=setting_help("tracking_uri"), show_default=False)
BackendOption = typer.Option(None, "--backend-uri", help=setting_help("backend_uri"), show_default=False)
ArtifactsOption = typer.Option(None, "--artifacts-uri", help=setting_help("artifacts_uri"), show_default=False)


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"


@contextmanager
def user_errors() -> Iterator[None]:
    """Print Ridgeline errors as one clear line and exit 1, instead of a traceback."""
    try:
        yield
    except RidgelineError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[bold red]error{where}:[/] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def path_or_none(value: Path | None) -> Path | None:
    return value.expanduser() if value is not None else None


def shown_uri(uri: str) -> str:
    """A database URI fit for printing: the password masked."""
    from sqlalchemy.engine import make_url

    return make_url(uri).render_as_string(hide_password=True)
