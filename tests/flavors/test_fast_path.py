"""The array path: a scikit-learn estimator fitted on a DataFrame is scored on a plain array (no per-call frame
checks) only where that is exactly equivalent, and answers what the estimator itself answers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import ridgeline
from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.model import LoadedModel
from ridgeline.flavors.package import save_package


def _load(tmp_path: Path, model: object, example: pd.DataFrame) -> LoadedModel:
    save_package(model, tmp_path / "pkg", input_example=example)
    return ridgeline.load_model(tmp_path / "pkg")


def test_an_estimator_fitted_on_a_frame_takes_the_array_path(
    tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, label = table
    model = LogisticRegression().fit(frame, label)
    loaded = _load(tmp_path, model, frame.head(5))
    prepared = loaded.prepare(frame.head(3))
    assert isinstance(prepared, np.ndarray) and prepared.shape == (3, 4)
    shuffled = frame[list(reversed(frame.columns))]  # still matched by name, not by position
    records = frame.to_dict(orient="records")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "fitted with feature names" warning on either path
        for data in (frame, shuffled, records):
            np.testing.assert_array_equal(loaded.predict(data), model.predict(frame))
    assert hasattr(loaded.model, "feature_names_in_"), "the estimator users get back is untouched"
    with pytest.raises(InvalidArgument) as refused:
        loaded.predict(frame.drop(columns=["income"]))
    assert refused.value.field == "income"


def test_a_frame_only_pipeline_keeps_the_frame_path(tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    with_plan = frame.assign(plan=np.where(label == 1, "pro", "free"))
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["plan"]), (StandardScaler(), ["age", "income"])),
        LogisticRegression(),
    ).fit(with_plan, label)
    loaded = _load(tmp_path, model, with_plan.head(5))
    assert isinstance(loaded.prepare(with_plan.head(2)), pd.DataFrame)
    np.testing.assert_array_equal(loaded.predict(with_plan), model.predict(with_plan))


def test_a_numeric_pipeline_scores_the_same_whichever_path(
    tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, label = table
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, label)
    loaded = _load(tmp_path, model, frame.head(5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
