"""XGBoost: the model in XGBoost's own UBJSON format, read back by the same class (a Booster or one of the
scikit-learn wrappers such as ``XGBClassifier``), so ``predict`` answers exactly as the original did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import Loaded, Saved, refuse_serialization, requirement
from ridgeline.flavors.manifest import Manifest

_FILE = "model.ubj"


class XGBoostFlavor:
    name = "xgboost"

    def save(self, model: Any, folder: Path, *, serialization: str | None, example: Any) -> Saved:
        import xgboost

        refuse_serialization(self.name, serialization, ("ubj",))
        model.save_model(folder / _FILE)
        options = {"model_class": type(model).__name__}
        _model_class(options["model_class"])  # a subclass of ours would not load back
        return Saved(xgboost.__version__, "ubj", [requirement("xgboost"), requirement("numpy")], options)

    def load(self, folder: Path, manifest: Manifest, *, allow_pickle: bool) -> Loaded:
        import xgboost

        cls = _model_class(str(manifest.flavor_options.get("model_class", "Booster")))
        if cls is xgboost.Booster:
            booster = xgboost.Booster(model_file=str(folder / _FILE))

            def predict(data: Any) -> Any:
                return booster.predict(xgboost.DMatrix(data))

            return Loaded(booster, predict)
        model = cls()
        model.load_model(folder / _FILE)
        return Loaded(model, model.predict)


def _model_class(name: str) -> Any:
    """Only XGBoost's own model classes, looked up by name in ``xgboost``: the manifest picks nothing else."""
    import xgboost

    cls = getattr(xgboost, name, None)
    if not (isinstance(cls, type) and issubclass(cls, xgboost.Booster | xgboost.XGBModel)):
        raise InvalidArgument(f"{name!r} is not an XGBoost model class Ridgeline can package", field="model")
    return cls


FLAVOR = XGBoostFlavor()
