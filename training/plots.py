"""Model card plots: calibration curve, cumulative gain chart, LTV deciles (PNG)."""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def calibration_curve(y: np.ndarray, model: np.ndarray, rules: np.ndarray, path: pathlib.Path, name: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 5))
    edges = np.linspace(0, 1, 11)
    for label, p in (("LightGBM (calibrated)", model), ("rules", rules)):
        index = np.clip(np.digitize(p, edges[1:-1]), 0, 9)
        points = [(p[index == b].mean(), y[index == b].mean()) for b in range(10) if (index == b).sum() >= 20]
        if points:
            ax.plot(*zip(*points), marker="o", label=label)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    ax.set(xlabel="predicted churn probability", ylabel="observed churn rate", title=f"Calibration, holdout ({name})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gain_chart(y: np.ndarray, scores: dict[str, np.ndarray], path: pathlib.Path, name: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 5))
    share = np.arange(1, len(y) + 1) / len(y)
    for label, p in scores.items():
        order = np.argsort(-p, kind="stable")
        ax.plot(share, np.cumsum(y[order]) / y.sum(), label=label)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    ax.set(xlabel="share of customers contacted (highest risk first)", ylabel="share of churners reached",
           title=f"Cumulative gain, holdout ({name})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ltv_deciles(deciles: list[dict], path: pathlib.Path, name: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(1, len(deciles) + 1)
    ax.bar(x - 0.2, [d["mean_predicted"] for d in deciles], width=0.4, label="predicted")
    ax.bar(x + 0.2, [d["mean_actual"] for d in deciles], width=0.4, label="actual")
    ax.set(xlabel="decile of predicted LTV", ylabel="mean future spend", title=f"LTV by decile, holdout ({name})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
