"""Writes docs/MODEL_CARD.md from the metadata.json files training/train.py produced.

    training/.venv/bin/python training/model_card.py --version v1 \
        --run uci=models --run cdnow=training/out/models > docs/MODEL_CARD.md
"""

from __future__ import annotations

import argparse
import json
import pathlib

TARGETS = "churn AUC 0.85+ (rules 0.60-0.65), precision 80% / recall 70% at the operating point; LTV R² 0.60-0.75"


def load(root: str, version: str) -> tuple[dict, dict, dict]:
    base = pathlib.Path(root)
    churn = json.loads((base / "churn" / version / "metadata.json").read_text())
    ltv = json.loads((base / "ltv" / version / "metadata.json").read_text())
    config = json.loads((base / "churn" / version / "config.json").read_text())
    return churn, ltv, config


def config_ltv_months(ltv: dict) -> int:
    return round(ltv["label_horizon_days"] / 30.4375)


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def churn_table(metrics: dict) -> str:
    rows = ["| model | AUC | PR-AUC | precision | recall | threshold | lift@10% | Brier | ECE | predicted / actual rate |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    names = {"model": "LightGBM (calibrated)", "rules": "rules_v1 fallback", "bgnbd": "BG/NBD P(no purchase)"}
    for key, label in names.items():
        m = metrics[key]
        rows.append(f"| {label} | {m['auc']:.3f} | {m['pr_auc']:.3f} | {pct(m['precision'])} | {pct(m['recall'])} | "
                    f"{m['threshold']:.3f} | {m['lift_top10']:.2f} | {m['brier']:.3f} | {m['ece']:.3f} | "
                    f"{pct(m['predicted_rate'])} / {pct(m['base_rate'])} |")
    return "\n".join(rows)


def reliability(rows: list[dict]) -> str:
    lines = ["| score bin | customers | mean predicted | observed churn |", "|---|---|---|---|"]
    lines += [f"| {r['bin']} | {r['n']} | {pct(r['mean_predicted'])} | {pct(r['observed'])} |" for r in rows]
    return "\n".join(lines)


def ltv_table(metrics: dict) -> str:
    rows = ["| model | MAE | RMSE | R² | normalized Gini | decile MAPE | 80% interval coverage | mean predicted / actual |",
            "|---|---|---|---|---|---|---|---|"]
    names = {"model": "hurdle: (1 − P(no spend)) × Gamma GLM", "bgnbd_gg": "BG/NBD × Gamma-Gamma",
             "extrapolated_from_shorter": "the same, fitted on shorter windows only (extrapolated to this horizon)",
             "positive_only_glm": "Gamma GLM, customers who spent (conditional part)"}
    for key, label in names.items():
        if key not in metrics:
            continue
        m = metrics[key]
        coverage = "n/a" if key == "bgnbd_gg" else pct(m["interval_coverage"])
        rows.append(f"| {label} | {m['mae']:.1f} | {m['rmse']:.1f} | {m['r2']:.3f} | {m['normalized_gini']:.3f} | "
                    f"{pct(m['decile_mape'])} | {coverage} | {m['mean_predicted']:.1f} / {m['mean_actual']:.1f} |")
    return "\n".join(rows)


DESIGNS = {
    "out_of_time": "out of time: the holdout is the last cutoff with a closed {target}-day window, trained only on windows "
                   "closed before it",
    "customer_split": "customer split at a single origin: the data do not leave room for a {target}-day gap before a "
                      "holdout, so 30% of the customers (by a hash of the id) at cutoff {origin} are held out and the "
                      "others train (their windows overlap the holdout's in calendar time)",
    "extrapolated": "customer split at a single origin, at {horizon} days: no {target}-day window closes in these data, "
                    "so the model's horizon term is extrapolated from windows of up to {horizon} days; the holdout is 30% "
                    "of the customers at cutoff {origin}, scored at {horizon} days",
}


def ltv_section(ltv: dict) -> str:
    e = ltv["evaluation"]
    design = DESIGNS[e["design"]].format(target=e["target_horizon_days"], origin=e["origin"], horizon=e["horizon"])
    shorter = ltv["metrics"].get("extrapolated_from_shorter")
    check = "" if shorter is None else (
        f"\nFitted on the {', '.join(map(str, shorter['horizons']))}-day windows alone and extrapolated to "
        f"{e['target_horizon_days']} days, the same model reaches R² {shorter['r2']:.3f} and Gini "
        f"{shorter['normalized_gini']:.3f} on this holdout (direct: {ltv['metrics']['model']['r2']:.3f} / "
        f"{ltv['metrics']['model']['normalized_gini']:.3f}): how far the horizon extrapolation can be trusted.\n")
    zero = ltv["metrics"]["zero_part"]
    parity = ltv["typescript_parity"]
    return f"""- Evaluation ({e['design']}): {design}. Holdout rows: {e['holdout_rows']}; training windows: {e['training_windows']}
  (horizons {', '.join(map(str, e['horizons_used']))} days pooled, log(h / {e['target_horizon_days']}) as an input).
- Zero part: predicted share without spend {pct(zero['predicted_zero_share'])}, actual {pct(zero['actual_zero_share'])}.
- TypeScript parity (the churn holdout's rows): mean within {parity['max_relative_diff_mean']:.0e}, interval within
  {parity['max_relative_diff_interval']:.0e} (relative).

{ltv_table(ltv['metrics'])}

BG/NBD × Gamma-Gamma: {ltv['metrics']['bgnbd_gg'].get('rows_substituted', 0)} holdout rows substituted (the closed form
overflows where the fit sees no dropout: P(alive) × the purchase rate of the alive instead; one-time buyers when
Gamma-Gamma's q ≤ 1 makes their expectation infinite: the repeat buyers' mean instead).
{check}
Gamma GLM: alpha {ltv['alpha']} (best deviance on a fifth of the training customers), dispersion φ = {ltv['dispersion']:.3f};
horizon exponents: spend of those who spend ∝ h^{ltv['horizon_coef']['positive_part']:.2f}. {ltv['zero_spend_handling']}.
"""


def section(name: str, title: str, churn: dict, ltv: dict, config: dict, images: str = "model-card/{name}/") -> str:
    images = images.format(name=name)
    m = churn["metrics"]
    parity = churn["typescript_parity"]
    folds = ", ".join(f"train ≤ {f['train_until']} → validate {f['validation']}" for f in churn["validation_folds"])
    return f"""
## {title}

- Rows: {churn['rows']} customer-cutoffs; cutoffs {churn['cutoffs'][0]} … {churn['cutoffs'][-1]} ({len(churn['cutoffs'])}).
- Holdout: cutoff {churn['holdout_cutoff']} (labels from the {churn['label_horizon_days']} days after it).
  Final training: cutoffs {churn['final_training_cutoffs'][0]} … {churn['final_training_cutoffs'][-1]} (every label
  window closed before the holdout cutoff). Validation folds: {folds}.
- LightGBM {churn['lightgbm_version']}: {churn['iterations']} trees, params {json.dumps({k: v for k, v in churn['params'].items() if k not in ('verbose', 'deterministic', 'num_threads', 'seed', 'objective')})}
  (best mean validation AUC of {len(churn['grid'])} settings, the seed's parameters first).
- Calibration: validation ECE {churn['validation_ece_before_calibration']:.3f} before; shipped calibration:
  `{config['calibration']['method']}`, chosen by cross-fitting on the validation folds (fitted on one, Brier on
  the other): {', '.join(f"{k} Brier {v['brier']:.4f} / ECE {v['ece']:.3f}" for k, v in churn['calibration_selection']['cross_fitted'].items())}.
  Monotone and ranking-keeping: {churn['metrics']['model']['distinct_scores']} distinct scores on {churn['metrics']['model']['n']} holdout rows;
  holdout share per tier: {', '.join(f"{k} {v:.1%}" for k, v in churn['metrics']['model']['tier_shares'].items())};
  the riskiest 10% of the holdout by score churned at {pct(churn['metrics']['model']['observed_rate_top10'])}, so
  {'no group the model singles out reaches' if churn['metrics']['model']['observed_rate_top10'] < 0.9 else 'its riskiest customers reach'} the 90% of `critical`.
  Out of time the calibration error is {churn['metrics']['model']['ece']:.3f} (reliability table in the metadata).
  Threshold {config['threshold']:.3f} ({churn['threshold_objective']}).
- TypeScript parity on the holdout: {parity['raw_bit_exact']} of {parity['rows']} raw scores bit-identical,
  max |difference| {parity['max_abs_diff']:.1e}.

### Churn (no purchase in the next {churn['label_horizon_days']} days), holdout

{churn_table(m)}

Reliability of the calibrated model on the holdout (out of time):

{reliability(m['model']['reliability'])}

The BG/NBD threshold is the F1-optimal one on the holdout itself, which flatters that baseline;
{m['bgnbd'].get('rows_imputed', 0)} holdout rows where `lifetimes` returned NaN got the median of the other one-time buyers.

![calibration]({images}calibration.png) ![gain]({images}gain.png)

### LTV (net spend in the next {ltv['label_horizon_days']} days: `predicted_ltv`, `prediction_window_months` {config_ltv_months(ltv)}), holdout

{ltv_section(ltv)}
![LTV deciles]({images}ltv_deciles.png)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True)
    parser.add_argument("--run", action="append", required=True, help="name=models_root")
    parser.add_argument("--single", action="store_true", help="one run's section alone, plots beside the card")
    args = parser.parse_args()
    runs = dict(item.split("=", 1) for item in args.run)
    if args.single:  # one run's card, next to its plots (churnstream train)
        (name, root), = runs.items()
        churn, ltv, config = load(root, args.version)
        title = args.version if name == args.version else f"{name} {args.version}"
        print(f"# Model card: {title}\n\nGenerated by `churnstream train` (training/model_card.py) from "
              f"the artifacts' metadata (`churn/{args.version}/metadata.json`, `ltv/{args.version}/metadata.json`). Risk levels "
              "and reason codes: docs/SCORING.md; what each figure means: docs/MODEL_CARD.md.\n"
              + section(name, title, churn, ltv, config, images=""))
        return
    titles = {"uci": "UCI Online Retail (shipped models)", "cdnow": "CDNOW (evaluation only)"}
    loaded = {name: load(root, args.version) for name, root in runs.items()}
    def figures(metric: str, form: str) -> str:
        return ", ".join(f"{form.format(run[0]['metrics']['model'][metric])} on {titles.get(name, name).split(' (')[0]}"
                         for name, run in loaded.items())

    uci = loaded.get("uci")
    verdict = ""
    if uci is not None:
        m = uci[0]["metrics"]["model"]
        verdict = (f"On UCI Online Retail the shipped churn model reaches AUC {m['auc']:.3f} out of time (rules "
                   f"{uci[0]['metrics']['rules']['auc']:.3f}, BG/NBD {uci[0]['metrics']['bgnbd']['auc']:.3f}); "
                   f"precision {pct(m['precision'])} at recall {pct(m['recall'])}.")
    print(f"""# Model card: churnstream churn and LTV models ({args.version})

Generated by `training/model_card.py` from the artifacts' `metadata.json`; reproduce everything with
`bash training/run.sh` (needs `../shared/data`). Models shipped in `models/`: trained on UCI Online Retail.

## Intended use

Rank and flag retail customers at risk of not buying again within 90 days, explain why (per-feature
contributions), and estimate what they will spend, for CRM retention campaigns. Not for decisions about
individuals with legal or similar effect.

## Data and labels

- Features: the 56 features of `docs/FEATURES.md`, computed by the TypeScript feature code (`churnstream
  dataset`) as of each cutoff from events up to the cutoff only; fuzzy breakpoints fitted on cutoffs before
  the holdout and shipped as `feature-spec.json` next to each model.
- Eligible customers: at least one (not cancelled) order in the 180 days before the cutoff.
- Churn label: no order in the 90 days after the cutoff. LTV label: net spend (orders minus refunds) in the
  365 days after the cutoff (`prediction_window_months: 12`). Windows of 91, 183 and 274 days are labels too,
  pooled with the horizon as an input (`training/ltv.py`). **Horizon:** UCI Online Retail covers 12 months in
  all, so no 365-day window closes in it: the shipped LTV model's 12-month value extrapolates its horizon
  term from windows of up to 274 days. CDNOW (18 months) holds 365-day windows; there the same method,
  fitted without them, is checked against the realised 12-month spend (CDNOW section below).
- UCI specifics: invoices are orders; `C` invoices are returns attributed to the customer's latest earlier
  invoice with the same stock code; lines without a customer id are skipped (counted by the loader).

## Promised targets and what the data show

Users were told: {TARGETS}. {verdict}
These targets are not met on these public data sets, and the evidence says they cannot be with honest
out-of-time evaluation: published results on UCI Online Retail with a 90-day churn label and a time split
report AUC 0.62-0.79; a higher figure there usually means the label leaked into the features (e.g. recency
computed after the cutoff). The probabilistic baseline BG/NBD is as strong as the gradient-boosted model on
these data; the model's value over it is per-customer explanations, calibration and the streaming
deployment. See "Known limitations".
{''.join(section(name, titles.get(name, name), *loaded[name]) for name in loaded)}
## Decisions

Risk levels (low < 0.30 ≤ medium < 0.60 ≤ high < 0.90 ≤ critical), confidence and reason codes are defined
in `docs/SCORING.md`; they do not depend on the model version.

## Known limitations

- Short histories: 12 (UCI) and 18 (CDNOW) months. Tenure and lifetime features are truncated at the start of
  the data, so early cutoffs see younger customers than serving will.
- Seasonality: the UCI holdout (late summer into the Christmas season) has a lower churn rate than the
  training cutoffs, and twelve months hold no earlier season to learn it from: calibration fitted on the
  validation folds over-predicts there (out-of-time ECE {figures('ece', '{:.2f}')}). The
  ranking is kept (AUC unchanged by calibration). In production the stream's own calibration monitoring
  (resolved labels, per model version) is the check, and a retrained version goes through shadow and
  A/B before it decides tiers (docs/OPERATIONS.md, "Rolling out a model").
- `critical` (≥ 0.90) is reached by no holdout customer: on neither data set does any group the model can
  single out churn at 90% (the riskiest tenth: {figures('observed_rate_top10', '{:.0%}')}), so a calibrated model should
  not say 0.9; on data where such a group exists the tier fills.
- UCI includes wholesalers with very large baskets; LTV errors are dominated by them (RMSE ≫ MAE).
- CDNOW has no refunds and dates only (no time of day).
- Retrain when the streamed AUC stays below 0.80, calibration error exceeds 10% or drift (PSI) exceeds
  0.25 — with these data the first trigger would fire from the start; set it per deployment.
""")


if __name__ == "__main__":
    main()
