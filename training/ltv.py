"""The LTV model: a hurdle model for net spend over a horizon of H days (default 365).

    P(no spend in the window)          logistic regression  (the "zero part")
    E[spend | spend > 0]               Gamma GLM, log link   (the "positive part")
    predicted_ltv = (1 - P(zero)) * E[spend | spend > 0]

Both parts are fitted on every label window the data close, pooled over horizons h (the
dataset's future_spend_<h>d columns) with log(h / H) as one more input. At h = H that input
is 0, so the exported model is the fitted one without it: a 12-month model where the data
hold 12-month windows, and where they do not (UCI has 12 months in all), a model whose
horizon term is extrapolated from the longest windows they hold.

How it is evaluated depends on the span (the design is recorded in the metadata):
- out_of_time: the holdout is the last cutoff with an H-day label; training uses only
  windows closed before it;
- customer_split: H-day labels exist but no room for a gap; 30% of customers (by a hash
  of the id) at the last cutoff with an H-day label are the holdout, the others train;
- extrapolated: no H-day window closes; the same split at the longest horizon that does.
Whenever H-day labels exist, the model is also refitted without them and scored at H on
the same holdout: how far the horizon extrapolation can be trusted on these data.
"""

from __future__ import annotations

import hashlib
import math
import re

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from scipy import stats
from scipy.special import hyp2f1
from sklearn.linear_model import GammaRegressor, LogisticRegression

from glm_artifact import GlmPreprocessing, pearson_dispersion
from refuse import refuse
from metrics import ltv_metrics

LTV_FEATURES = ["recency_days", "frequency_orders", "monetary_spend", "tenure_days", "avg_order_value",
                "inter_order_mean_days", "overdue_ratio", "spend_trend", "frequency_trend", "refund_rate",
                "avg_basket_size", "active_period_share", "lifetime_orders", "lifetime_spend", "orders_last_90d"]
LTV_LOG1P = ["frequency_orders", "monetary_spend", "avg_order_value", "lifetime_orders", "lifetime_spend",
             "avg_basket_size", "orders_last_90d", "tenure_days", "recency_days", "inter_order_mean_days"]
INTERVAL = 0.8
HOLDOUT_SHARE = 0.3
ALPHAS = (0.001, 0.01, 0.1, 1.0)


def horizons_of(df: pd.DataFrame) -> dict[int, str]:
    """The LTV label columns of a dataset, by horizon in days."""
    found = {int(m.group(1)): c for c in df.columns if (m := re.fullmatch(r"future_spend_(\d+)d", c))}
    if not found:
        refuse("the dataset has no future_spend_<days>d column")
    return dict(sorted(found.items()))


def in_share(ids: pd.Series, share: float, salt: str) -> np.ndarray:
    """A stable pseudo-random share of customers: the same ids fall in it on every run and machine."""
    def bucket(i: str) -> float:
        return int.from_bytes(hashlib.sha256(f"{salt}:{i}".encode()).digest()[:8], "big") / 2 ** 64
    return np.array([bucket(i) < share for i in ids])


def plan(df: pd.DataFrame, target: int) -> dict:
    columns = horizons_of(df)
    labelled = {h: sorted(df.loc[df[c].notna(), "cutoff"].unique()) for h, c in columns.items()}
    labelled = {h: cs for h, cs in labelled.items() if cs}
    if not labelled:
        refuse("no LTV label window closes before the data end: a shorter --ltv-days, or more history")
    if target in labelled:
        holdout = labelled[target][-1]
        before = [c for c in labelled[target] if c + pd.Timedelta(days=target).to_pytimedelta() <= holdout]
        if before:
            return {"design": "out_of_time", "horizon": target, "origin": holdout}
        return {"design": "customer_split", "horizon": target, "origin": holdout}
    below = max(h for h in labelled if h < target) if any(h < target for h in labelled) else min(labelled)
    return {"design": "extrapolated", "horizon": below, "origin": labelled[below][-1]}


