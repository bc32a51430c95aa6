"""Any Python object with ``predict``, packaged with its code.

The module that defines the model's class travels in the package (``code/``: the module file, or its top-level
package's ``.py`` files) unless an installed distribution provides it (then it is a requirement). The object is
rebuilt without pickle when it allows, chosen in this order (or named with ``serialization=``):

- ``hook``: the class has ``ridgeline_save(self, folder)`` and a classmethod ``ridgeline_load(cls, folder)``;
- ``state``: the class can be built with no arguments and the object's attributes are JSON values and numpy
  arrays (saved as ``state.json`` and ``arrays.npz``, set back on a fresh instance);
- ``pickle``: only when asked for at save, and loading then needs the pickle opt-in.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import pickle
import platform
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import (
    Loaded,
    Saved,
    check_pickle_allowed,
    distributions_of,
    refuse_serialization,
    requirement,
)
from ridgeline.flavors.manifest import Manifest

_CODE = "code"
_DATA = "data"
_METHODS = ("hook", "state", "pickle")


class PythonFlavor:
    name = "python"

    def save(self, model: Any, folder: Path, *, serialization: str | None, example: Any) -> Saved:
        refuse_serialization(self.name, serialization, _METHODS)
        cls = type(model)
        if cls.__module__ == "__main__":
            raise InvalidArgument(
                f"{cls.__name__} is defined in the script being run; define it in a module the script imports, so "
                "the package can carry its code",
                field="model",
            )
        method = serialization or _method_for(model)
        requirements = [requirement("numpy"), *_package_code(cls.__module__, folder / _CODE)]
        data = folder / _DATA
        data.mkdir()
        if method == "hook":
            model.ridgeline_save(data)
        elif method == "state":
            _save_state(model, data)
        else:
            with (data / "model.pkl").open("wb") as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        options = {"module": cls.__module__, "class": cls.__qualname__}
        return Saved(platform.python_version(), method, requirements, options)

    def load(self, folder: Path, manifest: Manifest, *, allow_pickle: bool) -> Loaded:
        if manifest.serialization not in _METHODS:
            raise InvalidArgument(f"unknown serialization {manifest.serialization!r}", field="serialization")
        if manifest.serialization == "pickle":
            check_pickle_allowed(allow_pickle, "this Python model")
        code = folder / _CODE
        if code.is_dir() and str(code) not in sys.path:
            sys.path.insert(0, str(code))
        cls: Any = importlib.import_module(str(manifest.flavor_options["module"]))
        for part in str(manifest.flavor_options["class"]).split("."):
            cls = getattr(cls, part)
        data = folder / _DATA
        if manifest.serialization == "hook":
            model = cls.ridgeline_load(data)
        elif manifest.serialization == "state":
            model = cls()
            model.__dict__.update(json.loads((data / "state.json").read_text()))
            with np.load(data / "arrays.npz", allow_pickle=False) as arrays:
                model.__dict__.update({key: arrays[key] for key in arrays.files})
        else:
            with (data / "model.pkl").open("rb") as handle:
                model = pickle.load(handle)
        return Loaded(model, model.predict)


def _method_for(model: Any) -> str:
    cls = type(model)
    if callable(getattr(cls, "ridgeline_save", None)) and callable(getattr(cls, "ridgeline_load", None)):
        return "hook"
    if _plain_state(model) is not None:
        return "state"
    raise InvalidArgument(
        f"cannot save a {cls.__name__} without pickle: give it ridgeline_save(self, folder) and a classmethod "
        "ridgeline_load(cls, folder), or a no-argument constructor and attributes that are JSON values or numpy "
        'arrays; or opt in with serialization="pickle" (loading then needs allow_pickle=True)',
        field="model",
    )


def _plain_state(model: Any) -> tuple[dict[str, Any], dict[str, np.ndarray[Any, Any]]] | None:
    """(JSON attributes, array attributes) when the class takes no constructor arguments and that is all it has."""
    try:
        required = [
            p
            for p in inspect.signature(type(model)).parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        state = vars(model)
    except (TypeError, ValueError):
        return None
    if required:
        return None
    arrays = {key: value for key, value in state.items() if isinstance(value, np.ndarray) and value.dtype.kind != "O"}
    rest = {key: value for key, value in state.items() if key not in arrays}
    try:
        json.dumps(rest, allow_nan=True)
    except (TypeError, ValueError):
        return None
    return rest, arrays


def _save_state(model: Any, data: Path) -> None:
    plain = _plain_state(model)
    if plain is None:
        raise InvalidArgument(
            f'serialization="state" needs a no-argument constructor and attributes that are JSON values or numpy '
            f"arrays; {type(model).__name__} has others",
            field="serialization",
        )
    (data / "state.json").write_text(json.dumps(plain[0]))
    arrays: dict[str, Any] = plain[1]  # Any: savez's own keyword (allow_pickle) types **kwargs as bool
    np.savez(data / "arrays.npz", **arrays)


def _package_code(module: str, code: Path) -> list[str]:
    """Copy the code that defines ``module`` into ``code``, or return the requirement that provides it."""
    top = module.split(".", 1)[0]
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return []
    origin = Path(spec.origin)
    installed = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib", "stdlib")}
    if any(parent in installed for parent in origin.resolve().parents):
        return distributions_of([top])
    code.mkdir()
    if spec.submodule_search_locations:
        source = origin.parent
        shutil.copytree(source, code / top, ignore=_not_python)
    else:
        shutil.copy2(origin, code / origin.name)
    return []


def _not_python(folder: str, names: list[str]) -> list[str]:
    """Only Python sources (and the folders holding them) travel with the package."""
    return [
        name for name in names if not (name.endswith(".py") or Path(folder, name).is_dir()) or name == "__pycache__"
    ]


FLAVOR = PythonFlavor()
