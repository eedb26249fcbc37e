#!/usr/bin/env bash
# run.sh: clean proxy throughput of `shopguard gateway` next to nginx and
# HAProxy on this machine (issue 10: ≥ 0.8× nginx's), measured with wrk.
#
# Builds shopguard and the stand-in shop (bench/gateway/upstream) into a temp
# dir, starts on free loopback ports: the upstream, shopguard gateway (and a
# second one with a rate limit that counts every request but never refuses),
# nginx and HAProxy (foreground, own config files in the temp dir; no system
# service is enabled or started). Then ROUNDS interleaved rounds: each round
# runs every target once (WARMUP of wrk, then the measured run), in an order
# rotated from round to round. Reports medians over the rounds: req/s, ratio
# to nginx, p50/p90/p99 latency and the CPU time each proxy (and the upstream)
# used per 1,000 requests, read from /proc/<pid>/stat before and after the
# measured run. Prints the table and writes it, with machine facts, the
# per-run figures and the exact commands, to
# bench/results/gateway-proxy-<UTC timestamp>.txt. Every process it started
# is stopped on exit.
#
# Settings (environment):
#   DURATION=10s WARMUP=2s THREADS=2 CONNS=64 ROUNDS=3   wrk runs
#   BODY_BYTES=2048 SERVICE_TIME=0                       upstream answer
#   TARGETS="direct shopguard shopguard+limit nginx haproxy"
#   OUT=FILE                                             result file
#   KEEP_WORK=1                                          keep the temp dir
# Needs: go, curl; installs nginx(-light), haproxy and wrk with apt-get when
# they are missing (root).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-3}
BODY_BYTES=${BODY_BYTES:-2048}
SERVICE_TIME=${SERVICE_TIME:-0}
TARGETS=${TARGETS:-direct shopguard shopguard+limit nginx haproxy}
KEEP_WORK=${KEEP_WORK:-0}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$BENCH_DIR/results/gateway-proxy-$STAMP.txt}

log() { printf '[gateway-bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || die "ROUNDS must be 1..99"
[[ $CONNS =~ ^[1-9][0-9]*$ && $THREADS =~ ^[1-9][0-9]*$ ]] || die "CONNS and THREADS must be positive integers"
for tool in go curl awk; do command -v "$tool" >/dev/null || die "$tool is required"; done

# --- packages --------------------------------------------------------------
missing=()
command -v nginx >/dev/null || missing+=(nginx)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  ((EUID == 0)) || die "missing ${missing[*]}; run as root or: apt-get install -y nginx-light haproxy wrk"
  log "installing ${missing[*]} (apt-get; services are not started)"
  pkgs=()
  for m in "${missing[@]}"; do [[ $m == nginx ]] && pkgs+=(nginx-light) || pkgs+=("$m"); done
  apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null; then
    pkgs=("${pkgs[@]/nginx-light/nginx}")
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
  for m in "${missing[@]}"; do command -v "$m" >/dev/null || die "$m is still missing after apt-get install"; done
fi
# Debian's package puts nginx in /usr/sbin, which may not be on PATH.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

# shopguard rejects unknown SHOPGUARD_* variables and would read known ones.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^SHOPGUARD_' || true)

# --- work dir and cleanup -------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shopguard-gwbench.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [[ $KEEP_WORK == 1 ]]; then log "work dir kept: $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port sets FREE_PORT to a free loopback port: nothing listens on it
# and it was not handed out yet. It runs in this shell, not in a command
# substitution's subshell, where USED_PORTS would be forgotten and RANDOM
# could repeat (two targets given one port).
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
    USED_PORTS+="$p "
    FREE_PORT=$p
    return
  done
  die "no free port found"
}

# wait_ready NAME PID PORT LOG: GET / answers 200 with BODY_BYTES bytes.
wait_ready() {
  local n
  for _ in $(seq 100); do
    n=$(curl -fsS -o /dev/null -w '%{size_download}' "http://127.0.0.1:$3/" 2>/dev/null || true)
    [[ $n == "$BODY_BYTES" ]] && return 0
    kill -0 "$2" 2>/dev/null || { cat "$4" >&2; die "$1 exited"; }
    sleep 0.1
  done
  cat "$4" >&2
  die "$1 did not answer GET / with $BODY_BYTES bytes on port $3"
}

