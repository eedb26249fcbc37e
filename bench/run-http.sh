#!/usr/bin/env bash
# run-http.sh: one reproducible HTTP load run against the decision API.
#
# Builds shopguard and the load generator into a temp dir, starts
# `shopguard serve` on 127.0.0.1 with a fresh data dir and API key, sends
# load (loadtx: open loop at RATE req/s; or wrk: closed loop at
# WRK_CONNECTIONS), stops the server with SIGTERM and checks that every
# acknowledged decision (HTTP 200) is stored in the SQLite database.
# Results (with machine info) go to bench/results/http-<date>.json.
#
# Settings (environment):
#   RATE=10000 DURATION=30s WARMUP=5s   open-loop rate, measured duration, warm-up
#   LOADGEN=loadtx|wrk                   load generator (default loadtx)
#   WORKERS=64 MAX_WORKERS=4096 CONNECTIONS=0 TIMEOUT=10s   loadtx sender pool (0 = no connection cap)
#   SEED=1 CUSTOMERS=50000 SIM_SPAN=720h loadtx traffic
#   CLIENT=vegeta|raw                    loadtx sender: vegeta + net/http, or the lean raw HTTP/1.1
#                                        client (~21 instead of ~50 us of CPU per request; Linux)
#   WRK_THREADS=2 WRK_CONNECTIONS=64     wrk concurrency
#   PIN=0|1  SERVER_CPUS=0 LOADGEN_CPUS=1   with PIN=1, taskset the server and the
#                                        generator to separate cores (default: both share all cores)
#   SERVER_CONFIG=FILE                   shopguard config file (default: built-in defaults)
#   STORAGE_URL=postgres://...           store in this PostgreSQL instead of SQLite (a config file
#                                        is written; not with SERVER_CONFIG); the schema in its
#                                        search_path must be empty (psql checks what was stored)
#   FEATURES_REDIS=redis://...           keep the feature store in this Redis (features.store redis,
#                                        under a prefix of the run's own, deleted after it; a config
#                                        file is written; not with SERVER_CONFIG); needs redis-cli
#   SERVER_BIN=FILE                      use this shopguard binary instead of building one (to run
#                                        a series on one build while the checkout changes);
#   SERVER_BUILT_FROM=TEXT               then say what it was built from (recorded as is)
#   OUT=FILE                             result file (default bench/results/http-<date>.json)
#   KEEP_WORK=1                          keep the temp dir (binaries, data, logs)
#   PERF=1                               also profile the server with perf (bench/results/*.perf.txt)
#   WAIT_IDLE=0 IDLE_BELOW=0.3           wait up to WAIT_IDLE s for other work on the machine
#                                        to drop below IDLE_BELOW busy cores before the run
# Needs: go, curl, jq; sqlite3 for the stored-events check (else the
# server's shopguard_decisions_total counter is used); wrk for LOADGEN=wrk.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

RATE=${RATE:-10000}
DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
LOADGEN=${LOADGEN:-loadtx}
WORKERS=${WORKERS:-64}
MAX_WORKERS=${MAX_WORKERS:-4096}
CONNECTIONS=${CONNECTIONS:-0}
TIMEOUT=${TIMEOUT:-10s}
SEED=${SEED:-1}
CUSTOMERS=${CUSTOMERS:-50000}
SIM_SPAN=${SIM_SPAN:-720h}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
PIN=${PIN:-0}
SERVER_CPUS=${SERVER_CPUS:-0}
LOADGEN_CPUS=${LOADGEN_CPUS:-1}
SERVER_CONFIG=${SERVER_CONFIG:-}
KEEP_WORK=${KEEP_WORK:-0}
SERVER_BIN=${SERVER_BIN:-}
SERVER_BUILT_FROM=${SERVER_BUILT_FROM:-}
WAIT_IDLE=${WAIT_IDLE:-0}
PERF=${PERF:-0}
IDLE_BELOW=${IDLE_BELOW:-0.3}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$BENCH_DIR/results/http-$STAMP.json}
TENANT=bench

for tool in go curl jq; do
  command -v "$tool" >/dev/null || { echo "run-http.sh: $tool is required" >&2; exit 2; }
