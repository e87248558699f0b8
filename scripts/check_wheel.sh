#!/usr/bin/env bash
# Builds the wheel, installs it (not editable) into a fresh virtual environment outside the
# repository and predicts the shipped argon example from another directory: the shipped models
# must come with the package. Exit status 0 only if the prediction is argon's within 3 std.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
$PY -m pip wheel -q --no-deps -w "$WORK/dist" . >/dev/null
$PY -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q "$WORK"/dist/deepilst-*.whl
mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere"
"$WORK/venv/bin/deepilst" predict "$REPO/examples/argon_330K_16.5nm3.xvg" -T 330 -d 16.5 \
  --format json > out.json
"$WORK/venv/bin/python" - <<'PYEOF'
import json
import deepilst.predict as p
d = json.load(open("out.json"))
assert "site-packages" in str(p.models_dir()), p.models_dir()
assert abs(d["C12"] - 9.70e-6) < 3 * d["C12_std"] and abs(d["C6"] - 6.22e-3) < 3 * d["C6_std"], d
print(f"wheel install: predict from {p.models_dir().parent.parent.name}/deepilst/shipped_models: "
      f"C12 {d['C12']:.4e} +- {d['C12_std']:.1e}, C6 {d['C6']:.4e} +- {d['C6_std']:.1e}: ok")
PYEOF
