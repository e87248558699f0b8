#!/usr/bin/env bash
# Retrains the shipped models from the committed datasets and evaluates them. Deterministic for
# a given seed, thread count and machine; on another machine (other CPU kernels in BLAS and
# torch) a retrain agrees within the training noise, not bit for bit. One torch thread each:
# with two, any other work on a 2-core machine slowed training tenfold (threads spin-wait).
# Writes src/deepilst/shipped_models/{ensemble,paper} (package data),
# docs/parity_*.png and the argon study (docs/argon_*). Run from anywhere; paths are relative to
# the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
D=.venv/bin/deepilst
M=src/deepilst/shipped_models
SETS="data/v1_train.h5 data/v1_test.h5 data/v1_test_2runs.h5 data/v1_transfer.h5"
$D train data/v1_train.h5 --model ensemble -o $M/ensemble --seed 0 --threads 1
$D train data/v1_train.h5 --model paper -o $M/paper --seed 0 --threads 1
for m in ensemble paper; do
  $D evaluate $M/$m $SETS --plot docs/parity_$m.png --json $M/$m/evaluation.json
done
# MD with the predicted parameters at all 121 states for our model (~16 min on 2 cores)
$D study argon --data data/v1_argon.h5 --model $M/ensemble --model $M/paper --md-model $M/ensemble --out docs
