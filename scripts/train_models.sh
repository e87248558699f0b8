#!/usr/bin/env bash
# Retrains the shipped models (issue 4) from the committed datasets and evaluates them.
# Deterministic on CPU for a given seed. Writes models/{ensemble,paper}, docs/parity_*.png and
# the argon study (docs/argon_*).
set -euo pipefail
cd "$(dirname "$0")/.."
D=.venv/bin/deepilst
SETS="data/v1_train.h5 data/v1_test.h5 data/v1_test_2runs.h5 data/v1_transfer.h5"
for m in ensemble paper; do
  $D train data/v1_train.h5 --model $m -o models/$m --seed 0
  $D evaluate models/$m $SETS --plot docs/parity_$m.png --json models/$m/evaluation.json
done
# MD with the predicted parameters at all 121 states for our model (~16 min on 2 cores)
$D study argon --data data/v1_argon.h5 --model models/ensemble --model models/paper --md-model models/ensemble --out docs
