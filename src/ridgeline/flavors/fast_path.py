"""Whether a loaded model may be scored through its flavor's array path (``Loaded.predict_array``).

The array path skips the framework's per-call DataFrame checks, so it must be exactly equivalent for the model
at hand: the signature is a table of numbers only (one float array holds it without loss), and the package's
input example gives the same answers through both paths, with no warning raised on either. Otherwise the model
is scored as it always was.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.flavors.base import Loaded
from ridgeline.flavors.manifest import Manifest
from ridgeline.flavors.signature import Signature, TableSpec, prepare_input

_NUMERIC = frozenset({"integer", "long", "float", "double"})


def verified_array_path(
    loaded: Loaded, manifest: Manifest, signature: Signature | None, folder: Path
) -> Callable[[Any], Any] | None:
    """``loaded.predict_array`` if it is safe for this package, else None."""
    spec = None if signature is None else signature.inputs
    if loaded.predict_array is None or signature is None or manifest.input_example is None:
        return None
    if not isinstance(spec, TableSpec) or spec.format != "dataframe":
        return None
    if not spec.columns or any(column.type not in _NUMERIC for column in spec.columns):
        return None
    try:
        example = json.loads((folder / manifest.input_example).read_text())["dataframe_split"]
        import pandas as pd

        frame = pd.DataFrame(example["data"], columns=example["columns"])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            expected = np.asarray(loaded.predict(prepare_input(frame, signature)))
            answered = np.asarray(loaded.predict_array(prepare_input(frame, signature, as_array=True)))
    except Exception:
        return None
    same = expected.shape == answered.shape and expected.dtype == answered.dtype
    return loaded.predict_array if same and np.array_equal(expected, answered) else None
