"""scikit-learn: skops by default (loading builds objects from a declared list of types, no pickle), or
joblib's pickle with ``serialization="pickle"`` (loading then needs the pickle opt-in).

skops refuses types outside its default safe set unless told to trust them. The saver records exactly the types
its file needs beyond that set; the loader trusts those and only those, and refuses a file that asks for more.
"""

from __future__ import annotations

from pathlib import Path
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
        import skops.io

        path = folder / _SKOPS_FILE
        skops.io.dump(model, path)
        types = sorted(skops.io.get_untrusted_types(file=path))
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
        return Loaded(model, model.predict)


def _load_skops(path: Path, recorded: list[str]) -> Any:
    import skops.io

    needed = skops.io.get_untrusted_types(file=path)
    unexpected = sorted(set(needed) - set(recorded))
    if unexpected:
        raise InvalidArgument(
            f"the model file asks to build types its manifest did not record: {', '.join(unexpected)}; "
            "refusing to load it",
            field="files",
        )
    return skops.io.load(path, trusted=needed)


FLAVOR = SklearnFlavor()
