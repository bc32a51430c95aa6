"""ONNX: the model file as it is, scored with onnxruntime (CPU). The model takes one input; a DataFrame or rows are
turned into one array of the input's element type, and ``predict`` returns the first output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import Loaded, Saved, refuse_serialization, requirement
from ridgeline.flavors.manifest import Manifest

_FILE = "model.onnx"
# onnxruntime's names for tensor element types.
_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


class OnnxFlavor:
    name = "onnx"

    def save(self, model: Any, folder: Path, *, serialization: str | None, example: Any) -> Saved:
        import onnx

        refuse_serialization(self.name, serialization, ("onnx",))
        if not isinstance(model, onnx.ModelProto):
            raise InvalidArgument(
                f"the ONNX flavor takes an onnx.ModelProto, not {type(model).__name__}", field="model"
            )
        onnx.checker.check_model(model)
        onnx.save_model(model, str(folder / _FILE))
        return Saved(onnx.__version__, "onnx", [requirement("onnxruntime"), requirement("numpy")])

    def load(self, folder: Path, manifest: Manifest, *, allow_pickle: bool) -> Loaded:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(folder / _FILE), providers=["CPUExecutionProvider"])
        inputs = session.get_inputs()
        if len(inputs) != 1:
            raise InvalidArgument(f"the ONNX flavor feeds models with one input; this one has {len(inputs)}")
        name, dtype = inputs[0].name, _DTYPES.get(inputs[0].type)
        if dtype is None:
            raise InvalidArgument(f"the model's input type {inputs[0].type} is not one Ridgeline can feed")

        def predict(data: Any) -> Any:
            array = data.to_numpy() if hasattr(data, "to_numpy") else data
            return session.run(None, {name: np.asarray(array, dtype=dtype)})[0]

        return Loaded(session, predict)


FLAVOR = OnnxFlavor()