done
case "$LOADGEN" in
  loadtx) ;;
  wrk) command -v wrk >/dev/null || { echo "run-http.sh: LOADGEN=wrk needs wrk (apt-get install -y wrk)" >&2; exit 2; } ;;
  *) echo "run-http.sh: LOADGEN must be loadtx or wrk" >&2; exit 2 ;;
esac

# shopguard rejects unknown SHOPGUARD_* variables and would read known ones:
# run it on its defaults (plus SERVER_CONFIG) only.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^SHOPGUARD_' || true)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shopguard-bench.XXXXXX")
DATA=$WORK/data
SPID=
cleanup() {
  if [[ -n $SPID ]] && kill -0 "$SPID" 2>/dev/null; then
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
  fi
  if [[ $KEEP_WORK == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { printf '[run-http %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

server_pin=() loadgen_pin=()
if [[ $PIN == 1 ]]; then
  command -v taskset >/dev/null || { echo "run-http.sh: PIN=1 needs taskset" >&2; exit 2; }
  server_pin=(taskset -c "$SERVER_CPUS")
  loadgen_pin=(taskset -c "$LOADGEN_CPUS")
fi
STORAGE_URL=${STORAGE_URL:-}
if [[ -n $STORAGE_URL ]]; then
  [[ -z $SERVER_CONFIG ]] || { echo "run-http.sh: STORAGE_URL and SERVER_CONFIG exclude each other" >&2; exit 2; }
  command -v psql >/dev/null || { echo "run-http.sh: STORAGE_URL needs psql" >&2; exit 2; }
  SERVER_CONFIG=$WORK/postgres.yaml
  printf 'storage:\n  driver: postgres\n  url: "%s"\n' "$STORAGE_URL" >"$SERVER_CONFIG"
fi
FEATURES_REDIS=${FEATURES_REDIS:-}
REDIS_PREFIX=shopguard-bench:$STAMP:
if [[ -n $FEATURES_REDIS ]]; then
  command -v redis-cli >/dev/null || { echo "run-http.sh: FEATURES_REDIS needs redis-cli" >&2; exit 2; }
  if [[ -z $STORAGE_URL ]]; then
    [[ -z $SERVER_CONFIG ]] || { echo "run-http.sh: FEATURES_REDIS and SERVER_CONFIG exclude each other" >&2; exit 2; }
    SERVER_CONFIG=$WORK/features.yaml
    : >"$SERVER_CONFIG"
  fi
  printf 'state:\n  url: "%s"\n  prefix: "%s"\nfeatures:\n  store: redis\n' "$FEATURES_REDIS" "$REDIS_PREFIX" >>"$SERVER_CONFIG"
fi
# Redis's script calls and the microseconds it spent in them, so far.
redis_scripts() {
  local v
  v=$(redis-cli -u "$FEATURES_REDIS" INFO commandstats | awk -F'[=,:]' '/^cmdstat_evalsha:/{print $3, $5}' | tr -d '\r')
  echo "${v:-0 0}"
}
# PostgreSQL's transactions per decision: its commit counter over the run.
pg_commits() { psql "$STORAGE_URL" -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
cfg_args=()
[[ -n $SERVER_CONFIG ]] && cfg_args=(--config "$SERVER_CONFIG")

if [[ -n $SERVER_BIN ]]; then
  log "using prebuilt shopguard $SERVER_BIN; building loadtx into $WORK"
  cp "$SERVER_BIN" "$WORK/shopguard"
else
  log "building shopguard and loadtx into $WORK"
  (cd "$REPO" && go build -o "$WORK/shopguard" ./cmd/shopguard)
fi
(cd "$BENCH_DIR" && go build -o "$WORK/loadtx" ./cmd/loadtx)
SERVER_SHA=$(sha256sum "$WORK/shopguard" | cut -c1-16)

KEY=$("$WORK/shopguard" "${cfg_args[@]}" keys create --tenant "$TENANT" --name loadtx --scopes events:write \
  --data "$DATA" 2>"$WORK/keys.err") || { cat "$WORK/keys.err" >&2; exit 1; }
[[ $KEY == sg_* ]] || { echo "run-http.sh: unexpected key output" >&2; exit 1; }

# Start the server on a free port (retry if another process takes it first).
PORT=
for _ in 1 2 3 4 5 6 7 8; do
  p=$((20000 + RANDOM % 40000))
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
  "${server_pin[@]}" "$WORK/shopguard" "${cfg_args[@]}" serve --data "$DATA" --addr "127.0.0.1:$p" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SPID=$!
  for _ in $(seq 150); do
    if curl -fsS "http://127.0.0.1:$p/readyz" >/dev/null 2>&1; then PORT=$p; break; fi
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $PORT ]] && break
  if kill -0 "$SPID" 2>/dev/null; then
    echo "run-http.sh: server did not become ready; log:" >&2; cat "$WORK/server.err" >&2; exit 1
  fi
  wait "$SPID" 2>/dev/null || true
  SPID=
  grep -q "address already in use" "$WORK/server.err" || { echo "run-http.sh: server failed:" >&2; cat "$WORK/server.err" >&2; exit 1; }
done
[[ -n $PORT ]] || { echo "run-http.sh: no free port found" >&2; exit 1; }
BASE=http://127.0.0.1:$PORT
log "shopguard pid $SPID ready on $BASE (data $DATA)"

# Machine busy cores over one second before the run: other work competing
# for the cores. With WAIT_IDLE=N, wait up to N seconds for it to drop
# below IDLE_BELOW cores first.
cpu_busy() { awk '/^cpu /{b=$2+$3+$4+$7+$8; t=b+$5+$6; print b, t}' /proc/stat; } # steal excluded
NPROC=$(nproc)
busy_now() {
  local b0 t0 b1 t1
  read -r b0 t0 < <(cpu_busy); sleep 1; read -r b1 t1 < <(cpu_busy)
  awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v n="$NPROC" 'BEGIN{printf "%.2f", (t>0 ? b/t*n : 0)}'
}
BUSY_BEFORE=$(busy_now)
waited=0
while ((waited < WAIT_IDLE)) && awk -v b="$BUSY_BEFORE" -v l="$IDLE_BELOW" 'BEGIN{exit !(b >= l)}'; do
  log "machine busy $BUSY_BEFORE cores; waiting for < $IDLE_BELOW ($waited/$WAIT_IDLE s)"
  sleep 4; waited=$((waited + 5)); BUSY_BEFORE=$(busy_now)
done
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine busy before the run: $BUSY_BEFORE of $NPROC cores (loadavg $LOADAVG_BEFORE)"

secs() { # 30s, 2m, 1500ms -> seconds
  local d=$1
  case $d in
    *ms) awk -v v="${d%ms}" 'BEGIN{print v/1000}' ;;
    *s) echo "${d%s}" ;;
    *m) awk -v v="${d%m}" 'BEGIN{print v*60}' ;;
    *) echo "$d" ;;
  esac
}

