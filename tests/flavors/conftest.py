"""Model packaging fixtures: each flavor goes through the SDK embedded (a data folder) and over HTTP (a real server
on SQLite), and ``models`` gives the training data every flavor's tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from support.servers import running_server


@pytest.fixture(autouse=True)
def _fast_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIDGELINE_FLUSH_INTERVAL", "0.05")
    monkeypatch.setenv("RIDGELINE_FLUSH_TIMEOUT", "30")
    monkeypatch.setenv("RIDGELINE_HTTP_TIMEOUT", "10")


@pytest.fixture(params=["embedded", "http"])
def tracking_uri(request: pytest.FixtureRequest, home: Path, tmp_path: Path) -> Iterator[str]:
    if request.param == "embedded":
        yield str(home)
        return
    with running_server(home, f"sqlite:///{tmp_path / 'server-meta.db'}") as url:
        yield url


@pytest.fixture
def table() -> tuple[pd.DataFrame, np.ndarray]:
    """Four float features and a binary label that depends on them."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(200, 4)), columns=["age", "income", "tenure", "score"])
    label = ((frame["age"] + 0.5 * frame["income"] - frame["score"]) > 0).astype(np.int64).to_numpy()
    return frame, label
