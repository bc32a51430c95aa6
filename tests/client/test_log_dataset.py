"""run.log_dataset and ridgeline.datasets.mark_ready, embedded and through the real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import ridgeline
from ridgeline.client.identity import current_user
from ridgeline.domain.errors import InvalidArgument, NotFound
from support.servers import running_server


def training_frame() -> pd.DataFrame:
    return pd.DataFrame({"tenure": [1, 24, 60, 3], "plan": ["basic", "pro", "pro", None], "churned": [1, 0, 0, 1]})


def test_same_data_from_two_runs_is_one_version_over_http(home: Path) -> None:
    with running_server(home) as url:
        digests = []
        for name in ("first", "second"):
            with ridgeline.start_run(project="ds-sdk", name=name, tracking_uri=url) as run:
                described = run.log_dataset(training_frame(), name="churn", context="training")
                run.log_dataset((np.eye(3), np.arange(3)), name="churn-arrays", context="validation")
                digests.append(described.digest)
        assert digests[0] == digests[1] and described.rows == 4
        found = httpx.get(f"{url}/api/v1/datasets/by-name", params={"name": "churn"}).json()
        assert [(v["digest"], v["run_count"]) for v in found["versions"]] == [(digests[0], 2)]
        lineage = httpx.get(f"{url}/api/v1/runs/{run.id}/lineage").json()
        assert sorted((i["version"]["dataset"], i["context"]) for i in lineage["inputs"]) == [
            ("churn", "training"),
            ("churn-arrays", "validation"),
        ]
        ready = ridgeline.datasets.mark_ready("churn", digests[0][:8], tracking_uri=url)
        assert ready.ready and ready.ready_by == "local" and ready.run_count == 2
        with pytest.raises(InvalidArgument, match="no version"):
            ridgeline.datasets.mark_ready("churn", "abcd1234", tracking_uri=url)
        with pytest.raises(NotFound):
            ridgeline.datasets.mark_ready("never-logged", tracking_uri=url)


def test_embedded_runs_record_versions_and_readiness(tmp_path: Path) -> None:
    folder = str(tmp_path / "data")
    data_file = tmp_path / "train.csv"
    data_file.write_text("a,b\n1,x\n2,y\n")
    with ridgeline.start_run(project="ds-local", tracking_uri=folder) as run:
        described = run.log_dataset(data_file, name="csv-data")
    assert described.source == str(data_file.resolve()) and described.rows == 2
    latest = ridgeline.datasets.mark_ready("csv-data", tracking_uri=folder)
    assert latest.digest == described.digest and latest.ready_by == current_user() and latest.run_count == 1
    withdrawn = ridgeline.datasets.mark_ready("csv-data", latest.id, ready=False, tracking_uri=folder)
    assert not withdrawn.ready


def test_bad_dataset_calls_fail_in_the_caller(tmp_path: Path) -> None:
    with ridgeline.start_run(project="ds-bad", tracking_uri=str(tmp_path / "data")) as run:
        with pytest.raises(TypeError, match="DataFrame, numpy arrays or a file path"):
            run.log_dataset([1, 2, 3], name="lists")
        with pytest.raises(InvalidArgument, match="name"):
            run.log_dataset(training_frame(), name="")
        with pytest.raises(FileNotFoundError):
            run.log_dataset(tmp_path / "missing.parquet", name="missing")
