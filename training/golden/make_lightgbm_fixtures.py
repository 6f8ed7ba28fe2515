"""Golden fixtures for the TypeScript LightGBM runtime, made by the real LightGBM.

For every model kind the runtime must support, trains a small model on synthetic
data built to hit the awkward paths (NaN, zeros, values around LightGBM's 1e-35 zero
threshold, infinities, categorical values that are negative, fractional or unseen,
rows exactly on split thresholds), then writes:

    test/fixtures/lightgbm/<case>/model.txt      the model as LightGBM saves it
    test/fixtures/lightgbm/<case>/rows.csv       header of feature names; empty = NaN
    test/fixtures/lightgbm/<case>/expected.json  raw scores, predictions, contributions

Numbers are written with repr(), which round-trips doubles exactly. Re-run with
    training/.venv/bin/python training/golden/make_lightgbm_fixtures.py
Deterministic: fixed seeds, deterministic=True, one thread.
"""

from __future__ import annotations

import json
import math
import pathlib
import re

import lightgbm as lgb
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "lightgbm"
KZ = float(np.float32(1e-35))  # LightGBM's kZeroThreshold as a double

BASE = {
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "seed": 7,
    "learning_rate": 0.1,
    "num_leaves": 15,
    "min_data_in_leaf": 10,
    "min_data_per_group": 5,
    "cat_smooth": 1.0,
    "max_cat_to_onehot": 4,
}

FEATURES = ["f_num_nan", "f_zero", "f_cat", "f_unif", "f_tiny", "f_wide"]
CATEGORICAL = [2]


def synthetic(n: int, rng: np.random.Generator) -> np.ndarray:
    x = np.empty((n, len(FEATURES)))
    x[:, 0] = rng.normal(size=n)
    x[rng.random(n) < 0.15, 0] = np.nan
    x[:, 1] = np.where(rng.random(n) < 0.6, 0.0, rng.exponential(2.0, size=n))
    x[:, 2] = rng.integers(0, 12, size=n).astype(float)
    x[:, 3] = rng.uniform(-1, 1, size=n)
    x[:, 4] = rng.choice([-2 * KZ, -KZ, 0.0, KZ, 2 * KZ, 1e-30, -1e-30], size=n)
    x[:, 5] = rng.normal(scale=1e6, size=n)
    return x


def signal(x: np.ndarray) -> np.ndarray:
    num = np.nan_to_num(x[:, 0], nan=0.8)
    cat = np.isin(x[:, 2], [1, 3, 7]).astype(float)
    return 0.9 * num + 0.6 * (x[:, 1] > 0) + 1.2 * cat + 0.7 * x[:, 3] + 0.5 * (x[:, 4] > 0) + 2e-7 * x[:, 5]


def split_values(model_text: str) -> list[tuple[int, float]]:
    """(feature index, threshold) of every numerical split, to build on-threshold rows."""
    found: list[tuple[int, float]] = []
    for block in model_text.split("Tree=")[1:]:
        fields = dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line)
        if "split_feature" not in fields:
            continue
        feats = [int(v) for v in fields["split_feature"].split()]
        thresholds = [float(v) for v in fields["threshold"].split()]
        kinds = [int(v) for v in fields["decision_type"].split()]
        found += [(f, t) for f, t, k in zip(feats, thresholds, kinds) if not k & 1]
    return found


def probe_rows(model_text: str, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rows = [base[i].copy() for i in range(min(len(base), 40))]
    # Special values in every column.
    specials = [np.nan, 0.0, -0.0, KZ, -KZ, 0.5 * KZ, -0.5 * KZ, 2 * KZ, np.inf, -np.inf, 1e300, -1e300]
    for col in range(len(FEATURES)):
        for value in specials:
            row = base[rng.integers(len(base))].copy()
            row[col] = value
            rows.append(row)
    # Categorical oddities: negative, fractional, unseen, huge.
    for value in [-1.0, -0.5, 0.7, 1.9, 3.999, 11.0, 12.0, 31.0, 32.0, 33.0, 1000.0, 2.0**31]:
        row = base[rng.integers(len(base))].copy()
        row[2] = value
        rows.append(row)
    # Exactly on thresholds, and one ulp either side.
    for feature, threshold in split_values(model_text)[:60]:
        if not math.isfinite(threshold):
            continue
        for value in (threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf)):
            row = base[rng.integers(len(base))].copy()
            row[feature] = value
            rows.append(row)
    return np.array(rows)


def fmt(value: float) -> str:
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))


