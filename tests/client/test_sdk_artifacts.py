"""SDK artifacts, embedded and over HTTP: log_artifact (file and folder) arrives byte-identical, the helpers
write the right files, and ridgeline.artifacts.download brings them back."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import ridgeline
import ridgeline.artifacts
from ridgeline.domain.errors import InvalidArgument, NotFound
from support.servers import running_server


@pytest.fixture(params=["embedded", "http"])
def uri(request: pytest.FixtureRequest, home: Path, tmp_path: Path) -> Iterator[str]:
    if request.param == "embedded":
        yield str(home)
        return
    with running_server(home, f"sqlite:///{tmp_path / 'server.db'}") as url:
        yield url


def _fetch(run_id: str, path: str, uri: str, tmp_path: Path) -> bytes:
    return ridgeline.artifacts.download(f"runs:/{run_id}/{path}", tmp_path / "fetched", tracking_uri=uri).read_bytes()


def test_log_artifact_file_and_folder_round_trip(uri: str, tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(os.urandom(2 * 1024 * 1024 + 3))
    folder = tmp_path / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    with ridgeline.start_run("artifacts", tracking_uri=uri, capture=False) as run:
        run.log_artifact(model)
        run.log_artifact(model, name="checkpoints/best.bin")
        run.log_artifact(folder)
    assert _fetch(run.id, "model.bin", uri, tmp_path) == model.read_bytes()
    assert _fetch(run.id, "checkpoints/best.bin", uri, tmp_path) == model.read_bytes()
    copy = ridgeline.artifacts.download(f"runs:/{run.id}/outputs", tmp_path / "copy", tracking_uri=uri)
    assert copy == tmp_path / "copy" / "outputs"
    assert (copy / "a.txt").read_text() == "a"
    assert (copy / "sub" / "b.txt").read_text() == "b"
    whole = ridgeline.artifacts.download(f"runs:/{run.id}", tmp_path / "whole", tracking_uri=uri)
    assert sorted(p.relative_to(whole).as_posix() for p in whole.rglob("*") if p.is_file()) == [
        "checkpoints/best.bin",
        "model.bin",
        "outputs/a.txt",
        "outputs/sub/b.txt",
    ]
    with pytest.raises(NotFound):
        ridgeline.artifacts.download(f"runs:/{run.id}/missing", tmp_path / "none", tracking_uri=uri)


def test_bad_names_and_sources_are_refused_at_the_call(uri: str, tmp_path: Path) -> None:
    with ridgeline.start_run("artifacts", tracking_uri=uri, capture=False) as run:
        for name in ("../x", "/abs", "a\\b", "%2e%2e/x"):
            with pytest.raises(InvalidArgument):
                run.log_text("x", name)
        with pytest.raises(InvalidArgument):
            run.log_artifact(tmp_path / "does-not-exist")
        with pytest.raises(InvalidArgument):
            run.log_dict({"a": 1}, "config.txt")
    with pytest.raises(InvalidArgument):
        ridgeline.artifacts.download("models:/x/1", tmp_path)


def test_helpers_write_the_right_files(uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    import plotly.graph_objects as go
    import yaml
    from PIL import Image

    table = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    with ridgeline.start_run("artifacts", tracking_uri=uri, capture=False) as run:
        run.log_text("héllo", "notes/readme.md")
        run.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.json")
        run.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.yaml")
        run.log_image(Image.new("RGB", (4, 3), "red"), "pil.png")
        run.log_image(np.zeros((5, 6, 3), dtype=np.uint8), "array.png")
        run.log_image(np.linspace(0, 1, 20).reshape(4, 5), "gray.png")
        run.log_image(figure, "figure-as-image.png")
        run.log_table(table, "table.parquet")
        run.log_figure(figure, "plot.png")
        run.log_figure(figure, "plot.svg")
        run.log_figure(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])), "interactive.html")
        run.log_figure(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])), "interactive.json")
    plt.close(figure)

    def fetch(path: str) -> bytes:
        return _fetch(run.id, path, uri, tmp_path)

    assert fetch("notes/readme.md").decode() == "héllo"
    assert json.loads(fetch("config.json")) == {"lr": 0.1, "layers": [1, 2]}
    assert yaml.safe_load(fetch("config.yaml")) == {"lr": 0.1, "layers": [1, 2]}
    assert Image.open(io.BytesIO(fetch("pil.png"))).size == (4, 3)
    assert Image.open(io.BytesIO(fetch("array.png"))).size == (6, 5)
    assert Image.open(io.BytesIO(fetch("gray.png"))).mode == "L"
    assert fetch("figure-as-image.png").startswith(b"\x89PNG")
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(fetch("table.parquet"))), table)
    assert fetch("plot.png").startswith(b"\x89PNG")
    assert b"<svg" in fetch("plot.svg")
    assert b"plotly" in fetch("interactive.html").lower()
    assert json.loads(fetch("interactive.json"))["data"][0]["type"] == "scatter"