# A snapshot of top in the middle of the measured phase, for the record.
TOP_FILE=${OUT%.json}.top.raw
( sleep "$(awk -v w="$(secs "$WARMUP")" -v d="$(secs "$DURATION")" 'BEGIN{print w + d/2}')"
  top -b -n1 -w 200 2>/dev/null | head -20 >"$TOP_FILE" || true ) &
TOP_PID=$!

proc_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }

# PERF=1: sample the server's stacks with perf during the measured phase
# (adds a little overhead; keep it out of the runs you quote).
PERF_PID=
if [[ $PERF == 1 ]]; then
  command -v perf >/dev/null || { echo "run-http.sh: PERF=1 needs perf" >&2; exit 2; }
  ( sleep "$(secs "$WARMUP")"
    exec perf record -F 499 -g -p "$SPID" -o "$WORK/perf.data" -- sleep "$(secs "$DURATION")" ) >/dev/null 2>&1 &
  PERF_PID=$!
fi

PG_COMMITS0=0
[[ -n $STORAGE_URL ]] && PG_COMMITS0=$(pg_commits)
REDIS0="0 0"
[[ -n $FEATURES_REDIS ]] && REDIS0=$(redis_scripts)
LG_FILE=$WORK/loadgen.json
RUN_ID=${LOADGEN}${STAMP}
if [[ $LOADGEN == loadtx ]]; then
  log "loadtx: $RATE req/s for $DURATION after $WARMUP warm-up"
  LOADTX_KEY=$KEY "${loadgen_pin[@]}" "$WORK/loadtx" -target "$BASE" -rate "$RATE" -duration "$DURATION" \
    -warmup "$WARMUP" -workers "$WORKERS" -max-workers "$MAX_WORKERS" -connections "$CONNECTIONS" \
    -timeout "$TIMEOUT" -seed "$SEED" -customers "$CUSTOMERS" -sim-span "$SIM_SPAN" -run-id "$RUN_ID" \
    -client "${CLIENT:-vegeta}" \
    -server-pid "$SPID" -out "$LG_FILE" | tee "$WORK/loadtx.txt"
  ACK=$(jq '.acknowledged_total' "$LG_FILE")
  INFLIGHT_SLACK=0
