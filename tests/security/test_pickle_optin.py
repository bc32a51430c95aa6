"""No unpickling whose opt-in comes from the data itself (issue 8): every way a model package can make its loader
unpickle (scikit-learn's joblib file, the python flavor's pickle, a torch.export archive's pickled weights and
sample inputs) is refused unless the *caller* opts in (``allow_pickle=True`` or ``RIDGELINE_ALLOW_PICKLE``),
whatever the package's manifest claims about itself. Each package here carries a pickle that, if unpickled,
writes a file: the file must not appear, and it does appear once the caller opts in, so the test is not vacuous.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import ridgeline
from ridgeline.flavors.base import PickleNotAllowed
from ridgeline.flavors.manifest import MANIFEST_NAME
from ridgeline.flavors.package import load_package, save_package


class Doubler:
    """A plain Python model (the python flavor saves it with pickle when asked)."""

    def __init__(self) -> None:
        self.factor = 2.0

    def predict(self, data: Any) -> Any:
        return np.asarray(data, dtype=float).sum(axis=1) * self.factor


class _Exploit:
    """Unpickled, it writes ``marker``: the proof that a loader ran the package's pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"import pathlib; pathlib.Path({str(self.marker)!r}).write_text('pickle ran')",))


def _exploit(marker: Path) -> bytes:
    return pickle.dumps(_Exploit(marker), protocol=2)


def _table() -> pd.DataFrame:
    return pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})


def _sklearn_pickle(folder: Path, marker: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    frame = _table()
    save_package(LogisticRegression().fit(frame, [0, 1, 0, 1]), folder, serialization="pickle")
    (folder / "model.joblib").write_bytes(_exploit(marker))


def _python_pickle(folder: Path, marker: Path) -> None:
    save_package(Doubler(), folder, serialization="pickle")
    (folder / "data" / "model.pkl").write_bytes(_exploit(marker))


def _torch_archive(folder: Path, marker: Path, tamper: Callable[[str, bytes], bytes]) -> None:
    """A genuine torch package whose model.pt2 members pass through ``tamper(name, bytes)``."""
    import torch

    save_package(torch.nn.Linear(2, 1), folder, input_example=np.zeros((2, 2), dtype=np.float32))
    archive = folder / "model.pt2"
    members = {}
    with zipfile.ZipFile(archive) as original:
        members = {name: tamper(name, original.read(name)) for name in original.namelist()}
    with zipfile.ZipFile(archive, "w") as rewritten:
        for name, data in members.items():
            rewritten.writestr(name, data)


def _torch_pickled_weight(folder: Path, marker: Path) -> None:
    """A weight marked ``use_pickle``: torch.export.load reads it with torch.load(weights_only=False)."""

    def tamper(name: str, data: bytes) -> bytes:
        if name.endswith("_weights_config.json"):
            config = json.loads(data)
            for entry in config["config"].values():
                entry["use_pickle"] = True
            return json.dumps(config).encode()
        return _exploit(marker) if "/data/weights/weight_" in name else data

    _torch_archive(folder, marker, tamper)


def _torch_sample_inputs(folder: Path, marker: Path) -> None:
    """Sample inputs weights_only cannot read: torch.export.load tries again with weights_only=False."""
    _torch_archive(folder, marker, lambda name, data: _exploit(marker) if "/data/sample_inputs/" in name else data)


PACKAGES: dict[str, Callable[[Path, Path], None]] = {
    "sklearn-joblib": _sklearn_pickle,
    "python-pickle": _python_pickle,
    "torch-pickled-weight": _torch_pickled_weight,
    "torch-sample-inputs": _torch_sample_inputs,
}

# What a package may say about itself to look trusted: none of it is the caller's opt-in.
CLAIMS: dict[str, dict[str, Any]] = {
    "as-saved": {},
    "allow-pickle-field": {"allow_pickle": True, "pickle_allowed": True, "trusted": True},
    "allow-pickle-option": {"flavor_options": {"allow_pickle": True, "trusted": True}},
}


def _reseal(folder: Path, claims: dict[str, Any]) -> None:
    """The manifest as the package's author would write it: every file's sha256 matches, plus ``claims``."""
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    for name, info in manifest["files"].items():
        content = (folder / name).read_bytes()
        info.update(sha256=hashlib.sha256(content).hexdigest(), size=len(content))
    for key, value in claims.items():
        manifest[key] = {**manifest.get(key, {}), **value} if isinstance(value, dict) else value
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


@pytest.mark.parametrize("claim", list(CLAIMS))
@pytest.mark.parametrize("kind", list(PACKAGES))
def test_a_package_cannot_opt_in_to_its_own_unpickling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, claim: str
) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "package"
    PACKAGES[kind](folder, marker)
    _reseal(folder, CLAIMS[claim])
    monkeypatch.delenv("RIDGELINE_ALLOW_PICKLE", raising=False)
    with pytest.raises(PickleNotAllowed) as refused:
        ridgeline.load_model(folder)
    assert refused.value.field == "allow_pickle"
    monkeypatch.setenv("RIDGELINE_ALLOW_PICKLE", "false")
    with pytest.raises(PickleNotAllowed):
        load_package(folder)
    assert not marker.exists(), "the package's pickle ran without the caller's opt-in"
    # The caller's opt-in, and only it, lets the pickle through (here: it runs, and the model is no model).
    with pytest.raises(Exception):  # noqa: B017 - whatever the flavor makes of the exploit's None
        load_package(folder, allow_pickle=True)
    assert marker.read_text() == "pickle ran"


def test_a_registered_package_is_refused_when_loaded_by_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Logged, registered, then loaded by its models:/ URI as ``ridgeline serve`` does: refused just the same."""
    marker = tmp_path / "pwned"
    folder = tmp_path / "package"
    _torch_pickled_weight(folder, marker)
    _reseal(folder, CLAIMS["allow-pickle-field"])
    monkeypatch.delenv("RIDGELINE_ALLOW_PICKLE", raising=False)
    home = str(tmp_path / "home")
    with ridgeline.start_run("pickles", tracking_uri=home, capture=False) as run:
        for path in sorted(folder.rglob("*")):
            run.log_artifact(path, f"model/{path.relative_to(folder).as_posix()}")
    with ridgeline.Client(tracking_uri=home) as client:
        client.create_model("pickled")
        client.create_model_version("pickled", f"runs:/{run.id}/model")
    with pytest.raises(PickleNotAllowed):
        ridgeline.load_model("models:/pickled/1", tracking_uri=home)
    assert not marker.exists()


def test_torch_packages_saved_here_load_without_any_opt_in(tmp_path: Path) -> None:
    """The check is no excuse to refuse what this flavor saves: its archives hold no pickle."""
    import torch

    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    example = np.arange(6, dtype=np.float32).reshape(2, 3)
    save_package(module, tmp_path / "package", input_example=example)
    loaded = load_package(tmp_path / "package")
    expected = module(torch.from_numpy(example)).detach().numpy()
    np.testing.assert_allclose(loaded.predict(example), expected, rtol=1e-6)


def test_a_torch_archive_with_compiled_code_is_refused_even_with_the_opt_in(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "package"

    def tamper(name: str, data: bytes) -> bytes:
        return data

    _torch_archive(folder, marker, tamper)
    with zipfile.ZipFile(folder / "model.pt2", "a") as archive:
        root = archive.namelist()[0].split("/")[0]
        archive.writestr(f"{root}/data/aotinductor/model/model.so", b"\x7fELF")
    _reseal(folder, {})
    from ridgeline.domain.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="AOTInductor"):
        load_package(folder, allow_pickle=True)
