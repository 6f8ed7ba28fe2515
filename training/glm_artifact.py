"""The Gamma GLM artifact churnstream's TypeScript runtime scores (src/core/models/glm/).

The artifact is plain JSON, so no pickle crosses from Python to TypeScript:

    {
      "kind": "gamma_glm", "link": "log", "version": "...",
      "feature_names": [...],
      "preprocessing": {
        "impute": [...],        # value used for a missing (NaN) input, per feature
        "log1p": [true, ...],   # apply log1p(max(x, 0)) after imputation
        "center": [...], "scale": [...]   # then (x - center) / scale
      },
      "coef": [...], "intercept": float,
      "dispersion": float,      # Pearson estimate of phi: Var(Y) = phi * mu^2
      "interval_level": 0.8,    # central prediction interval reported
      "sklearn": {"version": "...", "alpha": float, "solver": "..."}
    }

mean = exp(intercept + coef . z); Y ~ Gamma(shape = 1/phi, scale = mean * phi).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sklearn
from sklearn.linear_model import GammaRegressor


@dataclass(frozen=True)
class GlmPreprocessing:
    names: list[str]
    impute: np.ndarray
    log1p: np.ndarray
    center: np.ndarray
    scale: np.ndarray

    @staticmethod
    def fit(x: np.ndarray, names: list[str], log1p_columns: list[str]) -> "GlmPreprocessing":
        impute = np.nanmedian(x, axis=0)
        impute = np.where(np.isnan(impute), 0.0, impute)
        flags = np.array([name in log1p_columns for name in names])
        filled = np.where(np.isnan(x), impute, x)
        transformed = np.where(flags, np.log1p(np.maximum(filled, 0.0)), filled)
        center = transformed.mean(axis=0)
        scale = transformed.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        return GlmPreprocessing(names, impute, flags, center, scale)

    def transform(self, x: np.ndarray) -> np.ndarray:
        filled = np.where(np.isnan(x), self.impute, x)
        transformed = np.where(self.log1p, np.log1p(np.maximum(filled, 0.0)), filled)
        return (transformed - self.center) / self.scale


def pearson_dispersion(y: np.ndarray, mu: np.ndarray, n_params: int) -> float:
    return float(np.sum(((y - mu) / mu) ** 2) / max(len(y) - n_params, 1))


def export_glm(model: GammaRegressor, prep: GlmPreprocessing, dispersion: float, interval_level: float, version: str) -> dict:
    return {
        "kind": "gamma_glm",
        "link": "log",
        "version": version,
        "feature_names": list(prep.names),
        "preprocessing": {
            "impute": prep.impute.tolist(),
            "log1p": prep.log1p.tolist(),
            "center": prep.center.tolist(),
            "scale": prep.scale.tolist(),
        },
        "coef": model.coef_.tolist(),
        "intercept": float(model.intercept_),
        "dispersion": dispersion,
        "interval_level": interval_level,
        "sklearn": {"version": sklearn.__version__, "alpha": model.alpha, "solver": model.solver},
    }
