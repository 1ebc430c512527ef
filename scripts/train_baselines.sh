#!/usr/bin/env bash
# Train, evaluate and install the three shipped baseline models from ../shared/datasets.
# Each run resumes where it stopped if interrupted (rerun the script).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/datasets}
PY=${PY:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1

$PY -m ml train emotion7 "$DATA/fer2013" --arch cnn --epochs 26 --patience 7 --out instance/runs/emotion7
$PY -m ml train digits "$DATA/svhn/crops" --arch cnn --epochs 20 --patience 6 --out instance/runs/digits
# emotion4 reuses emotion7's learned features under a new 4-class head.
$PY -m ml train emotion4 "$DATA/fer2013" --arch from:instance/runs/emotion7 --epochs 8 --patience 4 \
    --lr 5e-4 --out instance/runs/emotion4

for name in emotion7 emotion4 digits; do
  data="$DATA/fer2013"; [ "$name" = digits ] && data="$DATA/svhn/crops"
  $PY -m ml evaluate "instance/runs/$name" "$data" --split test --save
  rm -rf "ml/artifacts/$name" && mkdir -p ml/artifacts && cp -r "instance/runs/$name" "ml/artifacts/$name"
done
