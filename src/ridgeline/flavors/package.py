"""Saving a model as a package folder and loading one back (format: docs/model-format.md).

Saving loads the package straight back and runs it on the input example: a package that cannot be loaded, or
scores differently, fails at save time rather than in production, and the output half of the signature comes
from that run.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ridgeline import __version__
from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import detect_flavor, get_flavor
from ridgeline.flavors.fast_path import verified_array_path
from ridgeline.flavors.manifest import (
    INPUT_EXAMPLE_NAME,
    Manifest,
    describe_files,
    read_manifest,
    verify_files,
)
from ridgeline.flavors.model import LoadedModel
from ridgeline.flavors.signature import Signature, TableSpec, infer_spec, prepare_input

# The example file is documentation and a ready-made request; the signature is inferred from the whole example.
_EXAMPLE_ROWS = 20


def save_package(
    model: Any,
    folder: Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: Signature | dict[str, Any] | None = None,
    serialization: str | None = None,
) -> Manifest:
    """Write ``model`` as a package into the empty (or new) ``folder``; returns its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise InvalidArgument(f"{folder} is not empty; a model package needs a folder of its own", field="path")
    try:
        return _save(model, folder, flavor, input_example, signature, serialization)
    except BaseException:
        # No half-written package is left behind to be mistaken for a whole one.
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _save(
    model: Any,
    folder: Path,
    flavor: str | None,
    input_example: Any,
    signature: Signature | dict[str, Any] | None,
    serialization: str | None,
) -> Manifest:
    impl = get_flavor(flavor or detect_flavor(model))
    chosen = signature if isinstance(signature, Signature | None) else Signature.from_json(signature)
    prepared = None
    if input_example is not None:
        if chosen is None:
            chosen = Signature(infer_spec(input_example, "input_example"))
        prepared = prepare_input(input_example, chosen)
    saved = impl.save(model, folder, serialization=serialization, example=prepared)
    if prepared is not None:
        _write_example(folder / INPUT_EXAMPLE_NAME, prepared, chosen)
    manifest = Manifest(
        flavor=impl.name,
        flavor_version=saved.flavor_version,
        serialization=saved.serialization,
        requirements=saved.requirements,
        files=describe_files(folder),
        flavor_options=saved.options,
        signature=None,
        input_example=INPUT_EXAMPLE_NAME if prepared is not None else None,
        ridgeline_version=__version__,
    )
    if prepared is not None and chosen is not None:
        # allow_pickle: these are the bytes just written from the caller's own object.
        output = impl.load(folder, manifest, allow_pickle=True).predict(prepared)
        if chosen.outputs is None:
            chosen = Signature(chosen.inputs, infer_spec(output, "output"))
    if chosen is not None:
        manifest = replace(manifest, signature=chosen.to_json())
    manifest.write(folder)
    return manifest


def load_package(
    folder: Path,
    *,
    allow_pickle: bool = False,
    uri: str | None = None,
    model_name: str | None = None,
    version: int | None = None,
) -> LoadedModel:
    """Load a package folder: its files are checked against the manifest's sha256 first."""
    manifest = read_manifest(folder)
    verify_files(folder, manifest)
    loaded = get_flavor(manifest.flavor).load(folder, manifest, allow_pickle=allow_pickle)
    signature = None if manifest.signature is None else Signature.from_json(manifest.signature)
    loaded = replace(loaded, predict_array=verified_array_path(loaded, manifest, signature, folder))
    return LoadedModel(
        loaded, manifest, signature, path=folder, uri=uri or str(folder), model_name=model_name, version=version
    )


def _write_example(path: Path, prepared: Any, signature: Signature | None) -> None:
    """The example's first rows, in the scoring protocol's shape: ``dataframe_split`` for a table (a request
    body as it is), ``inputs`` for a tensor."""
    if signature is not None and isinstance(signature.inputs, TableSpec):
        frame = (
            prepared if isinstance(prepared, pd.DataFrame) else pd.DataFrame(prepared, columns=signature.inputs.names)
        )
        body = json.loads(
            frame.head(_EXAMPLE_ROWS).to_json(orient="split", index=False, date_format="iso", double_precision=15)
        )
        path.write_text(json.dumps({"dataframe_split": body}) + "\n")
        return
    array: np.ndarray[Any, Any] = np.asarray(prepared)[:_EXAMPLE_ROWS]
    if array.dtype.kind == "f":
        # JSON has no NaN: missing values are null, as in the scoring protocol.
        array = array.astype(object)
        array[np.isnan(array.astype(float))] = None
    path.write_text(json.dumps({"inputs": array.tolist()}) + "\n")
