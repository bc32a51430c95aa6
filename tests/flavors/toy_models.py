"""Plain Python models for the ``python`` flavor's tests: one per way of rebuilding an object without pickle, and
one that only pickle can rebuild."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _features(data: Any) -> np.ndarray:
    return np.asarray(data.to_numpy() if isinstance(data, pd.DataFrame) else data, dtype=float)


class LinearScorer:
    """Rebuilt from its state: no constructor arguments, attributes that are JSON values and arrays."""

    def __init__(self) -> None:
        self.weights = np.zeros(0)
        self.bias = 0.0
        self.name = "linear"

    def fit(self, features: np.ndarray, target: np.ndarray) -> LinearScorer:
        design = np.column_stack([features, np.ones(len(features))])
        solution = np.linalg.lstsq(design, target, rcond=None)[0]
        self.weights, self.bias = solution[:-1], float(solution[-1])
        return self

    def predict(self, data: Any) -> np.ndarray:
        return _features(data) @ self.weights + self.bias


class ThresholdRule:
    """Saves and loads itself through the hooks."""

    def __init__(self, column: int, threshold: float) -> None:
        self.column = column
        self.threshold = threshold

    def predict(self, data: Any) -> np.ndarray:
        return (_features(data)[:, self.column] > self.threshold).astype(np.int64)

    def ridgeline_save(self, folder: Path) -> None:
        (folder / "rule.json").write_text(json.dumps({"column": self.column, "threshold": self.threshold}))

    @classmethod
    def ridgeline_load(cls, folder: Path) -> ThresholdRule:
        return cls(**json.loads((folder / "rule.json").read_text()))


class Wrapped:
    """Holds an arbitrary object: only pickle can rebuild it."""

    def __init__(self, offset: float) -> None:
        self.offset = {"value": complex(offset, 0)}

    def predict(self, data: Any) -> np.ndarray:
        return _features(data).sum(axis=1) + self.offset["value"].real
