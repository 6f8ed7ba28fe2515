"""Small artifacts in the real models/<kind>/<version>/ layout, for the model registry
and scoring tests: two churn versions and an LTV GLM over churnstream's own feature
names, plus a churn model whose features the spec does not provide (must be refused).

    training/.venv/bin/python training/golden/make_registry_fixtures.py
"""

from __future__ import annotations

import json
import pathlib
import sys

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import GammaRegressor

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from feature_names import feature_names  # noqa: E402
from glm_artifact import GlmPreprocessing, export_glm, pearson_dispersion  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "models"
PARAMS = {"objective": "binary", "verbose": -1, "deterministic": True, "num_threads": 1, "seed": 3, "num_leaves": 7}


def write(folder: pathlib.Path, config: dict, model_name: str, model_text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / model_name).write_text(model_text)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def main() -> None:
    names = feature_names()
    rng = np.random.default_rng(11)
    x = rng.random((2000, len(names)))
    recency = names.index("recency_days")
    x[:, recency] *= 200
    y = (rng.random(2000) < 1 / (1 + np.exp(-(x[:, recency] - 90) / 30))).astype(float)
    for version, rounds in (("t1", 10), ("t2", 20)):
        booster = lgb.train(PARAMS, lgb.Dataset(x, y, feature_name=names), rounds)
        config = {
            "kind": "churn",
            "version": version,
            "feature_names": names,
            "feature_spec_version": "default-1",
            "threshold": 0.5,
            "calibration": {"method": "platt", "a": 1.0, "b": 0.0} if version == "t2" else {"method": "none"},
        }
        write(OUT / "churn" / version, config, "model.txt", booster.model_to_string())

    foreign = [f"f{i}" for i in range(3)]
    booster = lgb.train(PARAMS, lgb.Dataset(x[:, :3], y, feature_name=foreign), 3)
    config = {"kind": "churn", "version": "bad-features", "feature_names": foreign,
              "feature_spec_version": "default-1", "threshold": 0.5}
    write(OUT / "churn" / "bad-features", config, "model.txt", booster.model_to_string())

    ltv_names = ["frequency_orders", "monetary_spend", "recency_days", "avg_order_value"]
    cols = [names.index(n) for n in ltv_names]
    spend = np.exp(1 + 2 * x[:, cols[1]] + 0.5 * x[:, cols[0]]) * rng.gamma(3.0, 1 / 3.0, 2000)
    prep = GlmPreprocessing.fit(x[:, cols], ltv_names, ["monetary_spend"])
    glm = GammaRegressor(alpha=0.01, solver="newton-cholesky").fit(prep.transform(x[:, cols]), spend)
    phi = pearson_dispersion(spend, glm.predict(prep.transform(x[:, cols])), len(cols) + 1)
    artifact = export_glm(glm, prep, phi, interval_level=0.8, version="t1")
    config = {"kind": "ltv", "version": "t1", "feature_names": ltv_names, "feature_spec_version": "default-1",
              "window_months": 12, "segment_cutoffs": {"medium": 10, "high": 30}, "two_part": True}
    write(OUT / "ltv" / "t1", config, "model.json", json.dumps(artifact, indent=2) + "\n")
    print("registry fixtures written")


if __name__ == "__main__":
    main()
