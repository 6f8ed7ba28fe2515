"""Train, evaluate and export churnstream's churn (LightGBM) and LTV (Gamma GLM) models.

Input: a dataset built by `churnstream dataset` (point-in-time features from the
TypeScript feature code, labels from after each cutoff) and the feature spec fitted
with it. Splits are out of time: the last cutoff is the holdout; every row used to
train for it has its label window closed before the holdout cutoff; validation folds
are rolling origins with the same gap. Writes the artifacts in the layout the
TypeScript model registry loads, checks that TypeScript scores the holdout exactly as
LightGBM does, and records every metric (and the baselines') in metadata.json.

    training/.venv/bin/python training/train.py --dataset D.csv --spec S.json \
        --name uci --version v1 --out models [--report docs/model-card/uci]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta

import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn
from lifetimes import BetaGeoFitter
from scipy import stats
from sklearn.isotonic import IsotonicRegression

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from feature_names import ROOT, feature_names  # noqa: E402
from glm_artifact import export_glm  # noqa: E402
from refuse import refuse  # noqa: E402
from ltv import INTERVAL, LTV_FEATURES, export_zero_part, fit_or_refuse, train_ltv  # noqa: E402
from metrics import best_f1_threshold, churn_metrics, expected_calibration_error, reliability_table  # noqa: E402
import plots  # noqa: E402

SEED_PARAMS = {"num_leaves": 31, "learning_rate": 0.05, "max_depth": 6, "min_child_samples": 50}
GRID = [SEED_PARAMS, {**SEED_PARAMS, "num_leaves": 15}, {**SEED_PARAMS, "min_child_samples": 100},
        {**SEED_PARAMS, "num_leaves": 15, "feature_fraction": 0.7, "bagging_fraction": 0.8, "bagging_freq": 1}]
FIXED = {"objective": "binary", "verbose": -1, "deterministic": True, "num_threads": 2, "seed": 17}


def split_plan(cutoffs: list[date], horizon_days: int) -> dict:
    holdout = cutoffs[-1]
    gap = timedelta(days=horizon_days)
    final_train = [c for c in cutoffs if c + gap <= holdout]
    folds = []
    for val in final_train[-2:]:
        train = [c for c in cutoffs if c + gap <= val]
        if train:
            folds.append({"train": train, "val": val})
    if not folds:
        refuse("not enough cutoffs for an out-of-time validation fold with the label gap")
    return {"holdout": holdout, "final_train": final_train, "folds": folds}


def check_classes(df: pd.DataFrame, label: str, plan: dict) -> None:
    """Every part of the split needs churned and retained customers, else nothing can be learnt or measured."""
    parts = {"the holdout": [plan["holdout"]], "the final training cutoffs": plan["final_train"]}
    for k, fold in enumerate(plan["folds"]):
        parts[f"validation fold {k + 1}"] = [fold["val"]]
    for name, cutoffs in parts.items():
        values = set(df.loc[df["cutoff"].isin(cutoffs), label].unique())
        if len(values) < 2:
            refuse(f"{label} is {'/'.join(map(str, sorted(values))) or 'empty'} for every customer in {name}: "
                   "a churn model needs both churned and retained customers (more customers or history, "
                   "or another --churn-days)")


def fit_churn(df: pd.DataFrame, features: list[str], label: str, plan: dict) -> dict:
    def rows(cutoffs) -> pd.DataFrame:
        return df[df["cutoff"].isin(cutoffs)]

    results = []
    for params in GRID:
        aucs, iterations, val_predictions, val_labels = [], [], [], []
        for fold in plan["folds"]:
            train, val = rows(fold["train"]), rows([fold["val"]])
            booster = lgb.train(
                {**FIXED, **params},
                lgb.Dataset(train[features], train[label]),
                num_boost_round=1000,
                valid_sets=[lgb.Dataset(val[features], val[label])],
                callbacks=[lgb.early_stopping(50, verbose=False)],
            )
            predictions = booster.predict(val[features], num_iteration=booster.best_iteration)
            aucs.append(stats.mannwhitneyu(predictions[val[label] == 1], predictions[val[label] == 0]).statistic
                        / ((val[label] == 1).sum() * (val[label] == 0).sum()))
            iterations.append(booster.best_iteration)
            val_predictions.append(predictions)
            val_labels.append(val[label].to_numpy())
        results.append({"params": params, "val_auc": float(np.mean(aucs)), "iterations": int(np.mean(iterations)),
                        "val_parts": list(zip(val_predictions, val_labels))})
    best = max(results, key=lambda r: r["val_auc"])
    val_p = np.concatenate([p for p, _ in best["val_parts"]])
    val_y = np.concatenate([y for _, y in best["val_parts"]])
    ece = expected_calibration_error(val_y, val_p)
    calibration, selection = choose_calibration(best["val_parts"])
    calibrated = apply_calibration(calibration, val_p)
    threshold = best_f1_threshold(val_y, calibrated)
    final = rows(plan["final_train"])
    booster = lgb.train({**FIXED, **best["params"]}, lgb.Dataset(final[features], final[label]),
                        num_boost_round=max(best["iterations"], 10))
    return {"booster": booster, "params": {**FIXED, **best["params"]}, "iterations": max(best["iterations"], 10),
            "grid": [{"params": r["params"], "val_auc": r["val_auc"], "iterations": r["iterations"]} for r in results],
            "calibration": calibration, "calibration_selection": selection, "val_ece_before": ece,
            "threshold": threshold, "val_ece_after": expected_calibration_error(val_y, calibrated)}


CLIP = 1e-15


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, CLIP, 1 - CLIP)
    return np.log(p / (1 - p))


def fit_calibration(method: str, p: np.ndarray, y: np.ndarray) -> dict:
    """A monotone map that keeps the ranking: Platt (logistic on the logit), or isotonic regression
    interpolated between the centres of its blocks (anchored at (0, 0) and (1, 1)), so that scores
    in one block are not collapsed into one value (the TypeScript runtime interpolates the same way)."""
    if method == "none":
        return {"method": "none"}
    if method == "platt":
        from sklearn.linear_model import LogisticRegression
        model = LogisticRegression(C=1e6, max_iter=1000).fit(logit(p).reshape(-1, 1), y)
        return {"method": "platt", "a": float(model.coef_[0][0]), "b": float(model.intercept_[0])}
    order = np.argsort(p, kind="stable")
    ps = p[order]
    levels = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y).predict(ps)
    starts = np.flatnonzero(np.r_[True, np.diff(levels) != 0])
    ends = np.r_[starts[1:], len(levels)]
    x = [float(ps[a:b].mean()) for a, b in zip(starts, ends)]
    v = [float(levels[a]) for a in starts]
    # A block at level 0 (or 1) would make a flat stretch with the anchor: drop it, so the map rises
    # from the anchor to the next block instead of tying every score below it at probability 0.
    if len(v) > 1 and v[0] <= 0:
        x, v = x[1:], v[1:]
    if len(v) > 1 and v[-1] >= 1:
        x, v = x[:-1], v[:-1]
    if x[0] > 0:
        x, v = [0.0, *x], [0.0, *v]
    if x[-1] < 1:
        x, v = [*x, 1.0], [*v, 1.0]
    return {"method": "isotonic", "x": x, "y": v}


def choose_calibration(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[dict, dict]:
    """Each method is fitted on one validation fold and scored (Brier) on the other, both ways; the
    best is refitted on all validation rows. Ties go to the simpler method."""
    if len(parts) < 2:  # one fold: its two halves, split at random with a fixed seed
        p, y = parts[0]
        half = np.random.default_rng(17).permutation(len(p)) < len(p) // 2
        parts = [(p[half], y[half]), (p[~half], y[~half])]
    scores = {}
    for method in ("none", "platt", "isotonic"):
        held_p, held_y = [], []
        for k, (p, y) in enumerate(parts):
            rest_p = np.concatenate([q for j, (q, _) in enumerate(parts) if j != k])
            rest_y = np.concatenate([t for j, (_, t) in enumerate(parts) if j != k])
            held_p.append(apply_calibration(fit_calibration(method, rest_p, rest_y), p))
            held_y.append(y)
        hp, hy = np.concatenate(held_p), np.concatenate(held_y)
        scores[method] = {"brier": float(np.mean((hp - hy) ** 2)), "ece": expected_calibration_error(hy, hp)}
    chosen = min(scores, key=lambda m: scores[m]["brier"])
    all_p = np.concatenate([p for p, _ in parts])
    all_y = np.concatenate([y for _, y in parts])
    return fit_calibration(chosen, all_p, all_y), {"cross_fitted": scores, "chosen": chosen}


def apply_calibration(calibration: dict, p: np.ndarray) -> np.ndarray:
    if calibration["method"] == "none":
        return p
    if calibration["method"] == "platt":
        return 1 / (1 + np.exp(-(calibration["a"] * logit(p) + calibration["b"])))
    return np.interp(p, calibration["x"], calibration["y"])


def bgnbd_churn(holdout: pd.DataFrame, horizon_days: int) -> tuple[np.ndarray, int]:
    """P(no purchase in the horizon) from BG/NBD fitted at the cutoff."""
    f, r, t = holdout["bgnbd_frequency"], holdout["bgnbd_recency"], holdout["bgnbd_age"]
    bgf = fit_or_refuse(lambda: BetaGeoFitter(penalizer_coef=0.01).fit(f, r, t), "BG/NBD")
    alive = bgf.conditional_probability_alive(f, r, t)
    rr, alpha = bgf.params_["r"], bgf.params_["alpha"]
    none_if_alive = ((alpha + t) / (alpha + t + horizon_days)) ** (rr + f)
    p_churn = np.asarray((1 - alive) + alive * none_if_alive, dtype=float)
    # lifetimes' terms can fail (NaN) for very young one-time buyers when the fitted a, b are
    # near 0: those get the median of the other one-time buyers.
    failed = np.isnan(p_churn)
    p_churn = np.where(failed, np.nanmedian(p_churn[(f.to_numpy() == 0) & ~failed]), p_churn)
    return p_churn, int(failed.sum())


def reference_distributions(df: pd.DataFrame, features: list[str], scores: np.ndarray) -> dict:
    """Fixed decile bin edges of each feature and the score on the training rows, and their shares."""
    def describe(values: np.ndarray, fixed_edges: list[float] | None = None) -> dict:
        present = values[~np.isnan(values)]
        edges = fixed_edges or sorted(set(np.quantile(present, np.linspace(0.1, 0.9, 9)).tolist())) if len(present) else []
        counts = np.histogram(present, bins=[-np.inf, *edges, np.inf])[0] if len(present) else np.array([])
        return {"edges": edges, "shares": (counts / max(len(values), 1)).tolist(),
                "missing_share": float(np.isnan(values).mean())}

    return {
        "features": {name: describe(df[name].to_numpy(dtype=float)) for name in features},
        "score": describe(scores, [i / 10 for i in range(1, 10)]),
    }


def typescript_parity(model_path: pathlib.Path, frame: pd.DataFrame, features: list[str], expected_raw: np.ndarray) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        rows = pathlib.Path(tmp) / "rows.csv"
        frame[features].to_csv(rows, index=False, float_format="%.17g", na_rep="")
        out = subprocess.run(["node", "--import", "tsx", "src/app/cli/main.ts", "score", "--model", str(model_path),
                              "--input", str(rows), "--raw"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    ours = np.array([float(line) for line in out.split()])
    return {"rows": int(len(ours)), "raw_bit_exact": int((ours == expected_raw).sum()),
            "max_abs_diff": float(np.max(np.abs(ours - expected_raw)))}


def typescript_ltv_parity(ltv_dir: pathlib.Path, frame: pd.DataFrame, expected: tuple[np.ndarray, ...]) -> dict:
    """The TypeScript runtime's LTV (mean and interval) for the same rows, against the trainer's."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = pathlib.Path(tmp) / "rows.csv"
        frame[LTV_FEATURES].to_csv(rows, index=False, float_format="%.17g", na_rep="")
        out = subprocess.run(["node", "--import", "tsx", "src/app/cli/main.ts", "score", "--ltv-model", str(ltv_dir),
                              "--input", str(rows)], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    ours = np.array([[float(v) for v in line.split(",")] for line in out.split()])
    relative = [float(np.max(np.abs(ours[:, k] - e) / np.maximum(np.abs(e), 1e-9))) for k, e in enumerate(expected)]
    return {"rows": int(len(ours)), "max_relative_diff_mean": relative[0], "max_relative_diff_interval": max(relative[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--name", required=True, help="dataset name for reports, e.g. uci")
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", required=True, help="models root: writes <out>/churn/<version>, <out>/ltv/<version>")
    parser.add_argument("--report", help="folder for plots")
    parser.add_argument("--churn-days", type=int, default=90, help="churn label horizon (a churn_<days>d column)")
    parser.add_argument("--ltv-days", type=int, default=365, help="LTV horizon the model predicts (12 months)")
    args = parser.parse_args()

    features = feature_names()
    spec = json.loads(pathlib.Path(args.spec).read_text())
    df = pd.read_csv(args.dataset, dtype={"customer_id": str})
    df["cutoff"] = pd.to_datetime(df["cutoff"]).dt.date
    label = f"churn_{args.churn_days}d"
    if label not in df.columns:
        refuse(f"the dataset has no {label} column (built with another --churn-days?)")
    plan = split_plan(sorted(df["cutoff"].unique()), args.churn_days)
    holdout = df[df["cutoff"] == plan["holdout"]].reset_index(drop=True)
    check_classes(df, label, plan)
    print(f"[{args.name}] rows {len(df)}, holdout {plan['holdout']} ({len(holdout)} rows), "
          f"final training cutoffs {plan['final_train'][0]}..{plan['final_train'][-1]}", file=sys.stderr)

    churn = fit_churn(df, features, label, plan)
    booster = churn["booster"]
    raw = booster.predict(holdout[features], raw_score=True)
    p = apply_calibration(churn["calibration"], booster.predict(holdout[features]))
    y = holdout[label].to_numpy()
    bg_churn, bg_failed = bgnbd_churn(holdout, args.churn_days)
    rules_threshold = 0.5
    metrics = {
        "model": churn_metrics(y, p, churn["threshold"]),
        "rules": churn_metrics(y, holdout["rules_churn_probability"].to_numpy(), rules_threshold),
        "bgnbd": churn_metrics(y, bg_churn, best_f1_threshold(y, bg_churn)),
    }
    metrics["bgnbd"]["rows_imputed"] = bg_failed
    metrics["bgnbd"]["threshold_note"] = "F1-optimal on the holdout itself: flatters the baseline"
    metrics["model"]["reliability"] = reliability_table(y, p)

    ltv = train_ltv(df, args.ltv_days)
    hurdle = ltv["model"]

    out = pathlib.Path(args.out)
    churn_dir, ltv_dir = out / "churn" / args.version, out / "ltv" / args.version
    for folder in (churn_dir, ltv_dir):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    booster.save_model(str(churn_dir / "model.txt"))
    parity = typescript_parity(churn_dir / "model.txt", holdout, features, raw)
    train_rows = df[df["cutoff"].isin(plan["final_train"])]
    train_scores = apply_calibration(churn["calibration"], booster.predict(train_rows[features]))
    common = {"feature_spec_version": spec["version"]}
    (churn_dir / "config.json").write_text(json.dumps({
        "kind": "churn", "version": args.version, "model_file": "model.txt", "feature_names": features, **common,
        "threshold": churn["threshold"], "calibration": churn["calibration"], "prediction_window_days": args.churn_days,
    }, indent=2) + "\n")
    glm = export_glm(hurdle.glm, hurdle.prep, hurdle.phi, INTERVAL, args.version)
    glm["horizon_coef"] = glm["coef"].pop()  # the log(h / H) input is 0 at the model's horizon
    (ltv_dir / "model.json").write_text(json.dumps(glm, indent=2) + "\n")
    train_ltv_values = hurdle.predict(train_rows[LTV_FEATURES].to_numpy(dtype=float), 0.0)[0]
    (ltv_dir / "config.json").write_text(json.dumps({
        "kind": "ltv", "version": args.version, "model_file": "model.json", "feature_names": LTV_FEATURES, **common,
        "window_months": round(args.ltv_days / 30.4375), "window_days": args.ltv_days, "two_part": True,
        "zero_model": export_zero_part(hurdle),
        "segment_cutoffs": {"medium": float(np.quantile(train_ltv_values, 0.5)),
                            "high": float(np.quantile(train_ltv_values, 0.9))},
    }, indent=2) + "\n")
    for folder in (churn_dir, ltv_dir):
        shutil.copy(args.spec, folder / "feature-spec.json")
    data = {"dataset": args.name, "rows": int(len(df)), "cutoffs": [str(c) for c in sorted(df["cutoff"].unique())],
            "holdout_cutoff": str(plan["holdout"]), "final_training_cutoffs": [str(c) for c in plan["final_train"]],
            "validation_folds": [{"train_until": str(f["train"][-1]), "validation": str(f["val"])} for f in plan["folds"]],
            "label_horizon_days": args.churn_days}
    ltv_parity = typescript_ltv_parity(ltv_dir, holdout, hurdle.predict(holdout[LTV_FEATURES].to_numpy(dtype=float), 0.0))
    (churn_dir / "metadata.json").write_text(json.dumps({
        **data, "lightgbm_version": lgb.__version__, "params": churn["params"], "iterations": churn["iterations"],
        "grid": churn["grid"], "calibration_selection": churn["calibration_selection"],
        "validation_ece_before_calibration": churn["val_ece_before"],
        "validation_ece_after_calibration": churn["val_ece_after"], "threshold_objective": "max F1 on validation",
        "metrics": metrics, "typescript_parity": parity}, indent=2) + "\n")
    (ltv_dir / "metadata.json").write_text(json.dumps({
        "dataset": args.name, "rows": int(len(df)), "label_horizon_days": args.ltv_days, "evaluation": ltv["design"],
        "sklearn_version": sklearn.__version__, "alpha": hurdle.alpha, "dispersion": hurdle.phi,
        "horizon_coef": {"positive_part": glm["horizon_coef"], "zero_part": export_zero_part(hurdle)["horizon_coef"]},
        "zero_spend_handling": "hurdle: logistic P(no spend in the window) and a Gamma GLM of spend when positive; "
                               "predicted_ltv = (1 - P(no spend)) * GLM mean",
        "metrics": ltv["metrics"], "typescript_parity": ltv_parity}, indent=2) + "\n")
    (churn_dir / "reference.json").write_text(json.dumps(reference_distributions(train_rows, features, train_scores)) + "\n")
    (ltv_dir / "reference.json").write_text(json.dumps(reference_distributions(train_rows, LTV_FEATURES, train_ltv_values)) + "\n")

    if args.report:
        report = pathlib.Path(args.report)
        report.mkdir(parents=True, exist_ok=True)
        plots.calibration_curve(y, p, holdout["rules_churn_probability"].to_numpy(), report / "calibration.png", args.name)
        plots.gain_chart(y, {"LightGBM": p, "rules": holdout["rules_churn_probability"].to_numpy(), "BG/NBD": bg_churn},
                         report / "gain.png", args.name)
        plots.ltv_deciles(ltv["metrics"]["model"]["deciles"], report / "ltv_deciles.png", args.name)
    summary = {k: {m: round(v, 4) for m, v in metrics[k].items() if isinstance(v, float)} for k in metrics}
    print(json.dumps({"churn": summary, "ltv_design": ltv["design"],
                      "ltv": {k: {m: round(v, 3) for m, v in r.items() if isinstance(v, float)}
                              for k, r in ltv["metrics"].items()}, "parity": parity, "ltv_parity": ltv_parity}, indent=1))


if __name__ == "__main__":
    main()
