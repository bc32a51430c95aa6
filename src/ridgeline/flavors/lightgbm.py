"""LightGBM: the booster in LightGBM's native text format. A scikit-learn wrapper's classes are recorded in the
manifest, so a loaded ``LGBMClassifier`` still answers with class labels, as its ``predict`` did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.base import Loaded, Saved, refuse_serialization, requirement
from ridgeline.flavors.manifest import Manifest

_FILE = "model.txt"


class LightGBMFlavor:
    name = "lightgbm"

    def save(self, model: Any, folder: Path, *, serialization: str | None, example: Any) -> Saved:
        import lightgbm

        refuse_serialization(self.name, serialization, ("text",))
        if isinstance(model, lightgbm.LGBMModel):
            booster = model.booster_
            options: dict[str, Any] = {"model_class": type(model).__name__}
            if isinstance(model, lightgbm.LGBMClassifier):
                options["classes"] = np.asarray(model.classes_).tolist()
        elif isinstance(model, lightgbm.Booster):
            booster, options = model, {"model_class": "Booster"}
        else:
            raise InvalidArgument(f"cannot package a {type(model).__name__} as a LightGBM model", field="model")
        booster.save_model(str(folder / _FILE))
        return Saved(lightgbm.__version__, "text", [requirement("lightgbm"), requirement("numpy")], options)

    def load(self, folder: Path, manifest: Manifest, *, allow_pickle: bool) -> Loaded:
        import lightgbm

        booster = lightgbm.Booster(model_file=str(folder / _FILE))
        classes = manifest.flavor_options.get("classes")
        if classes is None:
            return Loaded(booster, booster.predict)
        labels = np.asarray(classes)

        def predict(data: Any) -> Any:
            # What LGBMClassifier.predict does with the probabilities: the likeliest class.
            scores = np.asarray(booster.predict(data))
            return labels[(scores > 0.5).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)]

        return Loaded(booster, predict)


FLAVOR = LightGBMFlavor()
