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
from lifetimes import BetaGeoFitter, GammaGammaFitter
from scipy import stats
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import GammaRegressor

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from feature_names import ROOT, feature_names  # noqa: E402
from glm_artifact import GlmPreprocessing, export_glm, pearson_dispersion  # noqa: E402
from metrics import best_f1_threshold, churn_metrics, expected_calibration_error, ltv_metrics, reliability_table  # noqa: E402
import plots  # noqa: E402

SEED_PARAMS = {"num_leaves": 31, "learning_rate": 0.05, "max_depth": 6, "min_child_samples": 50}
GRID = [SEED_PARAMS, {**SEED_PARAMS, "num_leaves": 15}, {**SEED_PARAMS, "min_child_samples": 100},
        {**SEED_PARAMS, "num_leaves": 15, "feature_fraction": 0.7, "bagging_fraction": 0.8, "bagging_freq": 1}]
FIXED = {"objective": "binary", "verbose": -1, "deterministic": True, "num_threads": 2, "seed": 17}
LTV_FEATURES = ["recency_days", "frequency_orders", "monetary_spend", "tenure_days", "avg_order_value",
                "inter_order_mean_days", "overdue_ratio", "spend_trend", "frequency_trend", "refund_rate",
                "avg_basket_size", "active_period_share", "lifetime_orders", "lifetime_spend", "orders_last_90d"]
LTV_LOG1P = ["frequency_orders", "monetary_spend", "avg_order_value", "lifetime_orders", "lifetime_spend",
             "avg_basket_size", "orders_last_90d", "tenure_days", "recency_days", "inter_order_mean_days"]
INTERVAL = 0.8


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
        raise SystemExit("not enough cutoffs for an out-of-time validation fold with the label gap")
    return {"holdout": holdout, "final_train": final_train, "folds": folds}


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