# --- build -----------------------------------------------------------------
log "building shopguard and the upstream into $TMP"
(cd "$REPO" && go build -o "$TMP/shopguard" ./cmd/shopguard)
(cd "$BENCH_DIR" && go build -o "$TMP/upstream" ./gateway/upstream)
GIT_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(cd "$REPO" && git status --porcelain -- internal cmd go.mod 2>/dev/null) ]]; then
  GIT_REV+=" + uncommitted changes in internal/ or cmd/"
fi

# --- start the targets -----------------------------------------------------
declare -A PORT PID
COMMANDS=()
start() { # name log cmd...: start in the background, record pid
  local name=$1 logf=$2
  shift 2
  "$@" >"$logf" 2>&1 &
  PID[$name]=$!
  PIDS+=("$!")
  COMMANDS+=("$name: $*")
}

free_port
PORT[direct]=$FREE_PORT
start direct "$TMP/upstream.log" "$TMP/upstream" -addr "127.0.0.1:${PORT[direct]}" \
  -body-bytes "$BODY_BYTES" -service-time "$SERVICE_TIME"
wait_ready upstream "${PID[direct]}" "${PORT[direct]}" "$TMP/upstream.log"
UPSTREAM=127.0.0.1:${PORT[direct]}

wants() { [[ " $TARGETS " == *" $1 "* ]]; }

# shopguard: lift the per-address connection cap above wrk's connections
# (every wrk connection comes from 127.0.0.1); give the admin listener, when
# this build has one, a free port of its own.
GW_ENV=("SHOPGUARD_GATEWAY_MAX_CONNS_PER_IP=$((CONNS + 1000))")
"$TMP/shopguard" config sample 2>/dev/null | grep -q '^  admin_addr:' && HAS_ADMIN=1 || HAS_ADMIN=0
cat >"$TMP/policy.yaml" <<'EOF'
# One limit on every request, so the limiter runs on each one; the burst is
# far above what a run sends, so it never refuses.
limits:
  - {name: every_request_per_ip, key: ip, rate: 1000000, burst: 1000000000}
