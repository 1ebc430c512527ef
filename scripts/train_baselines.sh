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

# emotion7: the cnn_deep network from scratch on FER-2013 and RAF-DB together: AdamW, one warm-up epoch, then a
# cosine schedule to zero, the strong augmentation (issue 16's first campaign model).
$PY -m ml train emotion7 "$DATA/fer2013" "$DATA/rafdb" --arch cnn_deep --epochs 40 --optimizer adam --lr 1e-3 \
    --schedule cosine --warmup 1 --weight-decay 0.01 --augment strong --batch-size 64 --out instance/campaign/emotion7_a
# emotion4 reuses emotion7's learned features under a new 4-class head (every layer fine-tuned), on both datasets,
# holding out the images emotion7 held out (the shipped one was made from the installed emotion7, the same model).
$PY -m ml train emotion4 "$DATA/fer2013" "$DATA/rafdb" --arch from:instance/campaign/emotion7_a --epochs 15 \
    --optimizer adam --lr 3e-4 --schedule cosine --warmup 1 --weight-decay 0.01 --augment strong --batch-size 64 \
    --out instance/campaign/emotion4_b
$PY -m ml train digits "$DATA/svhn/labels.csv" --arch cnn_deep --epochs 50 --schedule cosine --warmup 1 \
    --augment strong --weight-decay 0.01 --out instance/campaign/digits_c
# The number reader's digit detector (faces from RAF-DB as photos without digits).
$PY -m ml train numbers "$DATA/svhn" --epochs 30 --batch-size 32 --lr 2e-3 --warmup 1 --negatives "$DATA/rafdb/train" \
    --out instance/campaign/digit_detector_30

install() {  # run dir, recognizer, dataset
  $PY -m ml evaluate "$1" "$3" --split test --save
  rm -rf "ml/artifacts/$2" && mkdir -p ml/artifacts && cp -r "$1" "ml/artifacts/$2"
}
install instance/campaign/emotion7_a emotion7 "$DATA/fer2013"
install instance/campaign/emotion4_b emotion4 "$DATA/fer2013"
install instance/campaign/digits_c digits "$DATA/svhn/labels.csv"
rm -rf ml/artifacts/digit_detector && cp -r instance/campaign/digit_detector_30 ml/artifacts/digit_detector
