"""``run.log_model`` beyond the happy path: bad calls refused before anything is stored, and registering a
version from a package (or from something that only looks like one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import ridgeline
from ridgeline.domain.errors import Conflict, InvalidArgument, Unavailable
from support.servers import running_server

Table = tuple[pd.DataFrame, np.ndarray]


def test_bad_calls_store_nothing(tracking_uri: str, table: Table) -> None:
    frame, label = table
    model = LogisticRegression().fit(frame, label)
    with ridgeline.start_run(project="flavors", tracking_uri=tracking_uri) as run:
        with pytest.raises(InvalidArgument) as refused:
            run.log_model(model, register_as="a/b")
        assert refused.value.field == "register_as"
        with pytest.raises(InvalidArgument) as refused:
            run.log_model(model, "../outside")
        assert refused.value.field == "name"
        with pytest.raises(InvalidArgument, match="no predict method"):
            run.log_model(object())
        with pytest.raises(InvalidArgument, match="missing column 'tenure'"):
            example = [{"age": 1.0, "income": 2.0, "score": 3.0}]
            run.log_model(model, input_example=example, signature=_signature(frame), register_as="never")
        run.log_metric("still", 1.0)
    with ridgeline.Client(tracking_uri) as client:
        assert client.list_artifacts(run.id) == []
        assert client.get_run(run.id).metrics["still"] == 1.0
        assert client.search_models() == []
    with pytest.raises(Conflict, match="finished"):
        run.log_model(model)


def _signature(frame: pd.DataFrame) -> dict[str, object]:
    from ridgeline.flavors.signature import infer_signature

    return infer_signature(frame).to_json()


def test_registering_later_reads_the_package(tracking_uri: str, table: Table) -> None:
    frame, label = table
    model = LogisticRegression().fit(frame, label)
    with ridgeline.start_run(project="flavors", tracking_uri=tracking_uri) as run:
        info = run.log_model(model, "classifier", input_example=frame.head(3))
        run.log_text("not a model", "notes/readme.txt")
        run.log_text("{not json", "broken/ridgeline-model.json")
    assert info.registered_version is None
    with ridgeline.Client(tracking_uri) as client:
        client.create_model("later")
        version = client.create_model_version("later", info.uri)
        assert version.flavor == "sklearn" and version.signature == info.manifest.signature
        plain = client.create_model_version("later", f"runs:/{run.id}/notes")
        assert (plain.flavor, plain.signature) == (None, None)
        with pytest.raises(InvalidArgument, match="not JSON") as refused:
            client.create_model_version("later", f"runs:/{run.id}/broken")
        assert refused.value.field == "manifest"
        assert [item.version for item in client.get_model_versions("later")] == [2, 1]


def test_with_the_server_down_the_model_waits_in_the_spool_unregistered(
    home: Path, tmp_path: Path, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIDGELINE_HTTP_TIMEOUT", "2")
    frame, label = table
    model = LogisticRegression().fit(frame, label)
    database = f"sqlite:///{tmp_path / 'meta.db'}"
    with running_server(home, database) as url:
        run = ridgeline.start_run(project="flavors", tracking_uri=url)
        run.log_metric("acc", 0.5)
        assert run.flush()
    with pytest.raises(Unavailable, match=r"went to the spool.*not registered") as refused:
        run.log_model(model, input_example=frame.head(2), register_as="down")
    assert refused.value.field == "register_as"
    assert run.log_model(model, "unregistered").registered_version is None  # straight to the spool now
    with running_server(home, database, port=int(url.rsplit(":", 1)[1])):
        run.finish()  # delivers the spool: nothing was lost
        with ridgeline.Client(url) as client:
            client.create_model("down")
            version = client.create_model_version("down", f"runs:/{run.id}/model")
            assert version.flavor == "sklearn" and version.signature is not None
        loaded = ridgeline.load_model("models:/down/1", tracking_uri=url)
        np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
