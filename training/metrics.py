"""Evaluation metrics for churn (classification) and LTV (regression) models."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |observed rate - mean prediction| over equal-width probability bins."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / len(y))


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    return [
        {"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int((index == b).sum()),
         "mean_predicted": float(p[index == b].mean()), "observed": float(y[index == b].mean())}
        for b in range(bins) if (index == b).any()
    ]


def lift_at(y: np.ndarray, p: np.ndarray, share: float = 0.1) -> float:
    n = max(int(round(len(y) * share)), 1)
    top = np.argsort(-p, kind="stable")[:n]
    return float(y[top].mean() / y.mean())


def churn_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    predicted = p >= threshold
    tp = float((predicted & (y == 1)).sum())
    return {
        "n": int(len(y)),
        "base_rate": float(y.mean()),
        "auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "threshold": float(threshold),
        "precision": tp / max(float(predicted.sum()), 1.0),
        "recall": tp / max(float((y == 1).sum()), 1.0),
        "lift_top10": lift_at(y, p, 0.1),
        "observed_rate_top10": float(y[np.argsort(-p, kind="stable")[:max(int(round(len(y) * 0.1)), 1)]].mean()),
        "brier": float(np.mean((p - y) ** 2)),
        "ece": expected_calibration_error(y, p),
        "predicted_rate": float(p.mean()),
        "distinct_scores": int(len(np.unique(p))),
        "tier_shares": tier_shares(p),
    }


# Lower bounds of medium, high and critical: src/core/decisions/risk.ts (RISK_CUTOFFS).
RISK_CUTOFFS = {"medium": 0.3, "high": 0.6, "critical": 0.9}


def tier_shares(p: np.ndarray) -> dict:
    """Share of rows per risk tier, as the stream would assign them from these probabilities."""
    bounds = [0.0, RISK_CUTOFFS["medium"], RISK_CUTOFFS["high"], RISK_CUTOFFS["critical"], np.inf]
    names = ["low", "medium", "high", "critical"]
    return {name: float(((p >= lo) & (p < hi)).mean()) for name, lo, hi in zip(names, bounds, bounds[1:])}


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Threshold maximising F1 on (validation) predictions; ties go to the higher threshold."""
    best, best_f1 = 0.5, -1.0
    for t in np.unique(np.round(p, 4)):
        predicted = p >= t
        tp = (predicted & (y == 1)).sum()
        if predicted.sum() == 0:
            continue
        precision, recall = tp / predicted.sum(), tp / max((y == 1).sum(), 1)
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        if f1 >= best_f1:
            best, best_f1 = float(t), float(f1)
    return best


def normalized_gini(actual: np.ndarray, predicted: np.ndarray) -> float:
    def gini(a: np.ndarray, order_by: np.ndarray) -> float:
        order = np.argsort(-order_by, kind="stable")
        cumulative = np.cumsum(a[order]) / a.sum()
        n = len(a)
        return float(cumulative.sum() / n - (n + 1) / (2 * n))

    return gini(actual, predicted) / gini(actual, actual)


def ltv_metrics(actual: np.ndarray, predicted: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict:
    residual = actual - predicted
    order = np.argsort(predicted, kind="stable")
    deciles = np.array_split(order, 10)
    decile_rows = [{"decile": i + 1, "mean_predicted": float(predicted[d].mean()), "mean_actual": float(actual[d].mean())}
                   for i, d in enumerate(deciles)]
    mape = np.mean([abs(r["mean_predicted"] - r["mean_actual"]) / r["mean_actual"] for r in decile_rows if r["mean_actual"] > 0])
    return {
        "n": int(len(actual)),
        "mean_actual": float(actual.mean()),
        "mean_predicted": float(predicted.mean()),
        "mae": float(np.abs(residual).mean()),
        "rmse": float(np.sqrt((residual ** 2).mean())),
        "r2": float(1 - (residual ** 2).sum() / ((actual - actual.mean()) ** 2).sum()),
        "normalized_gini": normalized_gini(actual, predicted),
        "decile_mape": float(mape),
        "interval_coverage": float(((actual >= low) & (actual <= high)).mean()),
        "deciles": decile_rows,
    }
