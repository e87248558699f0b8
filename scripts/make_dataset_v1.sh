#!/usr/bin/env bash
# Regenerates dataset v1 (issue 3). Resumable: rerun after any interruption.
# WORKERS (default: all cores) and RUNS (default: /work/deepilst-runs/v1, outside the work
# tree so that a fresh checkout keeps finished systems) may be set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WORKERS:-$(nproc)}
RUNS=${RUNS:-/work/deepilst-runs/v1}
P="--engine auto --n-particles 1000 --equil-ps 50 --prod-ps 350 --sample-every 100 --workers $W"
D=.venv/bin/deepilst
$D generate --design grid --grid data/argon_grid.csv --out $RUNS/argon $P --seed 2019
$D generate --design reduced --n 520 --expand 50 --out $RUNS/train $P --seed 9
$D generate --design paper --n 500 --out $RUNS/test $P --seed 7
$D generate --design transfer --n 200 --out $RUNS/transfer $P --seed 8
for s in argon test transfer train; do
  $D dataset build $RUNS/$s -o data/v1_$s.h5
done
