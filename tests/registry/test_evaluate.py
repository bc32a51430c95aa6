"""ridgeline.registry.evaluate on real scikit-learn models (a classifier and a regressor) beside the champion,
on a DataFrame and on a logged CSV dataset, and the `ridgeline models` commands in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error, roc_auc_score

import ridgeline
import ridgeline.registry
from ridgeline.domain.errors import InvalidArgument


def _data(seed: int, regression: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    signal = 2 * frame["a"] - frame["b"] + rng.normal(scale=0.5, size=300)
    frame["y"] = signal if regression else (signal > 0).astype(int)
    return frame


def _log(tracking_uri: str, model: object, frame: pd.DataFrame, name: str) -> int:
    features = frame.drop(columns=["y"])
    model.fit(features, frame["y"])  # type: ignore[attr-defined]
    with ridgeline.start_run(project="gate", tracking_uri=tracking_uri) as run:
        info = run.log_model(model, "model", input_example=features.head(3), register_as=name)
    return info.registered_version.version


def test_classifier_evaluated_beside_the_champion(tracking_uri: str) -> None:
    train, test = _data(0, False), _data(1, False)
    weak = LogisticRegression(C=0.001)
    strong = LogisticRegression()
    assert _log(tracking_uri, weak, train[["a", "y"]].assign(b=0.0), "clf") == 1
    assert _log(tracking_uri, strong, train, "clf") == 2
    ridgeline.registry.promote("clf", 1, tracking_uri=tracking_uri)

    result = ridgeline.registry.evaluate("models:/clf/2", test, target="y", tracking_uri=tracking_uri)
    features = test.drop(columns=["y"])
    assert result.candidate.task == "classification" and result.candidate.rows == 300
    assert result.candidate.metrics["accuracy"] == pytest.approx(accuracy_score(test["y"], strong.predict(features)))
    assert result.candidate.metrics["roc_auc"] == pytest.approx(
        roc_auc_score(test["y"], strong.predict_proba(features)[:, 1])
    )
    assert result.champion is not None and result.champion.version == 1
    assert result.deltas["accuracy"] > 0
    with ridgeline.Client(tracking_uri) as client:
        assert client.get_model_evaluations("clf", 1)[0].evaluation_id == result.evaluation_id
        assert client.get_model_evaluations("clf", 2)[0].evaluation_id == result.evaluation_id
    moved = ridgeline.registry.promote(
        "clf", 2, require=["accuracy > champion + 0.01", "log_loss < champion"], tracking_uri=tracking_uri
    )
    assert moved.previous_version == 1


def test_regressor_on_a_logged_csv_dataset(tracking_uri: str, tmp_path: Path) -> None:
    train, test = _data(2, True), _data(3, True)
    model = LinearRegression()
    _log(tracking_uri, model, train, "reg")
    path = tmp_path / "holdout.csv"
    test.to_csv(path, index=False)
    with ridgeline.start_run(project="gate", tracking_uri=tracking_uri) as run:
        run.log_dataset(path, name="holdout", context="evaluation")
    result = ridgeline.registry.evaluate(
        "models:/reg/1", "holdout", ["mae", "r2"], target="y", tracking_uri=tracking_uri
    )
    expected = mean_absolute_error(test["y"], model.predict(test.drop(columns=["y"])))
    assert result.candidate.task == "regression" and result.champion is None
    assert list(result.candidate.metrics) == ["mae", "r2"]
    assert result.candidate.metrics["mae"] == pytest.approx(expected)
    assert result.candidate.dataset_name == "holdout" and result.candidate.dataset_version_id is not None

    path.write_text("a,b,y\n1,2,3\n")
    with pytest.raises(InvalidArgument, match="changed since dataset 'holdout'"):
        ridgeline.registry.evaluate("models:/reg/1", "holdout", target="y", tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument, match="no target column 'label'"):
        ridgeline.registry.evaluate("models:/reg/1", test, target="label", tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument, match="needs a registered version"):
        ridgeline.registry.evaluate("runs:/abc/model", test, target="y", tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument, match="DataFrame or a logged dataset"):
        ridgeline.registry.evaluate("models:/reg/1", [1, 2], target="y", tracking_uri=tracking_uri)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIDGELINE_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "ridgeline"), *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_models_commands(home: Path, tmp_path: Path) -> None:
    train, test = _data(4, False), _data(5, False)
    _log(str(home), LogisticRegression(C=0.001), train[["a", "y"]].assign(b=0.0), "cli-model")
    _log(str(home), LogisticRegression(), train, "cli-model")
    data = tmp_path / "test.parquet"
    test.to_parquet(data)

    assert _cli(home, "models", "promote", "cli-model", "1").returncode == 0
    evaluated = _cli(home, "models", "evaluate", "models:/cli-model/2", "--data", str(data), "--target", "y")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "accuracy" in evaluated.stdout and "v1 (champion)" in evaluated.stdout
    refused = _cli(home, "models", "promote", "cli-model", "2", "--require", "accuracy >= 1.5")
    assert refused.returncode == 1
    assert "rule 'accuracy >= 1.5' failed" in refused.stderr
    promoted = _cli(home, "models", "promote", "cli-model", "2", "-r", "accuracy > champion")
    assert promoted.returncode == 0 and "champion v1 → v2" in promoted.stdout
    listed = _cli(home, "models", "list")
    assert "cli-model" in listed.stdout and "champion→v2" in listed.stdout
    shown = _cli(home, "models", "show", "cli-model")
    assert "alias history" in shown.stdout and "sklearn" in shown.stdout
    rolled = _cli(home, "models", "rollback", "cli-model")
    assert rolled.returncode == 0 and "champion v2 → v1" in rolled.stdout
    missing = _cli(home, "models", "show", "nope")
    assert missing.returncode == 1 and "error" in missing.stderr
    bad_data = _cli(home, "models", "evaluate", "models:/cli-model/2", "--data", str(tmp_path / "x.txt"), "-t", "y")
    assert bad_data.returncode == 1 and ".csv or .parquet" in bad_data.stderr
