"""``ridgeline server``"""

from __future__ import annotations

from pathlib import Path

import typer

from ridgeline.cli.common import (
    ArtifactsOption,
    BackendOption,
    HomeOption,
    err_console,
    setting_help,
    shown_uri,
    user_errors,
)
from ridgeline.config import Settings


def server(
    host: str | None = typer.Option(
        None,
        "--host",
        help=setting_help("host", "127.0.0.1"),
        show_default=False,
    ),
    port: int | None = typer.Option(
        None,
        "--port",
        help=setting_help("port", 5170),
        show_default=False,
    ),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
    auth: bool = typer.Option(
        False, "--auth", help="Require accounts (login or API token), even on loopback. [env: RIDGELINE_AUTH]"
    ),
    insecure_no_auth: bool = typer.Option(
        False,
        "--insecure-no-auth",
        help="Listen beyond loopback WITHOUT accounts: only behind an authenticating proxy. "
        "[env: RIDGELINE_INSECURE_NO_AUTH]",
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level: debug, info, warning, error."),
) -> None:
    """Start the tracking server (REST API under /api/v1, docs at /docs)."""
    with user_errors():
        settings = Settings.load(
            host=host,
            port=port,
            home=home,
            backend_uri=backend_uri,
            artifacts_uri=artifacts_uri,
            auth=auth or None,
            insecure_no_auth=insecure_no_auth or None,
        )
    run_server(settings, log_level)


def run_server(settings: Settings, log_level: str = "info") -> None:
    """Serve ``settings`` until interrupted. Other commands (quickstart) call this, not the typer command, whose
    parameters default to typer's option objects when called as a plain function."""
    import uvicorn

    from ridgeline.domain.addresses import check_server_mode
    from ridgeline.server.app import create_app

    with user_errors():
        check_server_mode(settings)
        app = create_app(settings)
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown_host}:{settings.port}"
    mode = "accounts on" if app.state.settings_auth else "local single-user mode, no login"
    err_console.print(
        f"Ridgeline serving {shown_uri(settings.metadata_uri)} on {url} ({mode}; API docs: /docs)",
        highlight=False,
        soft_wrap=True,
    )
    if app.state.settings_auth:
        secret = app.state.accounts.first_admin_invitation()
        if secret is not None:
            link = f"{url.replace('0.0.0.0', '127.0.0.1')}/invitation?token={secret}"
            err_console.print(
                f"No accounts yet. Create the first admin at {link} (works once, for 24 hours), "
                "or run `ridgeline users create NAME --admin`.",
                highlight=False,
                soft_wrap=True,
            )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level, access_log=False)
