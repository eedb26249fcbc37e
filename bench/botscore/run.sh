#!/usr/bin/env bash
# scikit-learn baselines beside shopguard's bot score and the tuned rule, on the
# same simulated sessions and split (see baseline.py).
# Usage (from anywhere): bench/botscore/run.sh [eval traffic flags, e.g. --model FILE --sessions N --seed N]
# Needs: apt-get install -y python3-sklearn; a shopguard with 'eval traffic'.
# Writes nothing outside a temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-/usr/bin/python3} # Debian's python, which sees python3-sklearn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/shopguard" ./cmd/shopguard
"$tmp/shopguard" eval traffic --export "$tmp/rows.csv" "$@"
echo
"$py" bench/botscore/baseline.py "$tmp/rows.csv"
