#!/usr/bin/env bash
# Fresh held-out sets for the final numbers (issue 14, item 4): drawn only after every model
# choice is frozen (the shipped ensemble, paper network and forward model as committed), with
# new seeds, the v1 protocol, and evaluated ONCE when complete (`deepilst evaluate` on
# data/fresh_*.h5; README "Fresh test sets").
# Resumable: rerun after any interruption; finished systems live in runs/fresh (git-ignored).
# About 2.5 hours of MD on 2 cores (v1: test 2.0 h, transfer 0.55 h of wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WORKERS:-$(nproc)}
RUNS=${RUNS:-runs/fresh}
P="--engine auto --n-particles 1000 --equil-ps 50 --prod-ps 350 --sample-every 100 --workers $W"
D=${DEEPILST:-.venv/bin/deepilst}
$D generate --design paper --n 500 --out $RUNS/test $P --seed 2027
$D generate --design transfer --n 200 --out $RUNS/transfer $P --seed 2028
for s in test transfer; do
  $D dataset build $RUNS/$s -o data/fresh_$s.h5
  $D dataset info data/fresh_$s.h5 --json > data/fresh_$s.info.json.tmp && mv data/fresh_$s.info.json.tmp data/fresh_$s.info.json
done
