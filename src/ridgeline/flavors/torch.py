"""PyTorch: the module exported with ``torch.export`` (a graph and its weights, loaded without the model's Python
class) with a dynamic batch size, plus its ``state_dict`` for whoever wants to rebuild the module in code.

Exporting traces the module in eval mode, so an ``input_example`` is required; a module on a GPU is exported from
a CPU copy, so the package loads anywhere. ``predict`` feeds one tensor of the module's parameter dtype (on the
CPU) and returns the (first) output as a numpy array.

``torch.export.load`` unpickles some parts of an archive: weights and constants marked ``use_pickle``, custom and
opaque objects, legacy ``.pt`` weight files, and sample inputs that ``weights_only`` cannot read (it then tries
again without it); it also loads AOTInductor's compiled libraries. What the archive says about itself decides
which, so before loading, :func:`_unsafe_parts` reads the archive as data and finds them: a package with any needs
the caller's pickle opt-in (compiled code is refused outright). What this flavor saves has none.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import Loaded, Saved, check_pickle_allowed, refuse_serialization, requirement
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

        unsafe = _unsafe_parts(folder / _PROGRAM)
        if unsafe:
            check_pickle_allowed(allow_pickle, f"this PyTorch model ({', '.join(unsafe[:3])})")
        module = torch.export.load(folder / _PROGRAM).module()
        options = manifest.flavor_options

        def predict(data: Any) -> Any:
            with torch.no_grad():
                output = module(_tensor(data, options))
            if isinstance(output, tuple | list):
                output = output[0]
            return output.detach().cpu().numpy()

        return Loaded(module, predict)


def _unsafe_parts(path: Path) -> list[str]:
    """The members of a ``torch.export`` archive that loading would unpickle; InvalidArgument for one that
    loading would run as compiled code, or that is not an archive the check can vouch for."""
    import torch
    from torch.export.pt2_archive import constants as pt2

    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InvalidArgument(f"{path.name} is not a torch.export archive: {exc}", field="files") from None
    with archive:
        names = archive.namelist()
        # Members are read by name: a name twice (torch's reader and this one might pick different copies) or a
        # name that is not plain would let the archive show this check something else than torch loads.
        doubled = [name for name, count in Counter(names).items() if count > 1]
        odd = [name for name in names if name.startswith("/") or "\\" in name or ".." in name.split("/")]
        if doubled or odd:
            raise InvalidArgument(f"{path.name} has ambiguous members: {(doubled + odd)[0]!r}", field="files")
        # Inside the archive's root folder, as torch's reader names them.
        members = {name.partition("/")[2]: name for name in names}
        if pt2.ARCHIVE_FORMAT_PATH not in members:
            return [f"{path.name} (an older torch.export format, loaded with pickle)"]
        unsafe = []
        for inner, name in sorted(members.items()):
            if inner.startswith(pt2.AOTINDUCTOR_DIR):
                raise InvalidArgument(
                    f"{path.name} holds compiled AOTInductor code ({inner}); Ridgeline never loads it", field="files"
                )
            if inner.startswith((pt2.WEIGHTS_DIR, pt2.CONSTANTS_DIR)) and inner.endswith(".pt"):
                unsafe.append(inner)  # a legacy weights or constants file: one pickle
            elif inner.startswith((pt2.WEIGHTS_DIR, pt2.CONSTANTS_DIR)) and inner.endswith("_config.json"):
                tensors_only = inner.startswith(pt2.CONSTANTS_DIR)
                for key, entry in _payload_config(archive.read(name)).items():
                    kind = str(entry.get("path_name", ""))
                    if entry.get("use_pickle") is not False or (
                        tensors_only and not kind.startswith(pt2.TENSOR_CONSTANT_FILENAME_PREFIX)
                    ):
                        unsafe.append(f"{inner}: {key}")
            elif inner.startswith(pt2.SAMPLE_INPUTS_DIR):
                try:
                    torch.load(io.BytesIO(archive.read(name)), weights_only=True)
                except Exception:  # anything weights_only refuses, torch loads again with pickle
                    unsafe.append(inner)
        return unsafe


def _payload_config(data: bytes) -> dict[str, dict[str, Any]]:
    """The entries of a weights or constants config; anything but a mapping of objects counts as one unsafe entry
    (torch would make of it what it does, so nothing is assumed)."""
    try:
        config = json.loads(data).get("config")
    except (ValueError, AttributeError):
        config = None
    if not isinstance(config, dict) or not all(isinstance(entry, dict) for entry in config.values()):
        return {"(unreadable config)": {}}
    return config


def _tensor(data: Any, options: dict[str, Any]) -> Any:
    import torch

    array = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data)
    if array.dtype.kind == "f":
        array = array.astype(options["input_dtype"], copy=False)
    return torch.from_numpy(np.ascontiguousarray(array))


FLAVOR = TorchFlavor()
