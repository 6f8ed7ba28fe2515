#!/usr/bin/env bash
# Reproduces the shipped models and the model card from the real data sets:
# datasets (TypeScript feature code) -> training and evaluation (LightGBM, scikit-learn,
# lifetimes) -> models/churn/<v>, models/ltv/<v> -> docs/MODEL_CARD.md and plots.
#
#   bash training/run.sh [version]        (default v1; data from ../shared/data or $CHURNSTREAM_DATA)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSION="${1:-v1}"
DATA="${CHURNSTREAM_DATA:-$ROOT/../shared/data}"
OUT="$ROOT/training/out"
PY="$ROOT/training/.venv/bin/python"
# numpy/scipy's OpenBLAS picks its kernels by CPU, and the GLM and calibration fits then
# differ in the last digits between an AVX-512 and an AVX2 machine: pin one kernel every
# x86-64 server has (AVX2) and one BLAS thread, so the artifacts reproduce byte for byte.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" OPENBLAS_NUM_THREADS=1

[[ -f "$DATA/uci-online-retail/online_retail.csv.gz" && -f "$DATA/cdnow/CDNOW_master.txt" ]] ||
  { echo "data not found under $DATA (set CHURNSTREAM_DATA)" >&2; exit 1; }
bash "$ROOT/training/setup.sh"
[[ -d "$ROOT/node_modules" ]] || (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$OUT"

cli() { node --import tsx "$ROOT/src/app/cli/main.ts" "$@"; }
cli dataset --source uci --input "$DATA/uci-online-retail/online_retail.csv.gz" --out "$OUT/uci.csv" \
  --spec-out "$OUT/uci-spec.json" --spec-version "uci-$VERSION" --first 2011-01-01 --every-days 30
cli dataset --source cdnow --input "$DATA/cdnow/CDNOW_master.txt" --out "$OUT/cdnow.csv" \
  --spec-out "$OUT/cdnow-spec.json" --spec-version "cdnow-$VERSION" --first 1997-04-01 --every-days 30

"$PY" training/train.py --dataset "$OUT/uci.csv" --spec "$OUT/uci-spec.json" --name uci --version "$VERSION" \
  --out models --report docs/model-card/uci
"$PY" training/train.py --dataset "$OUT/cdnow.csv" --spec "$OUT/cdnow-spec.json" --name cdnow --version "$VERSION" \
  --out "$OUT/models" --report docs/model-card/cdnow
"$PY" training/model_card.py --version "$VERSION" --run "uci=models" --run "cdnow=$OUT/models" > docs/MODEL_CARD.md
echo "models/churn/$VERSION, models/ltv/$VERSION and docs/MODEL_CARD.md written"
