#!/usr/bin/env bash
# Regenerate the coarse-graining targets data/cg_targets/<NAME>.xvg and <NAME>.json (issue 12):
# an all-atom NVT run of 1000 molecules at 345 K and 13.7 molecules/nm^3 (the paper's state),
# then the centre-of-mass g(r) with block standard errors, P and U, provenance.
#
#   scripts/make_cg_targets.sh [NAME ...]      # default: CO F2 N2 CH4 C2H6
#
# Resumable: rerun to continue (runs/aa/<NAME>, git-ignored). Every MD stage and every production
# chunk holds the machine-wide lock $DEEPILST_LOCK (flock) so that other jobs
# interleave. Production lengths (ps) were chosen from the measured noise floors (README).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEEPILST_LOCK="${DEEPILST_LOCK:-${TMPDIR:-/tmp}/deepilst-md.lock}"
DEEPILST="${DEEPILST:-deepilst}"  # e.g. ".venv/bin/deepilst"
THREADS="${THREADS:-2}"
declare -A PROD=([CO]=2000 [F2]=2000 [N2]=1000 [CH4]=400 [C2H6]=200)
declare -A EQUIL=([CO]=100 [F2]=100 [N2]=100 [CH4]=100 [C2H6]=50)
# chunks of about 2-7 minutes of MD each on 2 cores (the lock is released between chunks)
# production thermostat: Nose-Hoover (the paper's) for the rigid molecules; V-rescale for the
# flexible all-atom ones (CH4's Nose-Hoover production swung between 90 and 1400 K)
declare -A THERMO=([CO]=nose-hoover [F2]=nose-hoover [N2]=nose-hoover [CH4]=v-rescale [C2H6]=v-rescale)
declare -A CHUNK=([CO]=500 [F2]=500 [N2]=200 [CH4]=200 [C2H6]=50)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(CO F2 N2 CH4 C2H6)
for m in "${names[@]}"; do
    $DEEPILST aa --molecule "$m" -T 345 -d 13.7 --n-molecules 1000 --equil-ps "${EQUIL[$m]}" \
        --prod-ps "${PROD[$m]}" --chunk-ps "${CHUNK[$m]}" --xtc-ps 0.5 --seed 1 --thermostat "${THERMO[$m]}" --threads "$THREADS" \
        --out "runs/aa/$m" --target data/cg_targets --blocks 10
done
