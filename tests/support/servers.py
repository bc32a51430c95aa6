"""The real Ridgeline server on a free loopback port, run by uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from ridgeline.config import Settings
from ridgeline.server.app import create_app


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    home: Path,
    backend_uri: str | None = None,
    port: int | None = None,
    customize: Callable[[FastAPI], None] | None = None,
    **overrides: Any,
) -> Iterator[str]:
    """Serve ``home`` (and ``backend_uri``) until the block ends, on ``port`` or a free one; yields the base URL.

    ``customize`` gets the app before it serves (to override a dependency, say); ``overrides`` are further
    settings (``auth=True`` turns accounts on).
    """
    port = port or free_port()
    settings = Settings.load(home=home, backend_uri=backend_uri, port=port, **overrides)
    app = create_app(settings)
    if customize is not None:
        customize(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    # 401: a customized app may require credentials even here.
    assert httpx.get(f"{url}/healthz").status_code in (200, 401)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
