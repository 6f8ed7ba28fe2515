"""Golden fixtures for the TypeScript Gamma GLM runtime, made by scikit-learn.

Fits sklearn's GammaRegressor (log link) on synthetic positive, right-skewed targets
after the preprocessing churnstream's GLM artifact describes (median imputation,
log1p on chosen columns, standardisation), exports the artifact JSON the TypeScript
runtime loads, and writes sklearn's predictions and scipy's Gamma interval bounds:

    test/fixtures/glm/model.json     the artifact (training/export_glm.py format)
    test/fixtures/glm/rows.csv       header of feature names; empty = NaN
    test/fixtures/glm/expected.json  mean (sklearn predict), lower/upper (scipy gamma.ppf)

    training/.venv/bin/python training/golden/make_glm_fixtures.py
"""

from __future__ import annotations

import json
import math
import pathlib
import sys

import numpy as np
from scipy import stats
from sklearn.linear_model import GammaRegressor

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from glm_artifact import GlmPreprocessing, export_glm, pearson_dispersion  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "glm"
FEATURES = ["frequency_orders", "monetary_spend", "recency_days", "spend_trend", "refund_rate"]
LOG1P = ["frequency_orders", "monetary_spend"]


def main() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    x = np.c_[
        rng.poisson(3, n) + 1.0,
        rng.lognormal(4, 1, n),
        rng.integers(0, 180, n).astype(float),
        rng.uniform(-1, 1, n),
        rng.beta(1, 12, n),
    ]
    x[rng.random(n) < 0.05, 3] = np.nan
    x[rng.random(n) < 0.03, 4] = np.nan
    eta = 2.0 + 0.5 * np.log1p(x[:, 0]) + 0.6 * np.log1p(x[:, 1]) - 0.004 * x[:, 2] + 0.3 * np.nan_to_num(x[:, 3])
    y = rng.gamma(shape=2.0, scale=np.exp(eta) / 2.0)

    prep = GlmPreprocessing.fit(x, FEATURES, LOG1P)
    z = prep.transform(x)
    model = GammaRegressor(alpha=0.01, solver="newton-cholesky", max_iter=300).fit(z, y)
    phi = pearson_dispersion(y, model.predict(z), n_params=z.shape[1] + 1)
    artifact = export_glm(model, prep, phi, interval_level=0.8, version="fixture")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "model.json").write_text(json.dumps(artifact, indent=2) + "\n")

    rows = x[:200].copy()
    rows[0] = [np.nan] * len(FEATURES)
    rows[1] = [0.0, 0.0, 0.0, -1.0, 0.0]
    rows[2] = [1e6, 1e7, 179.0, 1.0, 1.0]
    rows[3, 1] = -5.0  # negative value in a log1p column: clipped to 0
    mean = model.predict(prep.transform(rows))
    shape = 1.0 / phi
    lower = stats.gamma.ppf(0.1, shape, scale=mean * phi)
    upper = stats.gamma.ppf(0.9, shape, scale=mean * phi)
    with open(OUT / "rows.csv", "w", encoding="utf-8") as handle:
        handle.write(",".join(FEATURES) + "\n")
        for row in rows:
            handle.write(",".join("" if math.isnan(v) else repr(float(v)) for v in row) + "\n")
    expected = {"mean": mean.tolist(), "lower": lower.tolist(), "upper": upper.tolist()}
    (OUT / "expected.json").write_text(json.dumps(expected) + "\n")
    print(f"glm: dispersion {phi:.4f}, {len(rows)} rows")


if __name__ == "__main__":
    main()
