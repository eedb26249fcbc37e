#!/usr/bin/env bash
# scikit-learn TF-IDF + LinearSVC next to shopguard's text classifiers, on the same folds.
#
# Usage (from anywhere): bench/sklearn/run.sh [messages] [urls] [reviews]      (default: all three)
#
# For each task: builds shopguard once, runs `shopguard eval TASK --data D --folds-out F`
# (the same as `go run ./cmd/shopguard eval TASK ...`), then text_baselines.py on the same
# fold file F, then prints the side-by-side table (compare.py). The reviews task runs
# `shopguard eval content --data DIR`; both tools take the folds from the corpus's own
# fold1..fold5 directories, so there is no fold file.
#
# Needs: apt-get install -y python3-sklearn; runs Debian's /usr/bin/python3 (PYTHON=...
# to change), because a pyenv python3 on PATH does not see python3-sklearn.
#
# Settings (environment):
#   MESSAGES=FILE   SMS Spam Collection   (default ../shared/data/messages/SMSSpamCollection)
#   URLS=FILE       phishing URLs CSV     (default ../shared/data/urls/hannousse-yahiouche-urls/dataset_phishing.url_status.csv)
#   REVIEWS=DIR     deceptive opinion spam corpus (default ../shared/data/reviews/op_spam_v1.4)
#   SEED=1 K=5      shopguard's fold seed and fold count (the baseline reads the folds it wrote)
#   OUT=DIR         where the outputs go (default bench/sklearn/results; "" keeps them only in a temp dir)
#   PIN_CPU=N       run shopguard and the baseline with taskset -c N (default: not pinned)
#   SG_BIN=PATH     use this shopguard binary instead of building one
#   IDLE_WAIT=S     first wait up to S seconds for the 1-minute load average to fall below IDLE_BELOW (1.0)
#   SK_ARGS="..."   extra arguments for text_baselines.py (e.g. "--no-nested", "--grid 0.3,1,3,10,30")
# Paths are relative to the repository root. Data files are read, never copied.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-/usr/bin/python3}
seed=${SEED:-1}
k=${K:-5}
out=${OUT-bench/sklearn/results}
tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(messages urls reviews)
declare -A data=(
  [messages]=${MESSAGES:-../shared/data/messages/SMSSpamCollection}
  [urls]=${URLS:-../shared/data/urls/hannousse-yahiouche-urls/dataset_phishing.url_status.csv}
  [reviews]=${REVIEWS:-../shared/data/reviews/op_spam_v1.4}
)
# shopguard's eval command for each task.
declare -A sgcmd=([messages]=messages [urls]=urls [reviews]=content)
# One thread for every BLAS/OpenMP pool: classification throughput is per core.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
pin=()
[ -z "${PIN_CPU:-}" ] || pin=(taskset -c "$PIN_CPU")

"$py" -c 'import sklearn' 2>/dev/null || {
  echo "run.sh: $py has no scikit-learn: apt-get install -y python3-sklearn (or set PYTHON)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sg=${SG_BIN:-}
if [ -z "$sg" ]; then
  go build -o "$tmp/shopguard" ./cmd/shopguard
  sg=$tmp/shopguard
fi
[ -z "$out" ] || mkdir -p "$out"

if [ "${IDLE_WAIT:-0}" -gt 0 ]; then
  end=$((SECONDS + IDLE_WAIT))
  while [ $SECONDS -lt $end ] && awk -v b="${IDLE_BELOW:-1.0}" '{exit !($1 >= b)}' /proc/loadavg; do sleep 5; done
fi
echo "== $(date -u +%FT%TZ) on $(getconf _NPROCESSORS_ONLN) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $("$py" -c 'import sklearn,platform; print("scikit-learn", sklearn.__version__, "Python", platform.python_version())')"
status=0
for task in "${tasks[@]}"; do
  case $task in messages|urls|reviews) ;; *) echo "run.sh: unknown task $task (messages, urls or reviews)" >&2; exit 2 ;; esac
  d=${data[$task]}
  echo "== $task: $d"
  if [ ! -r "$d" ]; then
    echo "run.sh: skipping $task: cannot read $d (set ${task^^}=PATH)" >&2; status=1; continue
  fi
  cmd=${sgcmd[$task]}
  # `eval --help` prints the subcommands; an unknown one would only print eval's help again.
  if ! "$sg" eval --help 2>/dev/null | awk '/^Available Commands:/{on=1;next} on&&NF==0{on=0} on{print $1}' | grep -qx "$cmd"; then
    echo "run.sh: skipping $task: this shopguard has no 'eval $cmd' command yet" >&2
    continue
  fi
  folds=$tmp/$task.folds
  sk_folds=(--folds "$folds")
  help=$("$sg" eval "$cmd" --help 2>&1 || true)
  sg_args=(eval "$cmd" --data "$d")
  grep -q -- '--folds int' <<<"$help" && sg_args+=(--folds "$k")
  grep -q -- '--seed' <<<"$help" && sg_args+=(--seed "$seed")
  if [ "$task" = reviews ]; then
    sk_folds=()  # both tools use the corpus's fold1..fold5 directories
  elif grep -q -- '--folds-out' <<<"$help"; then
    sg_args+=(--folds-out "$folds")
  else
    echo "run.sh: WARNING: 'shopguard eval $cmd' has no --folds-out yet: the baseline uses its own" \
         "StratifiedKFold folds, NOT shopguard's" >&2
    sk_folds=(--k "$k")
  fi
  echo "-- shopguard ${sg_args[*]}"
  "${pin[@]}" "$sg" "${sg_args[@]}" | tee "$tmp/$task-shopguard.txt"
  echo "-- text_baselines.py --task $task ${sk_folds[*]} ${SK_ARGS:-}"
  # shellcheck disable=SC2086 # SK_ARGS is split on purpose
  "${pin[@]}" "$py" bench/sklearn/text_baselines.py --task "$task" --data "$d" "${sk_folds[@]}" --seed "$seed" \
    --json "$tmp/$task-sklearn.json" ${SK_ARGS:-} | tee "$tmp/$task-sklearn.txt"
  echo
  echo "== $task: side by side"
  "$py" bench/sklearn/compare.py --shopguard "$tmp/$task-shopguard.txt" --sklearn "$tmp/$task-sklearn.json" \
    | tee "$tmp/$task-comparison.txt"
  if [ -n "$out" ]; then
    cp "$tmp/$task-shopguard.txt" "$tmp/$task-sklearn.txt" "$tmp/$task-sklearn.json" "$tmp/$task-comparison.txt" "$out/"
    echo "(outputs in $out/$task-*)"
  fi
  echo
done
exit $status