else
  WRK_URL=$BASE/v1/transactions
  wrk_run() { # $1 duration, $2 run id, $3 output
    LOADTX_KEY=$KEY RUN_ID=$2 SEED=$SEED CUSTOMERS=$CUSTOMERS "${loadgen_pin[@]}" wrk -t "$WRK_THREADS" \
      -c "$WRK_CONNECTIONS" -d "$1" --latency -s "$BENCH_DIR/wrk/transactions.lua" "$WRK_URL" >"$3"
  }
  if [[ $(secs "$WARMUP") != 0 ]]; then
    log "wrk warm-up: $WRK_THREADS threads, $WRK_CONNECTIONS connections, $WARMUP"
    wrk_run "$WARMUP" "${RUN_ID}w" "$WORK/wrk-warmup.txt"
  fi
  log "wrk: $WRK_THREADS threads, $WRK_CONNECTIONS connections (closed loop) for $DURATION"
  # CPU of waited-for children (wrk) from the shell's `times` (user + sys);
  # `times` must run in this shell, not in a $(...) subshell.
  child_cpu() { tail -1 "$1" | awk '{for(i=1;i<=2;i++){s=$i; sub(/s$/,"",s); split(s,a,"m"); t+=a[1]*60+a[2]}; print t}'; }
  times >"$WORK/times0"; s0=$(proc_ticks "$SPID"); read -r b0 t0 < <(cpu_busy); w0=$(date +%s.%N)
  wrk_run "$DURATION" "$RUN_ID" "$WORK/wrk.txt"
  times >"$WORK/times1"; s1=$(proc_ticks "$SPID"); read -r b1 t1 < <(cpu_busy); w1=$(date +%s.%N)
  c0=$(child_cpu "$WORK/times0"); c1=$(child_cpu "$WORK/times1")
  cat "$WORK/wrk.txt"
  warm=null
  [[ -f $WORK/wrk-warmup.txt ]] && warm=$(sed -n 's/^WRKJSON //p' "$WORK/wrk-warmup.txt")
  sed -n 's/^WRKJSON //p' "$WORK/wrk.txt" | jq --argjson warm "$warm" --arg wrkv "$(wrk --version 2>&1 | head -1)" \
    --argjson threads "$WRK_THREADS" --argjson conns "$WRK_CONNECTIONS" \
    --argjson scpu "$(awk -v a="$s0" -v b="$s1" -v w0="$w0" -v w1="$w1" 'BEGIN{printf "%.2f", (b-a)/100/(w1-w0)}')" \
    --argjson mcpu "$(awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v n="$NPROC" 'BEGIN{printf "%.2f", (t>0 ? b/t*n : 0)}')" \
    --argjson gcpu "$(awk -v a="$c0" -v b="$c1" -v w0="$w0" -v w1="$w1" 'BEGIN{printf "%.2f", (b-a)/(w1-w0)}')" \
    '{tool: "wrk", version: $wrkv, closed_loop: true, threads: $threads, connections: $conns,
      warmup: $warm, measured: (. + {cpu: {generator_cores: $gcpu, server_cores: $scpu, machine_busy_cores: $mcpu,
      other_cores: ([$mcpu - $gcpu - $scpu, 0] | max | . * 100 | round / 100)}})}' >"$LG_FILE"
  ACK=$(jq '(.measured.ok) + ((.warmup // {}).ok // 0)' "$LG_FILE")
  # wrk drops the requests in flight when its time is up; the server may
  # still have stored them, so stored may exceed acknowledged by up to the
  # number of connections per wrk run.
  INFLIGHT_SLACK=$((WRK_CONNECTIONS * 2))