def mixture_interval(mean: np.ndarray, phi: float, p_zero: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central INTERVAL of: 0 with probability p_zero, else Gamma(shape 1/phi, scale mean*phi)."""
    tail = (1 - INTERVAL) / 2

    def quantile(q: float) -> np.ndarray:
        inner = np.clip((q - p_zero) / np.maximum(1 - p_zero, 1e-12), 0, 1)
        value = stats.gamma.ppf(inner, 1 / phi, scale=mean * phi)
        return np.where(q <= p_zero, 0.0, value)

    return quantile(tail), quantile(1 - tail)


def fit_ltv(df: pd.DataFrame, spend: str, plan: dict) -> dict:
    train = df[df["cutoff"].isin(plan["final_train"]) & (df[spend] > 0)]
    val_cut = plan["folds"][-1]
    fold_train = df[df["cutoff"].isin(val_cut["train"]) & (df[spend] > 0)]
    fold_val = df[(df["cutoff"] == val_cut["val"]) & (df[spend] > 0)]
    best_alpha, best_dev = None, np.inf
    for alpha in (0.001, 0.01, 0.1, 1.0):
        prep = GlmPreprocessing.fit(fold_train[LTV_FEATURES].to_numpy(), LTV_FEATURES, LTV_LOG1P)
        model = GammaRegressor(alpha=alpha, solver="newton-cholesky", max_iter=500).fit(
            prep.transform(fold_train[LTV_FEATURES].to_numpy()), fold_train[spend])
        mu = model.predict(prep.transform(fold_val[LTV_FEATURES].to_numpy()))
        y = fold_val[spend].to_numpy()
        deviance = float(np.mean(2 * (np.log(mu / y) + y / mu - 1)))
        if deviance < best_dev:
            best_alpha, best_dev = alpha, deviance
    prep = GlmPreprocessing.fit(train[LTV_FEATURES].to_numpy(), LTV_FEATURES, LTV_LOG1P)
    z = prep.transform(train[LTV_FEATURES].to_numpy())
    model = GammaRegressor(alpha=best_alpha, solver="newton-cholesky", max_iter=500).fit(z, train[spend])
    phi = pearson_dispersion(train[spend].to_numpy(), model.predict(z), len(LTV_FEATURES) + 1)
    return {"model": model, "prep": prep, "phi": phi, "alpha": best_alpha, "val_deviance": best_dev}


def bgnbd_baseline(holdout: pd.DataFrame, horizon_days: int) -> tuple[np.ndarray, np.ndarray]:
    """P(no purchase in the horizon) and expected spend in it, from BG/NBD + Gamma-Gamma fitted at the cutoff."""
    f, r, t = holdout["bgnbd_frequency"], holdout["bgnbd_recency"], holdout["bgnbd_age"]
    bgf = BetaGeoFitter(penalizer_coef=0.01).fit(f, r, t)
    alive = bgf.conditional_probability_alive(f, r, t)
    rr, alpha = bgf.params_["r"], bgf.params_["alpha"]
    none_if_alive = ((alpha + t) / (alpha + t + horizon_days)) ** (rr + f)
    p_churn = (1 - alive) + alive * none_if_alive
    purchases = np.asarray(bgf.conditional_expected_number_of_purchases_up_to_time(horizon_days, f, r, t), dtype=float)
    # lifetimes' hypergeometric term can fail (NaN) for very young one-time buyers when the
    # fitted a, b are near 0: those get the median expectation of the other one-time buyers.
    failed = np.isnan(purchases) | np.isnan(np.asarray(p_churn, dtype=float))
    purchases[failed] = np.nanmedian(purchases[(f.to_numpy() == 0) & ~failed])
    p_churn = np.where(failed, np.nanmedian(np.asarray(p_churn)[(f.to_numpy() == 0) & ~failed]), p_churn)
    repeat = holdout[(f > 0) & (holdout["gg_monetary"] > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.01).fit(repeat["bgnbd_frequency"], repeat["gg_monetary"])
    value = np.asarray(ggf.conditional_expected_average_profit(f, holdout["gg_monetary"].where(f > 0, 0)), dtype=float)
    value[~np.isfinite(value)] = np.nanmean(value[np.isfinite(value)])
    return np.asarray(p_churn, dtype=float), purchases * value, int(failed.sum())


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--name", required=True, help="dataset name for reports, e.g. uci")
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", required=True, help="models root: writes <out>/churn/<version>, <out>/ltv/<version>")
    parser.add_argument("--report", help="folder for plots")
    parser.add_argument("--horizon-days", type=int, default=90)
    args = parser.parse_args()

    features = feature_names()
    spec = json.loads(pathlib.Path(args.spec).read_text())
    df = pd.read_csv(args.dataset, dtype={"customer_id": str})
    df["cutoff"] = pd.to_datetime(df["cutoff"]).dt.date
    label, spend = f"churn_{args.horizon_days}d", f"future_spend_{args.horizon_days}d"
    plan = split_plan(sorted(df["cutoff"].unique()), args.horizon_days)
    holdout = df[df["cutoff"] == plan["holdout"]].reset_index(drop=True)
    print(f"[{args.name}] rows {len(df)}, holdout {plan['holdout']} ({len(holdout)} rows), "
          f"final training cutoffs {plan['final_train'][0]}..{plan['final_train'][-1]}")

    churn = fit_churn(df, features, label, plan)
    booster = churn["booster"]
    raw = booster.predict(holdout[features], raw_score=True)
    p = apply_calibration(churn["calibration"], booster.predict(holdout[features]))
    y = holdout[label].to_numpy()
    bg_churn, bg_spend, bg_failed = bgnbd_baseline(holdout, args.horizon_days)
    rules_threshold = 0.5
    metrics = {
        "model": churn_metrics(y, p, churn["threshold"]),
        "rules": churn_metrics(y, holdout["rules_churn_probability"].to_numpy(), rules_threshold),
        "bgnbd": churn_metrics(y, bg_churn, best_f1_threshold(y, bg_churn)),
    }
    metrics["bgnbd"]["rows_imputed"] = bg_failed
    metrics["bgnbd"]["threshold_note"] = "F1-optimal on the holdout itself: flatters the baseline"
    metrics["model"]["reliability"] = reliability_table(y, p)

    ltv = fit_ltv(df, spend, plan)
    mu = ltv["model"].predict(ltv["prep"].transform(holdout[LTV_FEATURES].to_numpy()))
    ltv_pred = (1 - p) * mu
    low, high = mixture_interval(mu, ltv["phi"], p)
    actual = holdout[spend].to_numpy()
    ltv_results = {
        "model": ltv_metrics(actual, ltv_pred, low, high),
        "bgnbd_gg": ltv_metrics(actual, bg_spend, np.zeros_like(bg_spend), np.full_like(bg_spend, np.inf)),
        "positive_only_glm": ltv_metrics(actual[actual > 0], mu[actual > 0], *mixture_interval(mu[actual > 0], ltv["phi"], np.zeros((actual > 0).sum()))),
    }

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
        "threshold": churn["threshold"], "calibration": churn["calibration"], "prediction_window_days": args.horizon_days,
    }, indent=2) + "\n")
    (ltv_dir / "model.json").write_text(json.dumps(export_glm(ltv["model"], ltv["prep"], ltv["phi"], INTERVAL, args.version), indent=2) + "\n")
    train_ltv = (1 - train_scores) * ltv["model"].predict(ltv["prep"].transform(train_rows[LTV_FEATURES].to_numpy()))
    (ltv_dir / "config.json").write_text(json.dumps({
        "kind": "ltv", "version": args.version, "model_file": "model.json", "feature_names": LTV_FEATURES, **common,
        "window_months": round(args.horizon_days / 30.4375), "two_part": True,
        "segment_cutoffs": {"medium": float(np.quantile(train_ltv, 0.5)), "high": float(np.quantile(train_ltv, 0.9))},
    }, indent=2) + "\n")
    for folder in (churn_dir, ltv_dir):
        shutil.copy(args.spec, folder / "feature-spec.json")
    data = {"dataset": args.name, "rows": int(len(df)), "cutoffs": [str(c) for c in sorted(df["cutoff"].unique())],
            "holdout_cutoff": str(plan["holdout"]), "final_training_cutoffs": [str(c) for c in plan["final_train"]],
            "validation_folds": [{"train_until": str(f["train"][-1]), "validation": str(f["val"])} for f in plan["folds"]],
            "label_horizon_days": args.horizon_days}
    (churn_dir / "metadata.json").write_text(json.dumps({
        **data, "lightgbm_version": lgb.__version__, "params": churn["params"], "iterations": churn["iterations"],
        "grid": churn["grid"], "calibration_selection": churn["calibration_selection"],
        "validation_ece_before_calibration": churn["val_ece_before"],
        "validation_ece_after_calibration": churn["val_ece_after"], "threshold_objective": "max F1 on validation",
        "metrics": metrics, "typescript_parity": parity}, indent=2) + "\n")
    (ltv_dir / "metadata.json").write_text(json.dumps({
        **data, "sklearn_version": sklearn.__version__, "alpha": ltv["alpha"], "dispersion": ltv["phi"],
        "zero_spend_handling": "two-part: GLM fitted on customers with positive future spend; "
                               "predicted_ltv = (1 - churn probability) * GLM mean",
        "metrics": ltv_results}, indent=2) + "\n")
    (churn_dir / "reference.json").write_text(json.dumps(reference_distributions(train_rows, features, train_scores)) + "\n")
    (ltv_dir / "reference.json").write_text(json.dumps(reference_distributions(train_rows, LTV_FEATURES, train_ltv)) + "\n")

    if args.report:
        report = pathlib.Path(args.report)
        report.mkdir(parents=True, exist_ok=True)
        plots.calibration_curve(y, p, holdout["rules_churn_probability"].to_numpy(), report / "calibration.png", args.name)
        plots.gain_chart(y, {"LightGBM": p, "rules": holdout["rules_churn_probability"].to_numpy(), "BG/NBD": bg_churn},
                         report / "gain.png", args.name)
        plots.ltv_deciles(ltv_results["model"]["deciles"], report / "ltv_deciles.png", args.name)
    summary = {k: {m: round(v, 4) for m, v in metrics[k].items() if isinstance(v, float)} for k in metrics}
    print(json.dumps({"churn": summary, "ltv": {k: {m: round(v, 3) for m, v in r.items() if isinstance(v, float)}
                                                for k, r in ltv_results.items()}, "parity": parity}, indent=1))


if __name__ == "__main__":
    main()