routes:
  - {name: everything, path: /*, limits: [every_request_per_ip]}
EOF
for t in shopguard shopguard+limit; do
  wants "$t" || continue
  free_port
  PORT[$t]=$FREE_PORT
  env_args=("${GW_ENV[@]}")
  if ((HAS_ADMIN)); then
    free_port
    env_args+=("SHOPGUARD_GATEWAY_ADMIN_ADDR=127.0.0.1:$FREE_PORT")
  fi
  pol=()
  [[ $t == shopguard+limit ]] && pol=(--policy "$TMP/policy.yaml")
  start "$t" "$TMP/$t.log" env -C "$TMP" "${env_args[@]}" "$TMP/shopguard" gateway \
    --upstream "http://$UPSTREAM" --listen "127.0.0.1:${PORT[$t]}" --log-level warn "${pol[@]}"
  wait_ready "$t" "${PID[$t]}" "${PORT[$t]}" "$TMP/$t.log"
done

if wants nginx; then
  free_port
  PORT[nginx]=$FREE_PORT
  mkdir -p "$TMP/nginx-temp"
  cat >"$TMP/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes auto;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx-temp/body;
    proxy_temp_path $TMP/nginx-temp/proxy;
    # Client keep-alive without the default cap of 1,000 requests per
    # connection (shopguard and HAProxy have none).
    keepalive_requests 1000000;
    upstream shop {
        server $UPSTREAM;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:${PORT[nginx]};
        location / {
            proxy_pass http://shop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
        }
    }
}
EOF
  "$NGINX" -t -q -p "$TMP" -e "$TMP/nginx-error.log" -c "$TMP/nginx.conf" || die "nginx rejects its config"
  start nginx "$TMP/nginx.log" "$NGINX" -p "$TMP" -e "$TMP/nginx-error.log" -c "$TMP/nginx.conf"
  wait_ready nginx "${PID[nginx]}" "${PORT[nginx]}" "$TMP/nginx-error.log"
fi

if wants haproxy; then
  free_port
  PORT[haproxy]=$FREE_PORT
  cat >"$TMP/haproxy.cfg" <<EOF
global
    # nbthread is not set: HAProxy then runs one thread per CPU it may use.
    maxconn 4096
defaults
    mode http
    option http-keep-alive
    option forwardfor
    http-reuse always
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 90s
frontend shopguard_bench
    bind 127.0.0.1:${PORT[haproxy]}
    default_backend shop
backend shop
    server shop $UPSTREAM
EOF
  "$HAPROXY" -c -q -f "$TMP/haproxy.cfg" || die "haproxy rejects its config"
  start haproxy "$TMP/haproxy.log" "$HAPROXY" -f "$TMP/haproxy.cfg" -db
  wait_ready haproxy "${PID[haproxy]}" "${PORT[haproxy]}" "$TMP/haproxy.log"
fi

read -r -a TLIST <<<"$TARGETS"
for t in "${TLIST[@]}"; do [[ -n ${PORT[$t]:-} ]] || die "unknown target $t (direct shopguard shopguard+limit nginx haproxy)"; done
log "targets: $(for t in "${TLIST[@]}"; do printf '%s=:%s ' "$t" "${PORT[$t]}"; done)"

# --- measuring ---------------------------------------------------------------
HZ=$(getconf CLK_TCK)
NPROC=$(nproc)
# CPU ticks (user + system) of a process and its direct children (nginx's workers).
ticks() {
  local p kids
  kids=$(ps -o pid= --ppid "$1" 2>/dev/null || true)
  for p in $1 $kids; do
    [[ -r /proc/$p/stat ]] && awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$p/stat"
  done | awk '{s += $1} END {print s + 0}'
}
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# CPU seconds (user + system) of the shell's finished children (i.e. wrk)
# from the output of `times` (which must run in this shell, not a subshell).
child_secs() {
  awk 'NR == 2 {
    n = split($0, f, " "); s = 0
    for (i = 1; i <= n; i++) { split(f[i], a, "m"); sub(/s$/, "", a[2]); s += a[1] * 60 + a[2] }
    print s }' "$1"
}
# wrk latency to milliseconds: 512.00us, 1.20ms, 1.01s.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
    else print "nan" }'
}

WRK_ARGS=(-t "$THREADS" -c "$CONNS" --latency)
RAW=$TMP/raw.tsv # round target rps p50 p90 p99 errors proxy_ms_per_1k upstream_ms_per_1k wrk_cores other_cores
: >"$RAW"
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

for ((r = 1; r <= ROUNDS; r++)); do
  n=${#TLIST[@]}
  for ((i = 0; i < n; i++)); do
    t=${TLIST[$(((i + r - 1) % n))]}
    url=http://127.0.0.1:${PORT[$t]}/
    wrk -t "$THREADS" -c "$CONNS" -d "$WARMUP" "$url" >/dev/null
    up0=$(ticks "${PID[direct]}")
    px0=0
    [[ $t != direct ]] && px0=$(ticks "${PID[$t]}")
    m0=$(machine_ticks)
    times >"$TMP/times0"
    wrk "${WRK_ARGS[@]}" -d "$DURATION" "$url" >"$TMP/wrk-$r-$t.txt"
    times >"$TMP/times1"
    w0=$(child_secs "$TMP/times0")
    w1=$(child_secs "$TMP/times1")
    m1=$(machine_ticks)
    px1=0
    [[ $t != direct ]] && px1=$(ticks "${PID[$t]}")
    up1=$(ticks "${PID[direct]}")
    f=$TMP/wrk-$r-$t.txt
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    reqs=$(awk '/requests in/ {print $1}' "$f")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$f")")
    p90=$(to_ms "$(awk '$1 == "90%" {print $2}' "$f")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$f")")
    errs=$(awk '/Non-2xx/ {e += $NF} /Socket errors/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10} END {print e + 0}' "$f")
    [[ -n $rps && -n $reqs && $reqs -gt 0 ]] || { cat "$f" >&2; die "wrk gave no figures for $t"; }
    read -r pxms upms wcores other < <(awk -v px="$((px1 - px0))" -v up="$((up1 - up0))" -v m="$((m1 - m0))" \
      -v w="$(awk -v a="$w0" -v b="$w1" 'BEGIN{print b - a}')" -v hz="$HZ" -v n="$reqs" -v d="$DURATION" -v t="$t" 'BEGIN {
        sub(/s$/, "", d)
        pxms = (t == "direct") ? "-" : sprintf("%.1f", px / hz * 1000 / (n / 1000))
        upms = sprintf("%.1f", up / hz * 1000 / (n / 1000))
        other = (m - px - up) / hz - w
        printf "%s %s %.2f %.2f\n", pxms, upms, w / d, (other < 0 ? 0 : other) / d }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "$rps" "$p50" "$p90" "$p99" "$errs" \
      "$pxms" "$upms" "$wcores" "$other" >>"$RAW"
    log "round $r/$ROUNDS $t: $rps req/s, p50 ${p50} ms, p99 ${p99} ms, proxy CPU ${pxms} ms/1k req, errors $errs, other load ${other} cores"
  done
done

# --- report ------------------------------------------------------------------
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else print v[int((NR + 1) / 2)]}'; }
col() { awk -F'\t' -v t="$1" -v c="$2" '$2 == t {print $c}' "$RAW"; }
NGINX_RPS=$( [[ -n ${PORT[nginx]:-} ]] && col nginx 3 | median || echo "")

TABLE=$TMP/table.txt
{
  printf '%-16s %10s %9s %8s %8s %8s %14s %14s %11s %7s\n' target 'req/s' 'x nginx' 'p50 ms' 'p90 ms' 'p99 ms' \
    'proxy CPU ms' 'upstr. CPU ms' 'req/s range' errors
  printf '%-16s %10s %9s %8s %8s %8s %14s %14s %11s %7s\n' '' median '' '' '' '' 'per 1k req' 'per 1k req' '' ''
  for t in "${TLIST[@]}"; do
    rps=$(col "$t" 3 | median)
    ratio=-
    [[ -n $NGINX_RPS ]] && ratio=$(awk -v a="$rps" -v b="$NGINX_RPS" 'BEGIN{printf "%.2f", a / b}')
    range=$(col "$t" 3 | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f-%.0f", lo, hi}')
    errs=$(col "$t" 7 | awk '{s += $1} END {print s + 0}')
    printf '%-16s %10.0f %9s %8s %8s %8s %14s %14s %11s %7s\n' "$t" "$rps" "$ratio" "$(col "$t" 4 | median)" \
      "$(col "$t" 5 | median)" "$(col "$t" 6 | median)" "$(col "$t" 8 | median)" "$(col "$t" 9 | median)" "$range" "$errs"
  done
} >"$TABLE"

mkdir -p "$(dirname "$OUT")"
{
  echo "# shopguard gateway vs nginx vs HAProxy: clean proxy throughput (bench/gateway/run.sh)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   shopguard: $GIT_REV"
  echo "machine: nproc $NPROC; $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); $(uname -sr)"
  echo "go: $(go version)"
  echo "nginx: $("$NGINX" -v 2>&1)"
  echo "haproxy: $("$HAPROXY" -v | head -1)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "load: loadavg before $LOADAVG_BEFORE"
  echo "settings: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS CONNS=$CONNS BODY_BYTES=$BODY_BYTES SERVICE_TIME=$SERVICE_TIME"
  echo "wrk, proxies and upstream share the same $NPROC cores (no pinning)."
  echo
  echo "## Medians over $ROUNDS interleaved rounds"
  cat "$TABLE"
  echo
  echo "## Every run (round, target, req/s, p50/p90/p99 ms, errors, proxy and upstream CPU ms per 1k requests,"
  echo "## wrk's CPU in cores, other work on the machine in cores)"
  printf 'round\ttarget\treq/s\tp50\tp90\tp99\terrors\tproxy_ms/1k\tupstream_ms/1k\twrk_cores\tother_cores\n'
  cat "$RAW"
  echo
  echo "## Commands"
  printf '%s\n' "${COMMANDS[@]}"
  echo "shopguard environment: ${GW_ENV[*]}$( ((HAS_ADMIN)) && echo ' SHOPGUARD_GATEWAY_ADMIN_ADDR=127.0.0.1:<free port>')"
  echo "per target and round: wrk -t $THREADS -c $CONNS -d $WARMUP http://127.0.0.1:<port>/ (warm-up, discarded), then"
  echo "                      wrk ${WRK_ARGS[*]} -d $DURATION http://127.0.0.1:<port>/"
  echo "reproduce: DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS CONNS=$CONNS ROUNDS=$ROUNDS bench/gateway/run.sh"
  echo
  echo "## Configurations"
  echo "--- policy.yaml (shopguard+limit)"; cat "$TMP/policy.yaml"
  [[ -f $TMP/nginx.conf ]] && { echo "--- nginx.conf"; cat "$TMP/nginx.conf"; }
  [[ -f $TMP/haproxy.cfg ]] && { echo "--- haproxy.cfg"; cat "$TMP/haproxy.cfg"; }
} | sed "s|$TMP|\$WORK|g" >"$OUT" # the temp dir is this machine's: written as $WORK

echo
cat "$TABLE"
echo
log "written to $OUT"
