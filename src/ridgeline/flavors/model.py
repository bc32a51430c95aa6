"""What ``ridgeline.load_model`` returns: one ``predict`` for every flavor, inputs checked by the signature."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ridgeline.flavors.signature import Signature, prepare_input

if TYPE_CHECKING:
    from ridgeline.flavors.base import Loaded
    from ridgeline.flavors.manifest import Manifest


class LoadedModel:
    """A loaded model package.

    ``predict`` takes a pandas DataFrame, a numpy array or a list of dicts, checks it against the signature
    (:func:`ridgeline.flavors.signature.prepare_input`) and returns the model's output. ``model`` is the
    framework's own object; ``version`` and ``model_name`` are set when it was loaded from the registry.
    """

    def __init__(
        self,
        loaded: Loaded,
        manifest: Manifest,
        signature: Signature | None,
        *,
        path: Path,
        uri: str,
        model_name: str | None = None,
        version: int | None = None,
    ) -> None:
        self.model = loaded.model
        self._predict = loaded.predict
        self._predict_array = loaded.predict_array
        self.manifest = manifest
        self.signature = signature
        self.path = path
        self.uri = uri
        self.model_name = model_name
        self.version = version

    @property
    def flavor(self) -> str:
        return self.manifest.flavor

    def prepare(self, data: Any) -> Any:
        """``data`` checked against the signature and turned into what this model's scorer takes."""
        if self.signature is not None:
            return prepare_input(data, self.signature, as_array=self._predict_array is not None)
        # No signature (saved without an example): records become a DataFrame, anything else goes as it is.
        if isinstance(data, list) and data and all(isinstance(row, Mapping) for row in data):
            import pandas as pd

            return pd.DataFrame(data)
        return data

    def predict(self, data: Any) -> Any:
        return self.predict_prepared(self.prepare(data))

    def predict_prepared(self, model_input: Any) -> Any:
        """Score an input :meth:`prepare` made (the model server checks before it queues)."""
        if self._predict_array is not None and isinstance(model_input, np.ndarray):
            return self._predict_array(model_input)
        return self._predict(model_input)

    def __repr__(self) -> str:
        where = f"{self.model_name} v{self.version}" if self.version is not None else self.uri
        return f"<LoadedModel {self.flavor} {where}>"
