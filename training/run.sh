#!/usr/bin/env bash
# Reproduces the shipped models and the model card from the real data sets with the same
# command a user trains on their own history with (`churnstream train`): datasets (TypeScript
# feature code) -> training and evaluation (LightGBM, scikit-learn, lifetimes) ->
# models/churn/<v>, models/ltv/<v> -> per-run cards and plots -> docs/MODEL_CARD.md.
#
#   bash training/run.sh [version]        (default v1; data from ../shared/data or $CHURNSTREAM_DATA)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSION="${1:-v1}"
DATA="${CHURNSTREAM_DATA:-$ROOT/../shared/data}"
OUT="$ROOT/training/out"
PY="$ROOT/training/.venv/bin/python"
# numpy/scipy's OpenBLAS picks its kernels by CPU, and numpy its own SIMD loops: the GLM and
# calibration fits then differ in the last digits between an AVX-512 and an AVX2 machine. Pin
# one kernel every x86-64 server has (AVX2), one BLAS thread and numpy without AVX-512, so the
# artifacts reproduce byte for byte (churnstream train sets the same for its Python steps).
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" OPENBLAS_NUM_THREADS=1
export NPY_DISABLE_CPU_FEATURES="${NPY_DISABLE_CPU_FEATURES:-AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR}"

[[ -f "$DATA/uci-online-retail/online_retail.csv.gz" && -f "$DATA/cdnow/CDNOW_master.txt" ]] ||
  { echo "data not found under $DATA (set CHURNSTREAM_DATA)" >&2; exit 1; }
bash "$ROOT/training/setup.sh"
[[ -d "$ROOT/node_modules" ]] || (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$OUT"

cli() { node --import tsx "$ROOT/src/app/cli/main.ts" "$@"; }
# `churnstream train` per data set: table, models, plots and the run's card. UCI's models are the
# shipped ones (models/); CDNOW's are for evaluation only (training/out/models).
cli train --source uci --input "$DATA/uci-online-retail/online_retail.csv.gz" --first 2011-01-01 --every-days 30 \
  --name uci --model-version "$VERSION" --model-dir models --report docs/model-card/uci --work-dir "$OUT/uci" --force --no-progress
cli train --source cdnow --input "$DATA/cdnow/CDNOW_master.txt" --first 1997-04-01 --every-days 30 \
  --name cdnow --model-version "$VERSION" --model-dir "$OUT/models" --report docs/model-card/cdnow --work-dir "$OUT/cdnow" \
  --force --no-progress
"$PY" training/model_card.py --version "$VERSION" --run "uci=models" --run "cdnow=$OUT/models" > docs/MODEL_CARD.md
echo "models/churn/$VERSION, models/ltv/$VERSION and docs/MODEL_CARD.md written"
