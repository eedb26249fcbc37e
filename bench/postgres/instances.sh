#!/usr/bin/env bash
# instances.sh: decisions per second and latency with one or two
# `shopguard serve` instances on one PostgreSQL, side by side.
#
# Starts INSTANCES servers (each with its own data directory) on a fresh
# schema of PG_URL, drives each with its own loadtx (open loop at
# RATE/INSTANCES, its own seed, so the instances share the database but
# not order ids) for DURATION after WARMUP, stops them with SIGTERM and
# checks with psql that every acknowledged decision was stored. With two
# instances each also counts the other's decisions (following the log),
# which is part of what is measured.
#
# Settings: INSTANCES=1|2 RATE=4000 DURATION=20s WARMUP=3s CLIENT=raw
#           PG_URL=postgres://postgres@127.0.0.1:5432/test  OUT=FILE
#           FEATURES_REDIS=redis://127.0.0.1:6379/14   the feature store in this Redis
#           (features.store redis, under a prefix of the run's own, deleted after; the
#           instances then share it instead of following each other's decisions)
# Result: bench/results/instances-<n>-<rate>-<date>.json (loopback only).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
INSTANCES=${INSTANCES:-2}
RATE=${RATE:-4000}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CLIENT=${CLIENT:-raw}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$BENCH_DIR/results/instances-$INSTANCES-$RATE${FEATURES_REDIS:+-redis}-$STAMP.json}
[[ $INSTANCES == 1 || $INSTANCES == 2 ]] || { echo "instances.sh: INSTANCES must be 1 or 2" >&2; exit 2; }
for tool in go psql jq curl; do command -v $tool >/dev/null || { echo "instances.sh: $tool is required" >&2; exit 2; }; done
while read -r v; do unset "$v"; done < <(compgen -e | grep '^SHOPGUARD_' || true)
log() { printf '[instances %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

FEATURES_REDIS=${FEATURES_REDIS:-}
REDIS_PREFIX=shopguard-bench:$STAMP:
[[ -z $FEATURES_REDIS ]] || command -v redis-cli >/dev/null || { echo "instances.sh: FEATURES_REDIS needs redis-cli" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shopguard-instances.XXXXXX")
SCHEMA=sginst_$(date +%s)
sep='?'; [[ $PG_URL == *\?* ]] && sep='&'
URL="$PG_URL${sep}options=-c%20search_path%3D$SCHEMA"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  if [[ -n $FEATURES_REDIS ]]; then
    redis-cli -u "$FEATURES_REDIS" --scan --pattern "${REDIS_PREFIX}*" | xargs -r -n 500 redis-cli -u "$FEATURES_REDIS" DEL >/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
psql "$PG_URL" -qc "CREATE SCHEMA $SCHEMA"
log "building into $WORK"
(cd "$REPO" && go build -o "$WORK/shopguard" ./cmd/shopguard)
(cd "$BENCH_DIR" && go build -o "$WORK/loadtx" ./cmd/loadtx)
printf 'storage:\n  driver: postgres\n  url: "%s"\n' "$URL" >"$WORK/shopguard.yaml"
if [[ -n $FEATURES_REDIS ]]; then
  printf 'state:\n  url: "%s"\n  prefix: "%s"\nfeatures:\n  store: redis\n' "$FEATURES_REDIS" "$REDIS_PREFIX" >>"$WORK/shopguard.yaml"
fi
KEY=$("$WORK/shopguard" --config "$WORK/shopguard.yaml" keys create --tenant bench --name loadtx --scopes events:write --data "$WORK/keys")

ports=()
for i in $(seq "$INSTANCES"); do
  port=$((20000 + RANDOM % 40000))
  "$WORK/shopguard" --config "$WORK/shopguard.yaml" serve --data "$WORK/data$i" --addr "127.0.0.1:$port" \
    >"$WORK/server$i.out" 2>"$WORK/server$i.err" &
  PIDS+=($!)
  for _ in $(seq 150); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$WORK/server$i.err" >&2; exit 1; }
  ports+=("$port")
done
log "$INSTANCES instance(s) ready on ${ports[*]}; $RATE decisions/s in all for $DURATION after $WARMUP"
commits0=$(psql "$URL" -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
lpids=()
for i in $(seq "$INSTANCES"); do
  LOADTX_KEY=$KEY "$WORK/loadtx" -target "http://127.0.0.1:${ports[$((i - 1))]}" -rate $((RATE / INSTANCES)) \
    -duration "$DURATION" -warmup "$WARMUP" -seed "$i" -run-id "i${i}x$STAMP" -client "$CLIENT" \
    -server-pid "${PIDS[$((i - 1))]}" -out "$WORK/loadtx$i.json" >"$WORK/loadtx$i.txt" 2>&1 &
  lpids+=($!)
done
for p in "${lpids[@]}"; do wait "$p"; done
commits1=$(psql "$URL" -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
log "stopping the instances (SIGTERM)"
for p in "${PIDS[@]}"; do kill -TERM "$p"; done
for p in "${PIDS[@]}"; do wait "$p"; done
PIDS=()
STORED=$(psql "$URL" -Atc "SELECT count(*) FROM events WHERE tenant = 'bench'")
ACK=$(jq -s 'map(.acknowledged_total) | add' "$WORK"/loadtx*.json)
[[ $STORED -eq $ACK ]] && CHECK=pass || CHECK=FAIL
log "acknowledged $ACK, stored $STORED: $CHECK"
mkdir -p "$(dirname "$OUT")"
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson n "$INSTANCES" --argjson rate "$RATE" \
  --argjson ack "$ACK" --argjson stored "$STORED" --arg check "$CHECK" \
  --argjson tx "$((commits1 - commits0))" --arg pg "$(psql "$URL" -Atc 'SHOW server_version')" \
  --arg rev "$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
  --arg cpu "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)" --argjson nproc "$(nproc)" \
  --arg features "$([[ -n $FEATURES_REDIS ]] && echo redis || echo memory)" \
  '{benchmark: "postgres-instances", date: $date, git_rev: $rev, postgres: $pg, machine: {cpu_model: $cpu, nproc: $nproc},
    instances: $n, offered_per_s: $rate, features_store: $features,
    ok_per_s: (map(.measured.throughput_ok_per_s) | add),
    p50_ms_from_intended_worst_instance: (map(.measured.latency_from_intended_ms.p50) | max),
    p99_ms_from_intended_worst_instance: (map(.measured.latency_from_intended_ms.p99) | max),
    server_cores: (map(.measured.cpu.server_cores) | add),
    machine_busy_cores: (map(.measured.cpu.machine_busy_cores) | max),
    postgres_transactions_per_decision: ($tx / ([$stored, 1] | max)),
    check: {acknowledged: $ack, stored: $stored, result: $check},
    per_instance: map({ok_per_s: .measured.throughput_ok_per_s, latency_from_intended_ms: .measured.latency_from_intended_ms,
                       server_decision_ms: .measured.server_decision_ms, cpu: .measured.cpu})}' "$WORK"/loadtx*.json >"$OUT"
log "results: $OUT"
[[ $CHECK == pass ]]
