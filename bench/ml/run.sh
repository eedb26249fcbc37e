#!/usr/bin/env bash
# XGBoost baseline next to shopguard's own model, on the same rows.
# Usage (from anywhere): bench/ml/run.sh [DATA_DIR]   (default: ../shared/data/fraud/fdh from the repo root)
# Needs: apt-get install -y python3-xgboost python3-sklearn python3-numpy
# Writes only bench/results/ml-baseline-{given,streaming}.json; everything else goes to a temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$(realpath "${1:-../shared/data/fraud/fdh}")
py=${PYTHON:-/usr/bin/python3}   # Debian's python, which sees python3-xgboost
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p bench/results

go build -o "$tmp/shopguard" ./cmd/shopguard
for name in given streaming; do
  "$tmp/shopguard" eval fraud --input "$data" --inputs "$name" --export-features "$tmp/$name.csv" | tee "$tmp/$name.txt" | tail -1
  "$py" bench/ml/baseline.py "$tmp/$name.csv" --name "$name" --shopguard-log "$tmp/$name.txt" \
    --out "bench/results/ml-baseline-$name.json" | tail -1
done
