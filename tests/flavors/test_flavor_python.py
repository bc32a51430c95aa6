"""Any object with ``predict``: its code travels in the package, and it is rebuilt through its hooks or its plain
state, or (only when asked for at save and at load) through pickle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flavor_checks import round_trip
from toy_models import LinearScorer, ThresholdRule, Wrapped

import ridgeline
from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import PickleNotAllowed
from ridgeline.flavors.package import save_package

Table = tuple[pd.DataFrame, np.ndarray]


def test_state_model_round_trip(tracking_uri: str, table: Table) -> None:
    frame, _ = table
    model = LinearScorer().fit(frame.to_numpy(), frame["income"].to_numpy())
    loaded = round_trip(tracking_uri, model, frame, model.predict, flavor="python", name="linear")
    assert loaded.manifest.serialization == "state"
    assert (loaded.path / "code" / "toy_models.py").is_file()
    assert loaded.model.name == "linear" and isinstance(loaded.model.weights, np.ndarray)


def test_hook_model_round_trip(tmp_path: Path, table: Table) -> None:
    frame, _ = table
    model = ThresholdRule(column=1, threshold=0.2)
    manifest = save_package(model, tmp_path / "pkg", input_example=frame.head(4))
    assert manifest.serialization == "hook" and "data/rule.json" in manifest.files
    np.testing.assert_array_equal(ridgeline.load_model(tmp_path / "pkg").predict(frame), model.predict(frame))


def test_the_package_carries_its_code_to_another_process(tmp_path: Path, table: Table) -> None:
    frame, _ = table
    model = LinearScorer().fit(frame.to_numpy(), frame["tenure"].to_numpy())
    save_package(model, tmp_path / "pkg", input_example=frame.head(2))
    script = (
        "import ridgeline, json, sys; m = ridgeline.load_model(sys.argv[1]); "
        "print(json.dumps(m.predict(json.loads(sys.argv[2])).tolist()))"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    rows = frame.head(3).to_dict("records")
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "pkg"), pd.Series(rows).to_json(orient="values")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    np.testing.assert_allclose(np.array(eval(result.stdout)), model.predict(frame.head(3)))


def test_pickle_only_when_asked_at_save_and_at_load(tmp_path: Path, table: Table) -> None:
    frame, _ = table
    model = Wrapped(2.0)
    with pytest.raises(InvalidArgument, match='serialization="pickle"') as refused:
        save_package(model, tmp_path / "refused")
    assert refused.value.field == "model" and "ridgeline_save" in refused.value.message
    save_package(model, tmp_path / "pkg", input_example=frame.head(2), serialization="pickle")
    with pytest.raises(PickleNotAllowed, match="allow_pickle=True"):
        ridgeline.load_model(tmp_path / "pkg")
    loaded = ridgeline.load_model(tmp_path / "pkg", allow_pickle=True)
    np.testing.assert_allclose(loaded.predict(frame), model.predict(frame))


def test_models_that_cannot_travel_are_refused(tmp_path: Path) -> None:
    script_class = type("Local", (), {"predict": lambda self, data: data, "__module__": "__main__"})
    with pytest.raises(InvalidArgument, match="defined in the script being run"):
        save_package(script_class(), tmp_path / "main")
    with pytest.raises(InvalidArgument, match="no-argument constructor"):
        save_package(ThresholdRule(0, 1.0), tmp_path / "state", serialization="state")
    assert not (tmp_path / "state").exists()  # nothing half-written is left
    with pytest.raises(InvalidArgument, match="hook or state or pickle"):
        save_package(LinearScorer(), tmp_path / "other", serialization="json")
