"""Starting the model server: uvicorn (httptools, uvloop) running the ASGI app, in one or several processes.

With ``workers`` > 1 the parent binds the socket once and uvicorn's supervisor starts that many processes that
accept on it; each loads the model, follows the alias and logs its predictions on its own.
"""

from __future__ import annotations

import functools
from typing import Any

from ridgeline.config import Settings
from ridgeline.domain.errors import InvalidArgument
from ridgeline.serving.access import AccessGuard, probe_path
from ridgeline.serving.app import ScoringApp
from ridgeline.serving.models import registry_uri
from ridgeline.serving.options import ServeOptions
from ridgeline.serving.runtime import Runtime


def production_app(options: ServeOptions) -> ScoringApp:
    """The app with the real loader (ridgeline.load_model) and the registry as seen through ridgeline.Client."""
    import ridgeline
    from ridgeline.client.reader import Client

    settings = Settings.load(tracking_uri=options.tracking_uri)
    client = Client(options.tracking_uri)

    def load(uri: str) -> Any:
        return ridgeline.load_model(uri, allow_pickle=options.allow_pickle, tracking_uri=options.tracking_uri)

    def resolve(uri: str) -> int:
        return client.resolve_model(uri).version

    return ScoringApp(Runtime(options, load, resolve, settings), access_guard(options, settings))


def access_guard(options: ServeOptions, settings: Settings) -> AccessGuard | None:
    """With ``--auth``, the guard that asks the tracking server whether a caller may read the served model."""
    if not options.auth:
        return None
    tracking = options.tracking_uri or settings.tracking_uri or ""
    if not tracking.startswith(("http://", "https://")):
        raise InvalidArgument(
            "--auth checks callers' tokens with the tracking server: give --tracking-uri http(s)://HOST:PORT "
            "(or RIDGELINE_TRACKING_URI)",
            field="auth",
        )
    registry = registry_uri(options.uri)
    probe = probe_path(options.uri, registry.name if registry else None)
    return AccessGuard(tracking, probe, settings.http_timeout, settings.workspace)


def serve(options: ServeOptions, log_level: str = "warning") -> None:
    import uvicorn

    config = uvicorn.Config(
        functools.partial(production_app, options),
        factory=True,
        host=options.host,
        port=options.port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        workers=options.workers,
    )
    try:
        if options.workers <= 1:
            uvicorn.Server(config).run()
            return
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[config.bind_socket()]).run()
    except KeyboardInterrupt:
        # uvicorn shuts down cleanly on Ctrl-C (logs flushed, entry removed), then re-raises it: not an error.
        return