def examples(df: pd.DataFrame, target: int, keep) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(features, log(h / target), spend, customer) for every closed window (row, h) where keep(h) holds."""
    xs, ts, ys, ids = [], [], [], []
    for h, column in horizons_of(df).items():
        part = df[df[column].notna().to_numpy() & keep(h)]
        xs.append(part[LTV_FEATURES].to_numpy(dtype=float))
        ts.append(np.full(len(part), math.log(h / target)))
        ys.append(part[column].to_numpy(dtype=float))
        ids.append(part["customer_id"].to_numpy())
    return np.concatenate(xs), np.concatenate(ts), np.concatenate(ys), np.concatenate(ids)


class Hurdle:
    def __init__(self, x: np.ndarray, t: np.ndarray, y: np.ndarray, alpha: float):
        self.prep = GlmPreprocessing.fit(x, LTV_FEATURES, LTV_LOG1P)
        z = np.column_stack([self.prep.transform(x), t])
        self.zero = LogisticRegression(C=1.0, max_iter=2000).fit(z, (y <= 0).astype(int))
        positive = y > 0
        self.glm = GammaRegressor(alpha=alpha, solver="newton-cholesky", max_iter=500).fit(z[positive], y[positive])
        self.phi = pearson_dispersion(y[positive], self.glm.predict(z[positive]), z.shape[1] + 1)
        self.alpha = alpha

    def parts(self, x: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        z = np.column_stack([self.prep.transform(x), np.full(len(x), t)])
        return self.zero.predict_proba(z)[:, 1], self.glm.predict(z)

    def predict(self, x: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p_zero, mu = self.parts(x, t)
        low, high = mixture_interval(mu, self.phi, p_zero)
        return (1 - p_zero) * mu, low, high


def fit_hurdle(x, t, y, ids: np.ndarray, target_t: float) -> Hurdle:
    """The Gamma penalty chosen by deviance on a fifth of the training customers at the target horizon."""
    inner = in_share(pd.Series(ids), 0.2, "ltv-alpha")
    best_alpha, best = ALPHAS[0], np.inf
    for alpha in ALPHAS:
        model = Hurdle(x[~inner], t[~inner], y[~inner], alpha)
        check = inner & (y > 0) & np.isclose(t, target_t)
        if not check.any():
            break
        _, mu = model.parts(x[check], target_t)
        deviance = float(np.mean(2 * (np.log(mu / y[check]) + y[check] / mu - 1)))
        if deviance < best:
            best_alpha, best = alpha, deviance
    return Hurdle(x, t, y, best_alpha)


def mixture_interval(mean: np.ndarray, phi: float, p_zero: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central INTERVAL of: 0 with probability p_zero, else Gamma(shape 1/phi, scale mean*phi)."""
    tail = (1 - INTERVAL) / 2

    def quantile(q: float) -> np.ndarray:
        inner = np.clip((q - p_zero) / np.maximum(1 - p_zero, 1e-12), 0, 1)
        value = stats.gamma.ppf(inner, 1 / phi, scale=mean * phi)
        return np.where(q <= p_zero, 0.0, value)

    return quantile(tail), quantile(1 - tail)


def fit_or_refuse(fit, name: str):
    """The baselines are part of the evaluation: data they cannot be fitted on are refused, not a crash."""
    try:
        return fit()
    except Exception as error:  # lifetimes raises ConvergenceError and ValueError alike
        refuse(f"the {name} baseline cannot be fitted on these data ({type(error).__name__}): "
               "too little repeat-purchase history (more customers or history)")


def bgnbd_expected_purchases(params, t: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + t]] under BG/NBD (Fader, Hardie & Lee 2005, eq. 10), with scipy's 2F1
    directly: lifetimes' log-space form returns NaN for one-time buyers when a < 1."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    z = t / (alpha + age + t)
    head = (a + b + x - 1) / (a - 1) * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    repeat = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0)
    return head / (1 + repeat)


