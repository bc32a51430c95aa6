"""scikit-learn packages: skops by default (no pickle on load), pickle only when opted in at save and at load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flavor_checks import round_trip
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import ridgeline
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.flavors.base import PickleNotAllowed
from ridgeline.flavors.manifest import MANIFEST_NAME
from ridgeline.flavors.package import load_package, save_package


def test_classifier_round_trip_through_the_registry(tracking_uri: str, table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, label)
    loaded = round_trip(tracking_uri, model, frame, model.predict, flavor="sklearn", name="churn")
    assert loaded.manifest.serialization == "skops"
    assert any(item.startswith("scikit-learn==") for item in loaded.manifest.requirements)
    assert loaded.signature is not None
    assert loaded.signature.to_json()["outputs"] == {"type": "tensor", "dtype": "int64", "shape": [-1]}
    example = json.loads((loaded.path / "input_example.json").read_text())
    assert example["dataframe_split"]["columns"] == list(frame.columns)
    np.testing.assert_allclose(example["dataframe_split"]["data"], frame.head(5).to_numpy())


def test_model_trained_on_an_array_takes_rows_by_position(
    tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = table
    features = frame.to_numpy()
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(features, frame["income"].to_numpy())
    save_package(model, tmp_path / "pkg", input_example=features[:3])
    loaded = ridgeline.load_model(tmp_path / "pkg")
    want = model.predict(features[:4])
    records = [{str(i): float(value) for i, value in enumerate(row)} for row in features[:4]]
    for data in (features[:4], frame.head(4), records, features[:4].tolist()):
        np.testing.assert_allclose(loaded.predict(data), want)
    np.testing.assert_allclose(loaded.predict(features[0]), want[:1])  # one row without its batch axis


def test_pickle_needs_an_opt_in_at_save_and_at_load(
    tracking_uri: str, table: tuple[pd.DataFrame, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame, label = table
    model = LogisticRegression().fit(frame, label)
    with ridgeline.start_run(project="flavors", tracking_uri=tracking_uri) as run:
        info = run.log_model(model, input_example=frame.head(2), serialization="pickle", register_as="pickled")
    assert info.manifest.serialization == "pickle" and "model.joblib" in info.manifest.files
    with pytest.raises(PickleNotAllowed, match="allow_pickle=True") as refused:
        ridgeline.load_model("models:/pickled/1", tracking_uri=tracking_uri)
    assert refused.value.field == "allow_pickle" and "RIDGELINE_ALLOW_PICKLE" in refused.value.message
    loaded = ridgeline.load_model("models:/pickled/latest", tracking_uri=tracking_uri, allow_pickle=True)
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    monkeypatch.setenv("RIDGELINE_ALLOW_PICKLE", "true")
    assert ridgeline.load_model(info.uri, tracking_uri=tracking_uri).flavor == "sklearn"


def test_unknown_serialization_is_refused(tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    with pytest.raises(InvalidArgument, match="skops or pickle") as refused:
        save_package(LogisticRegression().fit(frame, label), tmp_path / "pkg", serialization="cloudpickle")
    assert refused.value.field == "serialization"


def _clip(values: np.ndarray) -> np.ndarray:
    return np.clip(values, -1.0, 1.0)


def test_skops_loads_only_the_types_the_saver_recorded(tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    model = make_pipeline(FunctionTransformer(_clip), LogisticRegression()).fit(frame, label)
    manifest = save_package(model, tmp_path / "pkg", input_example=frame.head(3))
    recorded = manifest.flavor_options["trusted_types"]
    assert recorded == [f"{__name__}._clip"]  # a function of ours is outside skops' default safe set
    np.testing.assert_array_equal(load_package(tmp_path / "pkg").predict(frame), model.predict(frame))
    raw = json.loads((tmp_path / "pkg" / MANIFEST_NAME).read_text())
    raw["flavor_options"]["trusted_types"] = []
    (tmp_path / "pkg" / MANIFEST_NAME).write_text(json.dumps(raw))
    with pytest.raises(InvalidArgument, match="did not record") as refused:
        load_package(tmp_path / "pkg")
    assert recorded[0] in refused.value.message


def test_altered_files_and_bad_locations_are_refused(tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    save_package(LogisticRegression().fit(frame, label), tmp_path / "pkg")
    with (tmp_path / "pkg" / "model.skops").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(InvalidArgument, match="sha256"):
        ridgeline.load_model(tmp_path / "pkg")
    with pytest.raises(InvalidArgument, match=r"no ridgeline-model\.json"):
        ridgeline.load_model(tmp_path)
    with pytest.raises(InvalidArgument, match="neither"):
        ridgeline.load_model(tmp_path / "missing")
    with pytest.raises(InvalidArgument, match="not empty"):
        save_package(LogisticRegression(), tmp_path / "pkg")
    with pytest.raises(InvalidArgument, match="no predict method"):
        save_package(object(), tmp_path / "other")


def test_registry_lookups_that_find_nothing(tracking_uri: str) -> None:
    with pytest.raises(NotFound):
        ridgeline.load_model("models:/nothing@champion", tracking_uri=tracking_uri)
    with pytest.raises(NotFound):
        ridgeline.load_model("runs:/0123456789abcdef0123456789abcdef/model", tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument):
        ridgeline.load_model("models:/bad/name/", tracking_uri=tracking_uri)


def test_without_an_example_there_is_no_signature(tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    model = LogisticRegression().fit(frame, label)
    manifest = save_package(model, tmp_path / "pkg")
    assert manifest.signature is None and manifest.input_example is None
    loaded = ridgeline.load_model(tmp_path / "pkg")
    assert loaded.signature is None
    np.testing.assert_array_equal(loaded.predict(frame.to_dict(orient="records")), model.predict(frame))
