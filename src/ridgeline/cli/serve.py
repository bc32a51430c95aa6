"""``ridgeline serve MODEL_URI``: the model server (docs/serving.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from ridgeline.cli.common import TrackingOption, err_console, user_errors
from ridgeline.serving.options import DEFAULT_MAX_BODY, DEFAULT_PORT


def serve(
    model_uri: str = typer.Argument(
        ...,
        help="models:/NAME@ALIAS (followed as it moves), models:/NAME/VERSION, runs:/RUN_ID/PATH or a model folder.",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(DEFAULT_PORT, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes sharing the port."),
    canary: str | None = typer.Option(
        None, "--canary", help="ALIAS=PERCENT: that share of requests is answered by the alias' version."
    ),
    shadow: str | None = typer.Option(
        None, "--shadow", help="ALIAS: every request is also scored by it, logged, never returned."
    ),
    tracking_uri: str | None = TrackingOption,
    prediction_log: Path | None = typer.Option(
        None,
        "--prediction-log",
        help="Folder for the Parquet prediction log. Default: the tracking server when it is remote, else "
        "predictions/ in the data folder.",
    ),
    no_prediction_log: bool = typer.Option(False, "--no-prediction-log", help="Do not log predictions."),
    batch_max: int = typer.Option(0, "--batch-max", min=0, help="Micro-batch concurrent requests up to N rows."),
    batch_wait_ms: float = typer.Option(
        0.0, "--batch-wait-ms", min=0.0, help="With --batch-max: hold a batch that is not full for up to T ms."
    ),
    max_body: int = typer.Option(DEFAULT_MAX_BODY, "--max-body", min=1, help="Largest request body, in bytes."),
    poll_interval: float = typer.Option(
        2.0, "--poll-interval", min=0.1, help="Seconds between checks of where the aliases point."
    ),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help="Allow loading pickle-based model packages."),
    auth: bool = typer.Option(
        False,
        "--auth",
        help="Callers (all but /ping and /health) need an API token that the tracking server accepts for reading "
        "the model; allows listening beyond loopback.",
    ),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level: debug, info, warning, error."),
) -> None:
    """Serve a model over HTTP with MLflow's scoring protocol (POST /invocations), following its alias."""
    from ridgeline.domain.addresses import check_bind_address
    from ridgeline.serving.options import ServeOptions
    from ridgeline.serving.runner import serve as run

    with user_errors():
        if not auth:
            check_bind_address(host)
        options = ServeOptions(
            uri=model_uri,
            host=host,
            port=port,
            workers=workers,
            canary=canary,
            shadow=shadow,
            tracking_uri=tracking_uri,
            prediction_log=prediction_log.expanduser() if prediction_log else None,
            log_predictions=not no_prediction_log,
            batch_max=batch_max,
            batch_wait_ms=batch_wait_ms,
            max_body_bytes=max_body,
            poll_interval=poll_interval,
            allow_pickle=allow_pickle,
            auth=auth,
        )
        options.check()
        if auth:
            from ridgeline.config import Settings
            from ridgeline.serving.runner import access_guard

            access_guard(options, Settings.load(tracking_uri=tracking_uri))
    err_console.print(f"Ridgeline serving {model_uri} on {options.url} (POST /invocations)", highlight=False)
    run(options, log_level=log_level)
