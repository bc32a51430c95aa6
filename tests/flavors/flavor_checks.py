"""The check every flavor passes: log → register → alias → load by ``models:/NAME@ALIAS`` → the same predictions
as the original model on a DataFrame, an ndarray and a list of dicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import ridgeline
from ridgeline.flavors.model import LoadedModel


def round_trip(
    tracking_uri: str,
    model: Any,
    frame: pd.DataFrame,
    expected: Callable[[pd.DataFrame], Any],
    *,
    flavor: str,
    name: str,
    **log_options: Any,
) -> LoadedModel:
    """Log ``model`` with the first rows of ``frame`` as its example, register it as ``name``, point ``champion``
    at it, load it back and compare predictions with ``expected(frame)``; returns the loaded model."""
    with ridgeline.start_run(project="flavors", tracking_uri=tracking_uri) as run:
        run.log_metric("acc", 0.9)
        info = run.log_model(model, "model", input_example=frame.head(5), register_as=name, **log_options)
    assert info.uri == f"runs:/{run.id}/model" and info.flavor == flavor
    version = info.registered_version
    assert version is not None and version.version == 1 and version.metrics == {"acc": 0.9}
    assert version.flavor == flavor and version.signature == info.manifest.signature is not None
    with ridgeline.Client(tracking_uri) as client:
        client.set_model_alias(name, "champion", version.version)
    loaded = ridgeline.load_model(f"models:/{name}@champion", tracking_uri=tracking_uri)
    assert (loaded.flavor, loaded.version, loaded.model_name) == (flavor, 1, name)
    assert loaded.signature is not None and loaded.signature.to_json() == version.signature
    want = np.asarray(expected(frame))
    names = [column.name for column in loaded.signature.inputs.columns]  # type: ignore[union-attr]
    for data in (frame[names], frame[names].to_numpy(), frame[names].to_dict(orient="records")):
        got = np.asarray(loaded.predict(data))
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-6)
        else:
            np.testing.assert_array_equal(got, want)
    again = ridgeline.load_model(info.uri, tracking_uri=tracking_uri)
    assert again.path == loaded.path  # same content: the cached copy
    return loaded