def json_safe(value):
    """Non-finite numbers as the strings "inf", "-inf", "nan" (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def write_case(name: str, booster: lgb.Booster, rows: np.ndarray, contrib: bool = True) -> None:
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(folder / "model.txt"))
    # Score the model as loaded from the file: exactly what TypeScript will read.
    loaded = lgb.Booster(model_file=str(folder / "model.txt"))
    names = loaded.feature_name()
    with open(folder / "rows.csv", "w", encoding="utf-8") as handle:
        handle.write(",".join(names) + "\n")
        for row in rows:
            handle.write(",".join(fmt(v) for v in row) + "\n")
    expected = {
        "lightgbm_version": lgb.__version__,
        "num_rows": int(rows.shape[0]),
        "raw": np.asarray(loaded.predict(rows, raw_score=True, num_threads=1)).tolist(),
        "prediction": np.asarray(loaded.predict(rows, num_threads=1)).tolist(),
    }
    if contrib:
        expected["contrib"] = np.asarray(loaded.predict(rows, pred_contrib=True, num_threads=1)).tolist()
    with open(folder / "expected.json", "w", encoding="utf-8") as handle:
        json.dump(json_safe(expected), handle, allow_nan=False)
        handle.write("\n")
    print(f"{name}: {loaded.num_trees()} trees, {rows.shape[0]} rows")


def train(params: dict, x: np.ndarray, y: np.ndarray, rounds: int, **dataset_args) -> lgb.Booster:
    data = lgb.Dataset(x, label=y, feature_name=FEATURES, categorical_feature=CATEGORICAL, **dataset_args)
    return lgb.train({**BASE, **params}, data, num_boost_round=rounds)


def main() -> None:
    rng = np.random.default_rng(20261125)
    x = synthetic(3000, rng)
    s = signal(x)
    p = 1 / (1 + np.exp(-(s - 1.0)))
    y_binary = (rng.random(len(x)) < p).astype(float)
    y_reg = s + rng.normal(scale=0.3, size=len(x))
    y_pos = np.exp(0.4 * s) * rng.gamma(2.0, 0.5, size=len(x))
    y_count = rng.poisson(np.exp(0.3 * s))
    y_multi = np.digitize(s + rng.normal(scale=0.5, size=len(x)), [0.6, 1.6]).astype(float)
    y_prob = np.clip(p + rng.normal(scale=0.05, size=len(x)), 0, 1)

    def case(name: str, params: dict, y: np.ndarray, rounds: int = 30, contrib: bool = True, **kw) -> None:
        booster = train(params, x, y, rounds, **kw)
        write_case(name, booster, probe_rows(booster.model_to_string(), x, rng), contrib)

    case("binary", {"objective": "binary"}, y_binary, rounds=40)
    case("binary_sigmoid2", {"objective": "binary", "sigmoid": 2.0}, y_binary)
    case("regression", {"objective": "regression"}, y_reg)
    case("regression_sqrt", {"objective": "regression", "reg_sqrt": True}, np.abs(y_reg))
    case("regression_l1", {"objective": "regression_l1"}, y_reg)
    case("zero_as_missing", {"objective": "regression", "zero_as_missing": True}, y_reg)
    case("poisson", {"objective": "poisson"}, y_count)
    case("gamma", {"objective": "gamma"}, y_pos)
    case("tweedie", {"objective": "tweedie", "tweedie_variance_power": 1.3}, y_pos)
    case("multiclass", {"objective": "multiclass", "num_class": 3}, y_multi, rounds=15)
    case("multiclassova", {"objective": "multiclassova", "num_class": 3}, y_multi, rounds=15)
    case("cross_entropy", {"objective": "cross_entropy"}, y_prob)
    case("cross_entropy_lambda", {"objective": "cross_entropy_lambda"}, y_prob)
    case(
        "random_forest",
        {"objective": "binary", "boosting": "rf", "bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.8},
        y_binary,
        rounds=20,
    )
    case("linear_tree", {"objective": "regression", "linear_tree": True, "linear_lambda": 0.1}, y_reg, contrib=False)
    # Constant label: every tree is a single leaf (num_leaves=1, no split arrays).
    case("single_leaf", {"objective": "regression"}, np.full(len(x), 3.25), rounds=3)
    # A model with a custom objective has no objective= line: predictions are raw scores.
    def squared_error(preds: np.ndarray, data: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        return preds - data.get_label(), np.ones_like(preds)

    custom = train({"objective": squared_error}, x, y_reg, 10)
    write_case("no_objective", custom, probe_rows(custom.model_to_string(), x, rng))


if __name__ == "__main__":
    main()
