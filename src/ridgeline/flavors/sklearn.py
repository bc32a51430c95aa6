"""scikit-learn: skops by default (loading builds objects from a declared list of types, no pickle), or
joblib's pickle with ``serialization="pickle"`` (loading then needs the pickle opt-in).

skops refuses types outside its default safe set unless told to trust them. The saver records exactly the types
its file needs beyond that set; the loader trusts those and only those, and refuses a file that asks for more.
"""

from __future__ import annotations

import copy
import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import Loaded, Saved, check_pickle_allowed, distributions_of, refuse_serialization
from ridgeline.flavors.manifest import Manifest

_SKOPS_FILE = "model.skops"
_PICKLE_FILE = "model.joblib"


class SklearnFlavor:
    name = "sklearn"

    def save(self, model: Any, folder: Path, *, serialization: str | None, example: Any) -> Saved:
        import sklearn

        refuse_serialization(self.name, serialization, ("skops", "pickle"))
        if serialization == "pickle":
            import joblib

            joblib.dump(model, folder / _PICKLE_FILE)
            return Saved(sklearn.__version__, "pickle", distributions_of(["sklearn", "joblib", "numpy"]))
        skops_io = _skops_io()
        path = folder / _SKOPS_FILE
        skops_io.dump(model, path)
        types = sorted(skops_io.get_untrusted_types(file=path))
        # The packages of the recorded types too: a third-party estimator inside a pipeline is needed to load it.
        requirements = distributions_of(["sklearn", "skops", "numpy", *types])
        return Saved(sklearn.__version__, "skops", requirements, {"trusted_types": types})

    def load(self, folder: Path, manifest: Manifest, *, allow_pickle: bool) -> Loaded:
        if manifest.serialization == "pickle":
            check_pickle_allowed(allow_pickle, "this scikit-learn model")
            import joblib

            model = joblib.load(folder / _PICKLE_FILE)
        else:
            model = _load_skops(folder / _SKOPS_FILE, manifest.flavor_options.get("trusted_types", []))
        return Loaded(model, model.predict, _array_predict(model))


def _array_predict(model: Any) -> Any:
    """``predict`` on a plain array for an estimator fitted on a DataFrame: a shallow copy without the fitted
    column names, which scikit-learn would otherwise warn about (the signature has checked names and order)."""
    if "feature_names_in_" not in vars(model):
        return None
    unnamed = copy.copy(model)
    del unnamed.feature_names_in_
    return unnamed.predict


def _load_skops(path: Path, recorded: list[str]) -> Any:
    skops_io = _skops_io()
    needed = skops_io.get_untrusted_types(file=path)
    unexpected = sorted(set(needed) - set(recorded))
    if unexpected:
        raise InvalidArgument(
            f"the model file asks to build types its manifest did not record: {', '.join(unexpected)}; "
            "refusing to load it",
            field="files",
        )
    return skops_io.load(path, trusted=needed)


# Importing skops.io lists scikit-learn's estimators, and the package walk behind that imports every subpackage,
# scikit-learn's array-API adapters for torch, CuPy and Dask included: where torch is installed, that is 1.3 s and
# about 700 MB on every model server start for a library the model never uses. The walk skips packages that fail
# to import, so the adapters are refused while skops.io loads; nothing is cached, a later import still works.
_ADAPTERS = ("sklearn.externals.array_api_compat.", ("torch", "cupy", "dask"))


class _RefuseArrayAdapters(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        prefix, libraries = _ADAPTERS
        if fullname.startswith(prefix) and fullname[len(prefix) :].split(".")[0] in libraries:
            raise ImportError(f"{fullname} is not needed to save or load a model with skops")
        return None


def _skops_io() -> ModuleType:
    if "skops.io" not in sys.modules:
        refuse = _RefuseArrayAdapters()
        sys.meta_path.insert(0, refuse)
        try:
            importlib.import_module("skops.io")
        finally:
            sys.meta_path.remove(refuse)
    return sys.modules["skops.io"]


FLAVOR = SklearnFlavor()
