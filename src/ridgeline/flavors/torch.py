"""PyTorch: the module exported with ``torch.export`` (a graph and its weights, loaded without the model's Python
class) with a dynamic batch size, plus its ``state_dict`` for whoever wants to rebuild the module in code.

Exporting traces the module in eval mode, so an ``input_example`` is required; a module on a GPU is exported from
a CPU copy, so the package loads anywhere. ``predict`` feeds one tensor of the module's parameter dtype (on the
CPU) and returns the (first) output as a numpy array.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import Loaded, Saved, refuse_serialization, requirement
from ridgeline.flavors.manifest import Manifest

_PROGRAM = "model.pt2"
_STATE = "state_dict.pt"


class TorchFlavor:
    name = "torch"

    def save(self, model: Any, folder: Path, *, serialization: str | None, example: Any) -> Saved:
        import torch

        refuse_serialization(self.name, serialization, ("torch.export",))
        if not isinstance(model, torch.nn.Module):
            raise InvalidArgument(
                f"the torch flavor takes a torch.nn.Module, not {type(model).__name__}", field="model"
            )
        if example is None:
            raise InvalidArgument(
                "a PyTorch model needs an input_example: torch.export traces it", field="input_example"
            )
        parameter = next(model.parameters(), None)
        dtype = parameter.dtype if parameter is not None and parameter.dtype.is_floating_point else torch.float32
        options = {"input_dtype": str(dtype).removeprefix("torch.")}
        if any(tensor.device.type != "cpu" for tensor in (*model.parameters(), *model.buffers())):
            # Packages are portable: a copy on the CPU is exported, the caller's module stays on its device.
            model = copy.deepcopy(model).cpu()
        training = model.training
        model.eval()  # the package scores as in inference (dropout off, batch-norm statistics frozen)
        try:
            program = torch.export.export(
                model, (_tensor(example, options),), dynamic_shapes=({0: torch.export.Dim.DYNAMIC},)
            )
        finally:
            model.train(training)
        torch.export.save(program, folder / _PROGRAM)
        torch.save(model.state_dict(), folder / _STATE)
        return Saved(torch.__version__, "torch.export", [requirement("torch"), requirement("numpy")], options)

    def load(self, folder: Path, manifest: Manifest, *, allow_pickle: bool) -> Loaded:
        import torch

        module = torch.export.load(folder / _PROGRAM).module()
        options = manifest.flavor_options

        def predict(data: Any) -> Any:
            with torch.no_grad():
                output = module(_tensor(data, options))
            if isinstance(output, tuple | list):
                output = output[0]
            return output.detach().cpu().numpy()

        return Loaded(module, predict)


def _tensor(data: Any, options: dict[str, Any]) -> Any:
    import torch

    array = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data)
    if array.dtype.kind == "f":
        array = array.astype(options["input_dtype"], copy=False)
    return torch.from_numpy(np.ascontiguousarray(array))


FLAVOR = TorchFlavor()
