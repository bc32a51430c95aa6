"""A run's artifact listing and dataset inputs through ``ridgeline.Client``, embedded (a data folder) and over HTTP
(SQLite, PostgreSQL): the same calls give the same entities and raise the same exceptions on every backend."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ridgeline
from ridgeline.client.identity import current_user
from ridgeline.domain.entities import ArtifactFile, RunInput
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.services.dataset_description import DatasetDescription

UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"
FILES = {
    "top.txt": b"top\n",
    "tree/a.txt": b"a",
    "tree/sub/b.bin": bytes(range(256)) * 40,
    "treehouse.txt": b"not in tree/",
    "ünï cödé/x y.txt": "é".encode(),
}


def _actor(tracking_uri: str) -> str:
    return "local" if tracking_uri.startswith("http") else current_user()


def _run_with_files(tracking_uri: str, tmp_path: Path) -> str:
    source = tmp_path / "tree"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_bytes(FILES["tree/a.txt"])
    (source / "sub" / "b.bin").write_bytes(FILES["tree/sub/b.bin"])
    with ridgeline.start_run(project="listing", tracking_uri=tracking_uri) as run:
        run.log_artifact(source)
        for name in ("top.txt", "treehouse.txt", "ünï cödé/x y.txt"):
            run.log_text(FILES[name].decode(), name)
    return run.id


def test_list_artifacts_of_the_run_and_of_a_folder(tracking_uri: str, tmp_path: Path) -> None:
    start = int(time.time() * 1000)
    run_id = _run_with_files(tracking_uri, tmp_path)
    with ridgeline.Client(tracking_uri) as client:
        listed = client.list_artifacts(run_id)
        assert all(isinstance(item, ArtifactFile) for item in listed)
        assert [(item.path, item.size, item.sha256) for item in listed] == [
            (path, len(content), hashlib.sha256(content).hexdigest()) for path, content in sorted(FILES.items())
        ]
        assert all(start - 1000 <= item.created_at <= int(time.time() * 1000) + 1000 for item in listed)

        def paths(path: str) -> list[str]:
            return [item.path for item in client.list_artifacts(run_id, path)]

        assert paths("tree") == paths("tree/") == ["tree/a.txt", "tree/sub/b.bin"]
        assert paths("tree/sub") == ["tree/sub/b.bin"]
        assert paths("ünï cödé") == ["ünï cödé/x y.txt"]
        assert paths("top.txt") == paths("tree/a") == paths("missing/folder") == []
        with ridgeline.start_run(project="listing", tracking_uri=tracking_uri) as empty:
            pass
        assert client.list_artifacts(empty.id) == []


def _logged_inputs(tracking_uri: str, tmp_path: Path) -> tuple[str, dict[str, DatasetDescription]]:
    frame = pd.DataFrame({"tenure": [1, 24, 60, 3], "plan": ["basic", "pro", "pro", None], "churned": [1, 0, 0, 1]})
    csv = tmp_path / "holdout.csv"
    csv.write_text("a,b\n1,x\n2,y\n")
    with ridgeline.start_run(project="inputs", tracking_uri=tracking_uri) as run:
        described = {
            "train": run.log_dataset(frame, "churn", context="training", source="s3://data/churn.parquet"),
            "validation": run.log_dataset((np.eye(3), np.arange(3)), "churn-arrays", context="validation"),
            "test": run.log_dataset(csv, "churn-holdout", context="test"),
        }
        # The same data for a second purpose is the same version, used twice.
        run.log_dataset(frame, "churn", context="monitoring", source="s3://data/churn.parquet")
    return run.id, described


def test_get_run_inputs_reads_every_field_back(tracking_uri: str, tmp_path: Path) -> None:
    start = int(time.time() * 1000)
    run_id, described = _logged_inputs(tracking_uri, tmp_path)
    with ridgeline.Client(tracking_uri) as client:
        inputs = client.get_run_inputs(run_id)
        assert all(isinstance(item, RunInput) and item.run_id == run_id for item in inputs)
        by_context = {item.context: item.version for item in inputs}
        assert sorted(by_context) == ["monitoring", "test", "training", "validation"]
        assert by_context["monitoring"] == by_context["training"]
        names = {"training": "churn", "validation": "churn-arrays", "test": "churn-holdout"}
        for context, description in (
            ("training", described["train"]),
            ("validation", described["validation"]),
            ("test", described["test"]),
        ):
            version = by_context[context]
            assert (version.dataset_name, version.digest, version.kind) == (
                names[context],
                description.digest,
                description.kind,
            )
            assert (version.rows, version.size_bytes, version.source) == (
                description.rows,
                description.size_bytes,
                description.source,
            )
            assert version.schema == description.schema and version.profile == description.profile
            assert version.created_by == _actor(tracking_uri) and not version.ready and version.run_count == 1
            assert start - 1000 <= version.created_at <= int(time.time() * 1000) + 1000
        assert by_context["training"].profile is not None and "columns" in by_context["training"].profile
        assert by_context["test"].source == str((tmp_path / "holdout.csv").resolve())

        # Another run using the same data shares the version; readiness reads back with it.
        with ridgeline.start_run(project="inputs", tracking_uri=tracking_uri) as other:
            other.log_dataset(tmp_path / "holdout.csv", "churn-holdout", context="training")
        ridgeline.datasets.mark_ready("churn-holdout", tracking_uri=tracking_uri)
        [shared] = client.get_run_inputs(other.id)
        assert (shared.context, shared.version.id) == ("training", by_context["test"].id)
        assert shared.version.run_count == 2 and shared.version.ready_by == _actor(tracking_uri)
        counts = {item.version.id: item.version.run_count for item in client.get_run_inputs(run_id)}
        assert counts[shared.version.id] == 2

        with ridgeline.start_run(project="inputs", tracking_uri=tracking_uri) as empty:
            pass
        assert client.get_run_inputs(empty.id) == []


def test_bad_calls_raise_the_same_errors_everywhere(tracking_uri: str) -> None:
    with ridgeline.start_run(project="bad-calls", tracking_uri=tracking_uri) as run:
        run.log_text("x", "a/b.txt")
    with ridgeline.Client(tracking_uri) as client:
        for path in ("../x", "a/../b", "./a", "/abs", "/", "a//b", "a//", "a\\b", "a%2e", "a\x00b", "a\u200bb"):
            with pytest.raises(InvalidArgument) as refused:
                client.list_artifacts(run.id, path)
            assert refused.value.field == "path", path
        for read in (client.list_artifacts, client.get_run_inputs):
            with pytest.raises(NotFound):
                read(UNKNOWN_RUN)
            for bad in ("nope", UNKNOWN_RUN.upper(), f"{UNKNOWN_RUN[:31]}/", ""):
                with pytest.raises(InvalidArgument) as refused:
                    read(bad)
                assert refused.value.field == "run_id"
        with pytest.raises(NotFound):
            client.list_artifacts(UNKNOWN_RUN, "tree")
