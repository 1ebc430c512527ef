#!/usr/bin/env bash
# Train, evaluate and install the three shipped baseline models from ../shared/datasets, exactly as
# the shipped artifacts were made (their metadata.json repeats each command). Rerunning a train
# command resumes it where it stopped. Training fits each model's temperature on its validation split;
# artifacts made before that existed were given theirs with `python -m ml calibrate` (the same fit).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/datasets}
PY=${PY:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1

# emotion7: 15 epochs from scratch, 6 at a lower learning rate from the best checkpoint, then up to 30 more
# from there with a fresh optimizer, halving the learning rate whenever validation accuracy stalls.
$PY -m ml train emotion7 "$DATA/fer2013" --arch cnn --epochs 15 --patience 7 --out instance/runs/emotion7
$PY -m ml train emotion7 "$DATA/fer2013" --init instance/runs/emotion7 --epochs 6 --patience 3 --lr 2.5e-4 \
    --out instance/runs/emotion7b
$PY -m ml train emotion7 "$DATA/fer2013" --init instance/runs/emotion7b --epochs 30 --patience 8 --lr 5e-4 \
    --out instance/runs/emotion7c
# emotion4 reuses emotion7's learned features under a new 4-class head.
$PY -m ml train emotion4 "$DATA/fer2013" --arch from:instance/runs/emotion7c --epochs 8 --patience 3 \
    --lr 5e-4 --out instance/runs/emotion4c
$PY -m ml train emotion4 "$DATA/fer2013" --init instance/runs/emotion4c --epochs 6 --patience 3 --lr 2.5e-4 \
    --out instance/runs/emotion4d  # shipped: better than emotion4c on validation (0.8018 against 0.7983)
$PY -m ml train digits "$DATA/svhn/crops" --arch cnn --epochs 12 --patience 5 --out instance/runs/digits

install() {  # run dir, recognizer, dataset
  $PY -m ml evaluate "$1" "$3" --split test --save
  rm -rf "ml/artifacts/$2" && mkdir -p ml/artifacts && cp -r "$1" "ml/artifacts/$2"
}
install instance/runs/emotion7c emotion7 "$DATA/fer2013"
install instance/runs/emotion4d emotion4 "$DATA/fer2013"
install instance/runs/digits digits "$DATA/svhn/crops"
