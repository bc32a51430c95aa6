"""``ridgeline.monitoring`` as a user calls it, embedded (a data folder) and over HTTP (a real server): a monitor
on a logged and registered scikit-learn model, its reference from a DataFrame or from the version's logged
training file (scored by the model for a prediction baseline), predictions as DataFrames with datetimes, actuals
later, and the report as a DataFrame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import ridgeline
import ridgeline.monitoring as monitoring
from ridgeline.domain.errors import InvalidArgument, NotFound
from support.servers import running_server

FEATURES = ["age", "income", "plan"]


def _data(rows: int, seed: int, age_shift: float = 0.0) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": generator.normal(40 + age_shift, 10, rows),
            "income": generator.normal(50, 8, rows),
            "plan": generator.choice(["basic", "pro", "team"], rows),
        }
    )


def _target(frame: pd.DataFrame) -> np.ndarray:
    return ((frame["age"] - 40) / 10 + (frame["income"] - 50) / 8 > 0).astype(int).to_numpy()


@pytest.fixture(params=["embedded", "http"])
def tracking_uri(request: pytest.FixtureRequest, home: Path, tmp_path: Path) -> Iterator[str]:
    """A data folder with churn v1 (trained on a logged CSV file) as champion, used in-process or served."""
    training = _data(3000, seed=0)
    path = tmp_path / "training.csv"
    training.to_csv(path, index=False)
    numeric = training[["age", "income"]]
    with ridgeline.start_run(project="churn", tracking_uri=str(home)) as run:
        run.log_dataset(str(path), name="customers", context="training")
        run.log_model(
            LogisticRegression().fit(numeric, _target(training)),
            "model",
            input_example=numeric.head(),
            register_as="churn",
        )
    with ridgeline.Client(str(home)) as client:
        client.set_model_alias("churn", "champion", 1)
    if request.param == "embedded":
        yield str(home)
        return
    with running_server(home) as url:
        yield url


def test_monitor_from_training_data_predictions_actuals_and_report(tracking_uri: str) -> None:
    created = monitoring.create_monitor(
        "churn@champion", window="1h", segment_by=["country"], tracking_uri=tracking_uri
    )
    assert created.name == "churn-champion" and created.features == ["age", "income"]
    found = monitoring.list_monitors("churn", tracking_uri=tracking_uri)
    assert [monitor.name for monitor in found] == ["churn-champion"]

    current = _data(1500, seed=1, age_shift=8)
    stamps = pd.date_range("2026-11-01T00:00Z", periods=1500, freq="5s")  # 1500 rows over ~2 hours: 3 windows
    ids = [f"req-{index}" for index in range(1500)]
    countries = np.where(np.arange(1500) % 3 == 0, "IT", "FR")
    predicted = (current["age"] > 45).astype(int)
    sent = monitoring.log_predictions(
        "churn@champion",
        current,
        predicted,
        ids=ids,
        timestamps=stamps,
        tags={"country": countries},
        tracking_uri=tracking_uri,
    )
    assert sent == {"rows": 1500, "windows": 3}
    labelled = monitoring.log_actuals("churn-champion", ids[:900], _target(current)[:900], tracking_uri=tracking_uri)
    assert labelled["matched"] == 900

    report = monitoring.report("churn-champion", tracking_uri=tracking_uri)
    assert isinstance(report["window_start"].dtype, pd.DatetimeTZDtype)
    assert sorted(report["window_start"].unique()) == list(pd.date_range("2026-11-01T00:00Z", periods=3, freq="1h"))
    features = report[report["feature"] != "*"]
    assert set(features["feature"]) == {"age", "income", "prediction"}  # the model scored the training file
    assert features[features["feature"] == "age"]["drift"].all()
    assert not features[features["feature"] == "income"]["drift"].any()
    dataset = report[report["feature"] == "*"].set_index("window_start")
    assert dataset["labelled_rows"].sum() == 900 and dataset["accuracy"].notna().sum() == 2
    by_country = monitoring.report("churn-champion", segment="country", tracking_uri=tracking_uri)
    assert set(by_country["segment"]) == {"country=IT", "country=FR"}
    italy = monitoring.report("churn-champion", segment="country=IT", tracking_uri=tracking_uri)
    assert italy[italy["feature"] == "*"]["rows"].sum() == 500
    later = monitoring.report("churn-champion", start=pd.Timestamp("2026-11-01T01:00Z"), tracking_uri=tracking_uri)
    assert later["window_start"].min() == pd.Timestamp("2026-11-01T01:00Z")


def test_reference_from_a_dataframe_and_named_features(tracking_uri: str) -> None:
    reference = _data(2000, seed=2).assign(prediction=lambda frame: (frame["age"] > 40).astype(int))
    created = monitoring.create_monitor(
        "churn/1", reference, features=["age", "plan"], window="1d", name="v1-watch", tracking_uri=tracking_uri
    )
    assert (created.name, created.version, created.features) == ("v1-watch", 1, ["age", "plan"])
    monitoring.log_predictions("v1-watch", _data(300, seed=3), np.ones(300, dtype=int), tracking_uri=tracking_uri)
    report = monitoring.report("v1-watch", tracking_uri=tracking_uri)
    assert set(report["feature"]) == {"age", "plan", "prediction", "*"}
    monitoring.delete_monitor("v1-watch", tracking_uri=tracking_uri)
    with pytest.raises(NotFound):
        monitoring.get_monitor("v1-watch", tracking_uri=tracking_uri)


def test_bad_calls_are_refused_with_their_reason(tracking_uri: str) -> None:
    with pytest.raises(NotFound):
        monitoring.log_predictions("nobody@champion", _data(3, 0), [1, 0, 1], tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument):
        monitoring.create_monitor("churn@champion", _data(100, 0), features=["height"], tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument):
        monitoring.create_monitor("churn", tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument):
        monitoring.create_monitor("churn@champion", window="fortnightly", tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument):
        monitoring.create_monitor("churn@champion", rules=["psi >>> 1"], tracking_uri=tracking_uri)
    monitoring.create_monitor("churn@champion", tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument):
        monitoring.log_predictions("churn-champion", _data(3, 0), [1, 0], tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument):
        monitoring.log_predictions(
            "churn-champion", _data(2, 0), [1, 0], timestamps=["yesterday-ish", "x"], tracking_uri=tracking_uri
        )
    assert monitoring.report("churn-champion", tracking_uri=tracking_uri).empty
