"""XGBoost, LightGBM, ONNX and PyTorch packages: each native format through the registry and back, with the same
predictions as the original model."""

from __future__ import annotations

from pathlib import Path

import lightgbm
import numpy as np
import onnx
import pandas as pd
import pytest
import torch
import xgboost
from flavor_checks import round_trip
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

import ridgeline
from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.package import save_package
from ridgeline.flavors.signature import TensorSpec

Table = tuple[pd.DataFrame, np.ndarray]


def test_xgboost_classifier(tracking_uri: str, table: Table) -> None:
    frame, label = table
    model = xgboost.XGBClassifier(n_estimators=8, max_depth=3).fit(frame, label)
    loaded = round_trip(tracking_uri, model, frame, model.predict, flavor="xgboost", name="xgb")
    assert isinstance(loaded.model, xgboost.XGBClassifier) and loaded.manifest.serialization == "ubj"
    np.testing.assert_allclose(loaded.model.predict_proba(frame), model.predict_proba(frame))


def test_xgboost_booster(tmp_path: Path, table: Table) -> None:
    frame, label = table
    booster = xgboost.train({"max_depth": 2}, xgboost.DMatrix(frame, label=label), num_boost_round=5)
    save_package(booster, tmp_path / "pkg", input_example=frame.head(3))
    loaded = ridgeline.load_model(tmp_path / "pkg")
    np.testing.assert_allclose(loaded.predict(frame.to_dict("records")), booster.predict(xgboost.DMatrix(frame)))


def test_lightgbm_classifier_answers_with_labels(tracking_uri: str, table: Table) -> None:
    frame, label = table
    names = np.array(["stay", "leave"])[label]
    model = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(frame, names)
    loaded = round_trip(tracking_uri, model, frame, model.predict, flavor="lightgbm", name="lgbm")
    assert loaded.manifest.flavor_options["classes"] == ["leave", "stay"]


def test_lightgbm_multiclass_and_booster(tmp_path: Path, table: Table) -> None:
    frame, _ = table
    classes = np.digitize(frame["age"], [-0.5, 0.5])
    model = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(frame, classes)
    save_package(model, tmp_path / "multi", input_example=frame.head(3))
    np.testing.assert_array_equal(ridgeline.load_model(tmp_path / "multi").predict(frame), model.predict(frame))
    booster = lightgbm.train({"verbose": -1}, lightgbm.Dataset(frame, label=frame["income"]), num_boost_round=5)
    save_package(booster, tmp_path / "booster", input_example=frame.head(3))
    np.testing.assert_allclose(ridgeline.load_model(tmp_path / "booster").predict(frame), booster.predict(frame))


def test_onnx_model_from_scikit_learn(tracking_uri: str, table: Table) -> None:
    frame, label = table
    features = frame.to_numpy(dtype=np.float32)
    sklearn_model = LogisticRegression().fit(features, label)
    model = to_onnx(sklearn_model, features[:1], options={"zipmap": False})

    def expected(data: pd.DataFrame) -> np.ndarray:
        return sklearn_model.predict(data.to_numpy(dtype=np.float32))

    loaded = round_trip(tracking_uri, model, frame, expected, flavor="onnx", name="onnx")
    assert any(item.startswith("onnxruntime==") for item in loaded.manifest.requirements)


def test_onnx_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"onnx\.ModelProto"):
        save_package(b"bytes", tmp_path / "pkg", flavor="onnx")
    with pytest.raises(onnx.checker.ValidationError):
        save_package(onnx.ModelProto(), tmp_path / "other", flavor="onnx")


class _Scorer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(4, 8)
        self.out = torch.nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.out(torch.relu(self.hidden(x)))).squeeze(-1)


def test_torch_module_exported(tracking_uri: str, table: Table) -> None:
    frame, _ = table
    torch.manual_seed(0)
    model = _Scorer()

    def expected(data: pd.DataFrame) -> np.ndarray:
        with torch.no_grad():
            return model(torch.tensor(data.to_numpy(), dtype=torch.float32)).numpy()

    loaded = round_trip(tracking_uri, model, frame, expected, flavor="torch", name="torch")
    state = torch.load(loaded.path / "state_dict.pt", weights_only=True)
    assert set(state) == set(model.state_dict())
    np.testing.assert_allclose(loaded.predict(frame.head(1)), expected(frame.head(1)), rtol=1e-6)


def test_torch_tensor_inputs_and_refusals(tmp_path: Path) -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(8, 3)
    )
    images = np.random.default_rng(1).normal(size=(4, 1, 4, 4)).astype(np.float32)
    manifest = save_package(model, tmp_path / "pkg", input_example=images[:2])
    assert model.training  # exported in eval mode, handed back as it was
    model.eval()
    loaded = ridgeline.load_model(tmp_path / "pkg")
    assert loaded.signature is not None and loaded.signature.inputs == TensorSpec("float32", (-1, 1, 4, 4))
    assert manifest.signature is not None and len(manifest.signature["outputs"]["columns"]) == 3
    with torch.no_grad():
        want = model(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(loaded.predict(images), want, rtol=1e-5)
    np.testing.assert_allclose(loaded.predict(images[0].tolist()), want[:1], rtol=1e-5)
    with pytest.raises(InvalidArgument, match="not named columns"):
        loaded.predict([{"a": 1.0}])
    with pytest.raises(InvalidArgument, match="needs an input_example"):
        save_package(model, tmp_path / "no-example")