fi
wait "$TOP_PID" 2>/dev/null || true
if [[ -n $PERF_PID ]]; then
  wait "$PERF_PID" 2>/dev/null || true
  perf report -i "$WORK/perf.data" --stdio --children --sort symbol 2>/dev/null |
    grep -E '^ +[0-9]' | head -150 >"${OUT%.json}.perf.txt" || true
  log "perf profile (children, by symbol): ${OUT%.json}.perf.txt"
fi

PG_COMMITS1=0
[[ -n $STORAGE_URL ]] && PG_COMMITS1=$(pg_commits)
REDIS1="0 0"
[[ -n $FEATURES_REDIS ]] && REDIS1=$(redis_scripts)
METRICS_DECISIONS=$(curl -fsS "$BASE/metrics" | awk '/^shopguard_decisions_total\{/{s+=$2} END{printf "%d", s}')

log "stopping shopguard (SIGTERM)"
t_stop=$(date +%s.%N)
kill -TERM "$SPID"
set +e
wait "$SPID"
SERVER_EXIT=$?
set -e
SHUTDOWN_S=$(awk -v a="$t_stop" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
SPID_WAS=$SPID
SPID=

PG_TX_PER_DECISION=null
if [[ -n $STORAGE_URL ]]; then
  STORED=$(psql "$STORAGE_URL" -Atc "SELECT count(*) FROM events WHERE tenant='$TENANT' AND kind='transaction'")
  DISTINCT=$(psql "$STORAGE_URL" -Atc "SELECT count(DISTINCT external_id) FROM events WHERE tenant='$TENANT' AND kind='transaction'")
  STORED_ACTIONS=$(psql "$STORAGE_URL" -Atc "SELECT COALESCE(json_object_agg(action, n), '{}') FROM
    (SELECT action, count(*) AS n FROM events WHERE tenant='$TENANT' GROUP BY action) a")
  METHOD="psql count of events after shutdown"
  PG_TX_PER_DECISION=$(awk -v a="$PG_COMMITS0" -v b="$PG_COMMITS1" -v n="$STORED" 'BEGIN{printf "%.4f", (n>0 ? (b-a)/n : 0)}')
elif command -v sqlite3 >/dev/null; then
  STORED=$(sqlite3 "$DATA/shopguard.db" "SELECT count(*) FROM events WHERE tenant='$TENANT' AND kind='transaction'")
  DISTINCT=$(sqlite3 "$DATA/shopguard.db" "SELECT count(DISTINCT external_id) FROM events WHERE tenant='$TENANT' AND kind='transaction'")
  STORED_ACTIONS=$(sqlite3 -json "$DATA/shopguard.db" "SELECT action, count(*) AS n FROM events WHERE tenant='$TENANT' GROUP BY action" |
    jq -c 'map({(.action): .n}) | add // {}')
  METHOD="sqlite3 count of events after shutdown"
else
  STORED=$METRICS_DECISIONS
  DISTINCT=$METRICS_DECISIONS
  STORED_ACTIONS='{}'
  METHOD="shopguard_decisions_total before shutdown (sqlite3 not installed)"
fi
if [[ $LOADGEN == loadtx ]]; then
  [[ $STORED -eq $ACK ]] && CHECK=pass || CHECK=FAIL
else
  ((STORED >= ACK && STORED - ACK <= INFLIGHT_SLACK)) && CHECK=pass || CHECK=FAIL
fi
log "acknowledged $ACK, stored $STORED ($METHOD), metrics $METRICS_DECISIONS: $CHECK"

GIT_REV=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$([[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]] && echo true || echo false)
# The exact code measured when the checkout has uncommitted changes: a hash of the diff.
GIT_DIFF_SHA=$(git -C "$REPO" diff HEAD 2>/dev/null | sha256sum | cut -c1-16)
mkdir -p "$(dirname "$OUT")"
# The binary by name only: no machine paths in result files.
SERVER_DESC="built from the checkout"
[[ -n ${SERVER_BIN:-} ]] && SERVER_DESC="SERVER_BIN=.../$(basename "$SERVER_BIN")"
jq -n --slurpfile lg "$LG_FILE" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg loadgen "$LOADGEN" \
  --argjson nproc "$NPROC" --arg cpu "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)" \
  --arg kernel "$(uname -sr)" --arg gov "$(go version)" --arg rev "$GIT_REV" --argjson dirty "$GIT_DIRTY" --arg diffsha "$GIT_DIFF_SHA" \
  --arg mem "$(awk '/^MemTotal/{print $2 " kB"}' /proc/meminfo)" --arg load "$LOADAVG_BEFORE" \
  --argjson busy "$BUSY_BEFORE" --argjson pin "$PIN" --arg scpus "$([[ $PIN == 1 ]] && echo "$SERVER_CPUS" || echo all)" \
  --arg lcpus "$([[ $PIN == 1 ]] && echo "$LOADGEN_CPUS" || echo all)" --argjson spid "$SPID_WAS" \
  --argjson sexit "$SERVER_EXIT" --argjson shut "$SHUTDOWN_S" --arg dbsize "$(du -sh "$DATA" | cut -f1)" \
  --arg sbin "$SERVER_DESC" --arg ssha "$SERVER_SHA" \
  --arg sfrom "${SERVER_BUILT_FROM:-$([[ -z $SERVER_BIN ]] && echo "$GIT_REV (diff $GIT_DIFF_SHA)" || echo unknown)}" \
  --argjson ack "$ACK" --argjson stored "$STORED" --argjson distinct "$DISTINCT" --argjson metrics "$METRICS_DECISIONS" \
  --arg method "$METHOD" --arg check "$CHECK" --argjson slack "$INFLIGHT_SLACK" --argjson sactions "$STORED_ACTIONS" \
  --arg top "$(cat "$TOP_FILE" 2>/dev/null || true)" --arg storage "$([[ -n $STORAGE_URL ]] && echo postgres || echo sqlite)" \
  --argjson pgtx "$PG_TX_PER_DECISION" --arg features "$([[ -n $FEATURES_REDIS ]] && echo redis || echo memory)" \
  --argjson rcalls "$(( ${REDIS1% *} - ${REDIS0% *} ))" --argjson rusec "$(( ${REDIS1#* } - ${REDIS0#* } ))" \
  '{benchmark: "http-decision-throughput", date: $date, load_generator: $loadgen,
    machine: {nproc: $nproc, cpu_model: $cpu, kernel: $kernel, mem_total: $mem, go_version: $gov,
              git_rev: $rev, git_dirty: $dirty, git_diff_sha256_16: $diffsha, loadavg_before: $load, busy_cores_before: $busy},
    placement: {pinned: ($pin == 1), server_cpus: $scpus, loadgen_cpus: $lcpus,
                note: (if $pin == 1 then "server and load generator pinned to separate cores" else "server and load generator share all cores" end)},
    storage: {driver: $storage, postgres_transactions_per_decision: $pgtx, features_store: $features,
              redis_script_calls: $rcalls, redis_script_us_per_call: (if $rcalls > 0 then ($rusec / $rcalls) else null end)},
    server: {binary: $sbin, built_from: $sfrom, binary_sha256_16: $ssha, pid: $spid, exit_code: $sexit, shutdown_s: $shut, data_dir_size: $dbsize, top_mid_run: ($top | split("\n"))},
    results: $lg[0],
    check: {acknowledged: $ack, stored: $stored, stored_distinct_ids: $distinct, metrics_decisions_total: $metrics,
            stored_actions: $sactions, method: $method, allowed_in_flight_slack: $slack, result: $check}}' >"$OUT"
rm -f "$TOP_FILE"
if [[ -n $FEATURES_REDIS ]]; then
  redis-cli -u "$FEATURES_REDIS" --scan --pattern "${REDIS_PREFIX}*" | xargs -r -n 500 redis-cli -u "$FEATURES_REDIS" DEL >/dev/null
fi
log "results: $OUT"
[[ $CHECK == pass && $SERVER_EXIT == 0 ]]