def bgnbd_gg_spend(rows: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """Expected spend in the horizon from BG/NBD x Gamma-Gamma fitted on these rows at their cutoff."""
    f, r, t = rows["bgnbd_frequency"], rows["bgnbd_recency"], rows["bgnbd_age"]
    bgf = fit_or_refuse(lambda: BetaGeoFitter(penalizer_coef=0.01).fit(f, r, t), "BG/NBD")
    x, t_x, age = f.to_numpy(float), r.to_numpy(float), t.to_numpy(float)
    purchases = bgnbd_expected_purchases(bgf.params_, horizon_days, x, t_x, age)
    # When the fit puts a and b near 0 (no dropout seen, as on UCI) the closed form overflows:
    # there, P(alive) times the purchase rate of the alive, (r + x) / (alpha + T), over the horizon.
    broken = ~np.isfinite(purchases)
    alive = np.asarray(bgf.conditional_probability_alive(x, t_x, age), dtype=float)
    rate = (bgf.params_["r"] + x) / (bgf.params_["alpha"] + age)
    purchases = np.where(broken, alive * rate * horizon_days, purchases)
    repeat = rows[(f > 0) & (rows["gg_monetary"] > 0)]
    ggf = fit_or_refuse(lambda: GammaGammaFitter(penalizer_coef=0.01).fit(repeat["bgnbd_frequency"], repeat["gg_monetary"]),
                        "Gamma-Gamma")
    value = np.asarray(ggf.conditional_expected_average_profit(f, rows["gg_monetary"].where(f > 0, 0)), dtype=float)
    # For one-time buyers Gamma-Gamma gives the population mean p*v/(q-1), which is infinite (and the
    # formula negative) when the fitted q <= 1, as on CDNOW: those get the repeat buyers' mean.
    bad = ~np.isfinite(value) | (value <= 0)
    value[bad] = value[~bad & (f.to_numpy() > 0)].mean()
    return purchases * value, int((broken | bad).sum())


def train_ltv(df: pd.DataFrame, target: int) -> dict:
    design = plan(df, target)
    origin, h_eval = design["origin"], design["horizon"]
    column = horizons_of(df)[h_eval]
    at_origin = (df["cutoff"] == origin).to_numpy() & df[column].notna().to_numpy()
    if design["design"] == "out_of_time":
        ends = df["cutoff"].map(lambda c: c.toordinal()).to_numpy()
        def keep(h: int) -> np.ndarray:  # windows closed before the holdout cutoff
            return ends + h <= origin.toordinal()
        holdout = df[at_origin]
    else:
        test = in_share(df["customer_id"], HOLDOUT_SHARE, "ltv-holdout")
        def keep(h: int) -> np.ndarray:  # the other customers, every window
            return ~test
        holdout = df[at_origin & test]
    x, t, y, ids = examples(df, target, keep)
    if (y > 0).sum() < 20 or (y <= 0).sum() < 1 or len(holdout) < 20:
        refuse(f"too few LTV label windows to fit and check the LTV model ({int((y > 0).sum())} with spend, "
               f"{int((y <= 0).sum())} without, {len(holdout)} holdout rows): more customers or history")
    model = fit_hurdle(x, t, y, ids, 0.0)
    t_eval = math.log(h_eval / target)
    hx = holdout[LTV_FEATURES].to_numpy(dtype=float)
    actual = holdout[column].to_numpy(dtype=float)
    predicted, low, high = model.predict(hx, t_eval)
    p_zero, mu = model.parts(hx, t_eval)
    positive = actual > 0
    bg_spend, bg_substituted = bgnbd_gg_spend(holdout, h_eval)
    results = {
        "model": ltv_metrics(actual, predicted, low, high),
        "bgnbd_gg": ltv_metrics(actual, bg_spend, np.zeros_like(actual), np.full_like(actual, np.inf)),
        "positive_only_glm": ltv_metrics(actual[positive], mu[positive],
                                         *mixture_interval(mu[positive], model.phi, np.zeros(positive.sum()))),
        "zero_part": {"predicted_zero_share": float(p_zero.mean()), "actual_zero_share": float((~positive).mean())},
    }
    results["bgnbd_gg"]["rows_substituted"] = bg_substituted
    shorter = [h for h in horizons_of(df) if h < target]
    if design["design"] != "extrapolated" and shorter:
        sx, st, sy, sids = examples(df, target, lambda h: keep(h) & (h < target))
        short = fit_hurdle(sx, st, sy, sids, math.log(max(shorter) / target))
        results["extrapolated_from_shorter"] = {"horizons": shorter, **ltv_metrics(actual, *short.predict(hx, 0.0))}
    design = {**design, "origin": str(origin), "holdout_rows": int(len(holdout)), "target_horizon_days": target,
              "horizons_used": sorted({h for h in horizons_of(df) if (keep(h) & df[horizons_of(df)[h]].notna().to_numpy()).any()}),
              "training_windows": int(len(y))}
    return {"model": model, "design": design, "metrics": results}


def export_zero_part(model: Hurdle) -> dict:
    """The logistic zero part at h = H (the horizon input is 0 there, so its coefficient drops out)."""
    return {"coef": model.zero.coef_[0][:-1].tolist(), "intercept": float(model.zero.intercept_[0]),
            "horizon_coef": float(model.zero.coef_[0][-1])}
