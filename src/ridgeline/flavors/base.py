"""The flavor interface: one small plug-in per framework, found by name and imported only when used.

A flavor writes a model's files into a package folder (``save`` → :class:`Saved`, what the manifest records)
and reads them back (``load`` → :class:`Loaded`, the model and the function that scores a prepared input).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ridgeline.domain.errors import InvalidArgument

if TYPE_CHECKING:
    from ridgeline.flavors.manifest import Manifest

# name → module holding ``FLAVOR``; the framework's top-level package names the flavor a model gets by default.
FLAVOR_MODULES = {
    "sklearn": "ridgeline.flavors.sklearn",
    "xgboost": "ridgeline.flavors.xgboost",
    "lightgbm": "ridgeline.flavors.lightgbm",
    "torch": "ridgeline.flavors.torch",
    "onnx": "ridgeline.flavors.onnx",
    "python": "ridgeline.flavors.python",
}
_FRAMEWORK_ROOTS = ("xgboost", "lightgbm", "torch", "onnx", "sklearn")


@dataclass(frozen=True)
class Saved:
    """What a flavor's save tells the manifest."""

    flavor_version: str
    serialization: str
    requirements: list[str]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Loaded:
    """A loaded model: the framework's object, and the function that scores an input ``prepare_input`` made.

    ``predict_array``, when a flavor offers it, scores the signature's columns in order as one 2-D float array: a
    cheaper path for frameworks that re-check a DataFrame on every call (scikit-learn spends about 0.3 ms on a
    one-row frame's names and dtypes). It is used only for all-numeric tables, and only when the package's input
    example scores the same through both paths (flavors/fast_path.py).
    """

    model: Any
    predict: Callable[[Any], Any]
    predict_array: Callable[[Any], Any] | None = None


class Flavor(Protocol):
    name: str

    def save(self, model: Any, folder: Path, *, serialization: str | None, example: Any) -> Saved:
        """Write the model's files into ``folder``; ``example`` is the prepared input example, or None."""
        ...

    def load(self, folder: Path, manifest: Manifest, *, allow_pickle: bool) -> Loaded: ...


class PickleNotAllowed(InvalidArgument):
    """Loading this package would unpickle, which runs whatever code the file holds."""


def get_flavor(name: str) -> Flavor:
    module = FLAVOR_MODULES.get(name)
    if module is None:
        known = ", ".join(FLAVOR_MODULES)
        raise InvalidArgument(f"unknown model flavor {name!r}; Ridgeline knows {known}", field="flavor")
    flavor: Flavor = importlib.import_module(module).FLAVOR
    return flavor


def detect_flavor(model: Any) -> str:
    """The flavor for ``model``: the first framework among its classes' packages, else ``python`` when it has
    ``predict``."""
    for cls in type(model).__mro__:
        root = cls.__module__.split(".", 1)[0]
        if root in _FRAMEWORK_ROOTS:
            return root
    if callable(getattr(model, "predict", None)):
        return "python"
    raise InvalidArgument(
        f"cannot package a {type(model).__name__}: it is no scikit-learn, XGBoost, LightGBM, PyTorch or ONNX model "
        "and has no predict method",
        field="model",
    )


def requirement(distribution: str) -> str:
    """``name==version`` of an installed distribution: the exact version the package was saved with."""
    return f"{distribution}=={importlib.metadata.version(distribution)}"


@functools.cache
def _module_owners() -> Mapping[str, list[str]]:
    """Top-level module → the distributions providing it. Scanning every installed distribution takes about half
    a second, so it is done once per process (packages installed meanwhile are not seen until a restart)."""
    return importlib.metadata.packages_distributions()


def distributions_of(modules: list[str]) -> list[str]:
    """Requirements for the installed distributions that provide these modules' top-level packages."""
    provided = _module_owners()
    names = {dist for module in modules for dist in provided.get(module.split(".", 1)[0], [])}
    return [requirement(name) for name in sorted(names)]


def check_pickle_allowed(allow_pickle: bool, what: str) -> None:
    """Refuse to unpickle unless the caller opted in (argument, or the ``allow_pickle`` setting)."""
    from ridgeline.config import Settings

    if allow_pickle or Settings.load().allow_pickle:
        return
    raise PickleNotAllowed(
        f"{what} is stored with pickle, and unpickling runs whatever code the file holds; load it only if you "
        "trust its source: pass allow_pickle=True (or set RIDGELINE_ALLOW_PICKLE=true)",
        field="allow_pickle",
    )


def refuse_serialization(flavor: str, serialization: str | None, allowed: tuple[str, ...]) -> None:
    if serialization is not None and serialization not in allowed:
        raise InvalidArgument(
            f"the {flavor} flavor saves with {' or '.join(allowed)}, not {serialization!r}", field="serialization"
        )
