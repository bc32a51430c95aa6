"""Serving tests' helpers: a registry with versions of a small scikit-learn model, and the scoring app served by
uvicorn on a free loopback port. Until the server is started as ``ridgeline serve`` (test_cli_serve.py), the
model comes from ``models_by_version``: a plain function in place of ridgeline.load_model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import uvicorn
from sklearn.linear_model import LinearRegression

import ridgeline
from ridgeline.config import Settings
from ridgeline.flavors.signature import Signature, infer_signature, prepare_input
from ridgeline.serving.app import ScoringApp
from ridgeline.serving.options import ServeOptions
from ridgeline.serving.runtime import Runtime
from support.servers import free_port

COLUMNS = ["x1", "x2"]


def frame(rows: int, seed: int = 0) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    return pd.DataFrame({"x1": generator.normal(size=rows), "x2": generator.normal(size=rows)})


@dataclass
class Model:
    """A fitted regression whose intercept is its version (version v predicts about v*1000 on zero input)."""

    estimator: Any
    signature: Signature

    def prepare(self, data: Any) -> Any:
        return prepare_input(data, self.signature)

    def predict_prepared(self, data: Any) -> Any:
        return self.estimator.predict(data)


def fitted(version: int) -> Model:
    data = frame(50, seed=version)
    target = 1000 * version + data["x1"] * 2 + data["x2"]
    estimator = LinearRegression().fit(data, target)
    return Model(estimator, infer_signature(data, estimator.predict(data)))


class Broken(Model):
    def predict_prepared(self, data: Any) -> Any:
        raise RuntimeError("this model always fails")


def register_versions(tracking: Path | str, name: str, count: int) -> ridgeline.Client:
    """``count`` versions of ``name`` (their files do not matter to the local loader) in the data folder or
    server ``tracking``."""
    client = ridgeline.Client(str(tracking))
    with ridgeline.start_run(project="serving", tracking_uri=str(tracking)) as run:
        run_id = run.id
    client.create_model(name)
    for _ in range(count):
        client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    return client


@contextmanager
def scoring_server(
    home: Path, options: ServeOptions, models: dict[int, Model], registry: str | None = None, **overrides: Any
) -> Iterator[tuple[str, Runtime]]:
    """The scoring app on a free port; ``models`` maps a version to the model ``models:/NAME/VERSION`` loads.
    Versions are resolved through ``registry`` (default: the options' tracking URI)."""
    port = free_port()
    options = ServeOptions(**{**options.__dict__, "port": port, "tracking_uri": str(home), **overrides})
    client = ridgeline.Client(registry or options.tracking_uri)

    def load(uri: str) -> Model:
        return models[int(uri.rsplit("/", 1)[1])]

    def resolve(uri: str) -> int:
        return client.resolve_model(uri).version

    runtime = Runtime(options, load, resolve, Settings.load(home=home, tracking_uri=str(home)))
    server = uvicorn.Server(uvicorn.Config(ScoringApp(runtime), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the scoring server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", runtime
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        client.close()


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def invoke(url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{url}/invocations", json=body, timeout=30, **kwargs)
