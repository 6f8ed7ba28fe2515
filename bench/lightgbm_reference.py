"""LightGBM's own single-row speed, for bench/model-runtime.ts to compare against.

Trains a binary model (400 trees, 31 leaves) on the golden-fixture synthetic data,
saves it with probe rows, and times LightGBM's fastest single-row path, the C API
LGBM_BoosterPredictForMatSingleRowFast (one thread, config parsed once), for the
normal prediction and for contributions (pred_contrib), plus Booster.predict on one
row for reference. Prints a JSON summary.

    training/.venv/bin/python bench/lightgbm_reference.py <out_dir>
"""

from __future__ import annotations

import ctypes
import json
import pathlib
import sys
import time

import lightgbm as lgb
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "training" / "golden"))
from make_lightgbm_fixtures import BASE, CATEGORICAL, FEATURES, signal, synthetic  # noqa: E402

PREDICT_NORMAL, PREDICT_CONTRIB = 0, 3
FLOAT64 = 1


def single_row_fast(booster: lgb.Booster, rows: np.ndarray, predict_type: int, width: int, repeats: int) -> float:
    lib = lgb.basic._LIB
    fast = ctypes.c_void_p()
    lgb.basic._safe_call(
        lib.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle,
            ctypes.c_int(predict_type),
            ctypes.c_int(0),
            ctypes.c_int(-1),
            ctypes.c_int(FLOAT64),
            ctypes.c_int32(rows.shape[1]),
            ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(fast),
        )
    )
    out = np.zeros(width, dtype=np.float64)
    out_len = ctypes.c_int64()
    out_ptr = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    pointers = [np.ascontiguousarray(row).ctypes.data_as(ctypes.c_void_p) for row in rows]
    predict = lib.LGBM_BoosterPredictForMatSingleRowFast
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for pointer in pointers:
            predict(fast, pointer, ctypes.byref(out_len), out_ptr)
        best = min(best, time.perf_counter() - start)
    lib.LGBM_FastConfigFree(fast)
    return best / len(rows) * 1e6


def main() -> None:
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(99)
    x = synthetic(20000, rng)
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-(signal(x) - 1.0)))).astype(float)
    params = {**BASE, "objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "min_data_in_leaf": 20}
    booster = lgb.train(params, lgb.Dataset(x, label=y, feature_name=FEATURES, categorical_feature=CATEGORICAL), 400)
    booster.save_model(str(out_dir / "model.txt"))
    booster = lgb.Booster(model_file=str(out_dir / "model.txt"))
    rows = synthetic(2000, rng)
    np.savetxt(out_dir / "rows.csv", rows, delimiter=",", header=",".join(FEATURES), comments="", fmt="%.17g")
    np.save(out_dir / "raw.npy", booster.predict(rows, raw_score=True))
    np.save(out_dir / "contrib.npy", np.ascontiguousarray(booster.predict(rows, pred_contrib=True), dtype=np.float64))
    width = len(FEATURES) + 1
    predict_us = single_row_fast(booster, rows, PREDICT_NORMAL, 1, 15)
    contrib_us = single_row_fast(booster, rows, PREDICT_CONTRIB, width, 5)
    start = time.perf_counter()
    for row in rows[:300]:
        booster.predict(row.reshape(1, -1), num_threads=1)
    python_us = (time.perf_counter() - start) / 300 * 1e6
    print(
        json.dumps(
            {
                "lightgbm_version": lgb.__version__,
                "trees": booster.num_trees(),
                "rows": int(rows.shape[0]),
                "single_row_fast_predict_us": predict_us,
                "single_row_fast_contrib_us": contrib_us,
                "python_predict_one_row_us": python_us,
            }
        )
    )


if __name__ == "__main__":
    main()
