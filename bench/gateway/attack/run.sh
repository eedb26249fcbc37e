#!/usr/bin/env bash
# run.sh: legitimate customers and attacks through `shopguard gateway`, nginx
# and HAProxy, side by side, in front of a test shop with a hard capacity
# (issue 10). See README.md beside this file.
#
# Builds shopguard, the test shop (shop/) and the load generator (loadgen/)
# into a temp dir and starts the shop on free loopback ports. Then for each
# scenario (a baseline without attack first), for each target: starts the
# target afresh (no state carried from one run to the next), runs
# `loadgen run` (customers for PRE + DURATION + POST, the attack during
# DURATION), stops the target and waits for the shop's queue to drain. Every
# run's JSON summary goes to the work dir; `loadgen report` makes the table,
# printed and written with the machine, versions, settings, configurations
# and commands to bench/results/gateway-attack-<UTC timestamp>.txt, the
# summaries to gateway-attack-<stamp>.jsonl. Every process it started is
# stopped on exit.
#
# Settings (environment):
#   DURATION=10s PRE=3s POST=5s          the attack and the customers alone before and after it
#   SCENARIOS="baseline flood dflood scraper stuffing cardtest slowloris slowpost dslowpost"
#   TARGETS="direct shopguard shopguard-ua nginx haproxy"   (also: shopguard-auto, for a
#                                        gateway that accepts auto_under_attack in its policy)
#   USERS=50 THINK=2s                    customers browsing at once, their mean pause (~110 req/s)
#   FLOOD_RPS=1000                       both floods (20× a nominal 50 req/s of customers)
#   DFLOOD_ADDRS=1000 SCRAPER_RPS=200 STUFFING_RPS=100 CARD_RPS=50
#   SLOW_CONNS=1000 SLOW_RATE=200        slowhttptest's connections and connections/s
#   DSLOW_ADDRS=64                       addresses of the distributed slow POST (one body each)
#   SLOTS=16 SERVICE_TIME=20ms           the shop's capacity (800 pages/s)
#   POLICY=FILE                          shopguard's policy (default shopguard-policy.yaml here)
#   OUT=FILE KEEP_WORK=1                 result file; keep the temp dir
# About 14 minutes with the defaults (45 runs of 18 s plus starts).
# Needs: go, curl; installs nginx(-light), haproxy and slowhttptest with
# apt-get when they are missing (root).
set -euo pipefail

ATTACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DIR=$(cd "$ATTACK_DIR/../.." && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

DURATION=${DURATION:-10s}
PRE=${PRE:-3s}
POST=${POST:-5s}
SCENARIOS=${SCENARIOS:-baseline flood dflood scraper stuffing cardtest slowloris slowpost dslowpost}
TARGETS=${TARGETS:-direct shopguard shopguard-ua nginx haproxy}
USERS=${USERS:-50}
THINK=${THINK:-2s}
FLOOD_RPS=${FLOOD_RPS:-1000}
DFLOOD_ADDRS=${DFLOOD_ADDRS:-1000}
SCRAPER_RPS=${SCRAPER_RPS:-200}
STUFFING_RPS=${STUFFING_RPS:-100}
CARD_RPS=${CARD_RPS:-50}
SLOW_CONNS=${SLOW_CONNS:-1000}
SLOW_RATE=${SLOW_RATE:-200}
DSLOW_ADDRS=${DSLOW_ADDRS:-64}
SLOTS=${SLOTS:-16}
SERVICE_TIME=${SERVICE_TIME:-20ms}
KEEP_WORK=${KEEP_WORK:-0}
POLICY=${POLICY:-$ATTACK_DIR/shopguard-policy.yaml}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$BENCH_DIR/results/gateway-attack-$STAMP.txt}
JSONL=${OUT%.txt}.jsonl

log() { printf '[gateway-attack %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in go curl awk sed; do command -v "$tool" >/dev/null || die "$tool is required"; done
read -r -a SLIST <<<"$SCENARIOS"
read -r -a TLIST <<<"$TARGETS"
[[ ${SLIST[0]:-} == baseline ]] || die "SCENARIOS must start with baseline (the reference of every other)"
for t in "${TLIST[@]}"; do
  case $t in direct | shopguard | shopguard-ua | shopguard-auto | nginx | haproxy) ;;
  *) die "unknown target $t (direct shopguard shopguard-ua shopguard-auto nginx haproxy)" ;;
  esac
done

# --- packages --------------------------------------------------------------
wants() { [[ " $TARGETS " == *" $1 "* ]]; }
missing=()
wants nginx && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]] && missing+=(nginx)
wants haproxy && ! command -v haproxy >/dev/null && [[ ! -x /usr/sbin/haproxy ]] && missing+=(haproxy)
[[ " $SCENARIOS " == *" slowloris "* || " $SCENARIOS " == *" slowpost "* ]] && ! command -v slowhttptest >/dev/null && missing+=(slowhttptest)
if ((${#missing[@]})); then
  ((EUID == 0)) || die "missing ${missing[*]}; run as root or: apt-get install -y nginx-light haproxy slowhttptest"
  log "installing ${missing[*]} (apt-get; services are not started)"
  pkgs=()
  for m in "${missing[@]}"; do [[ $m == nginx ]] && pkgs+=(nginx-light) || pkgs+=("$m"); done
  apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null; then
    pkgs=("${pkgs[@]/nginx-light/nginx}")
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
SLOWHTTPTEST=$(command -v slowhttptest || echo slowhttptest)

# shopguard rejects unknown SHOPGUARD_* variables and would read known ones.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^SHOPGUARD_' || true)

# --- work dir and cleanup -------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shopguard-gwattack.XXXXXX")
PIDS=()
stop_pid() { # pid: TERM, up to 5 s, then KILL
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  if [[ $KEEP_WORK == 1 ]]; then log "work dir kept: $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port sets FREE_PORT to a free loopback port: nothing listens on it
# and it was not handed out yet; below the ephemeral range, which the many
# client connections of a run use up (a port taken by one of them cannot
# be bound). It runs in this shell, not in a command substitution's
# subshell, where USED_PORTS would be forgotten and RANDOM could repeat
# (a gateway once got its own listening port as its admin port).
EPHEMERAL_LO=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
((EPHEMERAL_LO > 12000)) || die "the ephemeral port range starts at $EPHEMERAL_LO; the harness wants free ports below it"
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((10000 + RANDOM % (EPHEMERAL_LO - 10000)))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
    USED_PORTS+="$p "
    FREE_PORT=$p
    return
  done
  die "no free port found"
}

# wait_http NAME PID URL LOG: URL answers at all (any HTTP status), from an
# address no customer or attacker uses. It returns 1 when the process
# exited because a port was taken (the caller tries other ports).
wait_http() {
  local code
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.9.9.9 -H 'Accept: text/html' "$3" 2>/dev/null || true)
    [[ $code != 000 && -n $code ]] && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      grep -q 'address already in use' "$4" && return 1
      cat "$4" >&2
      die "$1 exited"
    fi
    sleep 0.1
  done
  cat "$4" >&2
  die "$1 did not answer $3"
}

# --- build -----------------------------------------------------------------
log "building shopguard, the shop and the load generator into $TMP"
(cd "$REPO" && go build -o "$TMP/shopguard" ./cmd/shopguard)
(cd "$BENCH_DIR" && go build -o "$TMP/shop" ./gateway/attack/shop && go build -o "$TMP/loadgen" ./gateway/attack/loadgen)
GIT_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(cd "$REPO" && git status --porcelain -- internal cmd go.mod 2>/dev/null) ]]; then
  GIT_REV+=" + uncommitted changes in internal/ or cmd/"
fi

# --- the shop ----------------------------------------------------------------
free_port
SHOP_PORT=$FREE_PORT
free_port
STATS_PORT=$FREE_PORT
SHOP=127.0.0.1:$SHOP_PORT
SHOP_CMD=("$TMP/shop" -addr "$SHOP" -stats-addr "127.0.0.1:$STATS_PORT" -slots "$SLOTS" -service-time "$SERVICE_TIME")
"${SHOP_CMD[@]}" >"$TMP/shop.log" 2>&1 &
SHOP_PID=$!
PIDS+=("$SHOP_PID")
wait_http shop "$SHOP_PID" "http://127.0.0.1:$STATS_PORT/healthz" "$TMP/shop.log" || die "the shop found a port taken"

# wait_drained: the shop has nothing queued or in work (what a run left
# behind does not weigh on the next), for at most 30 s.
wait_drained() {
  local s
  for _ in $(seq 300); do
    s=$(curl -s "http://127.0.0.1:$STATS_PORT/healthz" || true)
    [[ $s == "ok waiting=0 busy=0" ]] && return 0
    sleep 0.1
  done
  log "warning: the shop still has work after 30 s: $s"
}

# --- configurations ------------------------------------------------------------
[[ -r $POLICY ]] || die "POLICY $POLICY is not a readable file"
cp "$POLICY" "$TMP/policy.yaml"
{ cat "$POLICY"; echo; echo "# shopguard-ua: every page view challenged from the start."; echo "under_attack: true"; } >"$TMP/policy-ua.yaml"
{
  cat "$POLICY"
  echo
  echo "# shopguard-auto: under-attack mode switched on by the gateway itself, within"
  echo "# the benchmark's seconds: distress when the shop's p90 is above 200 ms or a"
  echo "# fifth of answers fail, on after 2 s of it."
  echo "auto_under_attack: {latency: 200ms, error_rate: 0.2, for: 2s, cool_down: 1m}"
} >"$TMP/policy-auto.yaml"
mkdir -p "$TMP/nginx-temp"
sed -e "s|@TMP@|$TMP|g; s|@PORT@|@PORT@|; s|@SHOP@|$SHOP|" "$ATTACK_DIR/nginx.conf" >"$TMP/nginx.conf.in"
sed -e "s|@SHOP@|$SHOP|" "$ATTACK_DIR/haproxy.cfg" >"$TMP/haproxy.cfg.in"

# --- targets -------------------------------------------------------------------
declare -A TARGET_CMD
TPID=0
TPORT=0
# start_target NAME: start it on a fresh port; sets TPID, TPORT. A target
# that finds a port taken after all is started again on others.
start_target() {
  local attempt
  for attempt in 1 2 3; do
    start_target_once "$1" && return 0
    log "$1: a port was taken; starting it on others"
    stop_target
  done
  die "$1 could not get free ports"
}
start_target_once() {
  local t=$1 logf=$TMP/$1.log cmd=()
  free_port
  TPORT=$FREE_PORT
  case $t in
  direct)
    TPID=0 TPORT=$SHOP_PORT
    return
    ;;
  shopguard | shopguard-ua | shopguard-auto)
    local pol=$TMP/policy.yaml
    [[ $t == shopguard-ua ]] && pol=$TMP/policy-ua.yaml
    [[ $t == shopguard-auto ]] && pol=$TMP/policy-auto.yaml
    free_port
    cmd=(env -C "$TMP" "SHOPGUARD_GATEWAY_ADMIN_ADDR=127.0.0.1:$FREE_PORT" "$TMP/shopguard" gateway
      --upstream "http://$SHOP" --listen "127.0.0.1:$TPORT" --policy "$pol" --log-level error)
    ;;
  nginx)
    sed -e "s|@PORT@|$TPORT|" "$TMP/nginx.conf.in" >"$TMP/nginx.conf"
    "$NGINX" -t -q -p "$TMP" -e "$TMP/nginx-error.log" -c "$TMP/nginx.conf" || die "nginx rejects its config"
    cmd=("$NGINX" -p "$TMP" -e "$TMP/nginx-error.log" -c "$TMP/nginx.conf")
    ;;
  haproxy)
    sed -e "s|@PORT@|$TPORT|" "$TMP/haproxy.cfg.in" >"$TMP/haproxy.cfg"
    "$HAPROXY" -c -q -f "$TMP/haproxy.cfg" || die "haproxy rejects its config"
    cmd=("$HAPROXY" -f "$TMP/haproxy.cfg" -db)
    ;;
  esac
  "${cmd[@]}" >>"$logf" 2>&1 &
  TPID=$!
  PIDS+=("$TPID")
  TARGET_CMD[$t]="${cmd[*]}"
  wait_http "$t" "$TPID" "http://127.0.0.1:$TPORT/static/ready.css" "$logf"
}
stop_target() {
  ((TPID > 0)) || return 0
  stop_pid "$TPID"
  local p keep=()
  for p in "${PIDS[@]}"; do [[ $p != "$TPID" ]] && keep+=("$p"); done
  PIDS=("${keep[@]}")
  TPID=0
}

# --- runs ----------------------------------------------------------------------
mkdir -p "$TMP/runs"
LOADGEN_ARGS=(-pre "$PRE" -attack "$DURATION" -post "$POST" -users "$USERS" -think "$THINK"
  -flood-rps "$FLOOD_RPS" -dflood-addrs "$DFLOOD_ADDRS" -scraper-rps "$SCRAPER_RPS"
  -stuffing-rps "$STUFFING_RPS" -card-rps "$CARD_RPS" -slow-conns "$SLOW_CONNS" -slow-rate "$SLOW_RATE"
  -dslow-addrs "$DSLOW_ADDRS" -slowhttptest "$SLOWHTTPTEST")
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
SUITE_START=$(date +%s)
nt=${#TLIST[@]}
for si in "${!SLIST[@]}"; do
  sc=${SLIST[$si]}
  for ((k = 0; k < nt; k++)); do
    t=${TLIST[$(((k + si) % nt))]} # the order rotates from scenario to scenario
    wait_drained
    start_target "$t"
    log "$sc through $t (:$TPORT)"
    "$TMP/loadgen" run -target-name "$t" -target "http://127.0.0.1:$TPORT" -shop-stats "http://127.0.0.1:$STATS_PORT" \
      -scenario "$sc" -proxy-pid "$TPID" -shop-pid "$SHOP_PID" -slow-log "$TMP/runs/$sc-$t.slowhttptest.txt" \
      "${LOADGEN_ARGS[@]}" -out "$TMP/runs/$sc-$t.json" || die "loadgen failed on $sc through $t"
    stop_target
  done
done
SUITE_SECS=$(($(date +%s) - SUITE_START))

# --- report ----------------------------------------------------------------------
files=()
for sc in "${SLIST[@]}"; do for t in "${TLIST[@]}"; do files+=("$TMP/runs/$sc-$t.json"); done; done
"$TMP/loadgen" report "${files[@]}" >"$TMP/table.md"
mkdir -p "$(dirname "$OUT")"
cat "${files[@]}" >"$JSONL"
{
  echo "# shopguard gateway vs nginx vs HAProxy under attack (bench/gateway/attack/run.sh)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   shopguard: $GIT_REV   suite: ${SUITE_SECS} s"
  echo "machine: nproc $(nproc); $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); $(uname -sr); loadavg before $LOADAVG_BEFORE"
  echo "go: $(go version)"
  wants nginx && echo "nginx: $("$NGINX" -v 2>&1)"
  wants haproxy && echo "haproxy: $("$HAPROXY" -v | head -1)"
  [[ " $SCENARIOS " == *" slow"* ]] && echo "slowhttptest: $("$SLOWHTTPTEST" -h 2>&1 | grep -o 'version [0-9.]*' | head -1)"
  echo "settings: DURATION=$DURATION PRE=$PRE POST=$POST USERS=$USERS THINK=$THINK FLOOD_RPS=$FLOOD_RPS DFLOOD_ADDRS=$DFLOOD_ADDRS"
  echo "          SCRAPER_RPS=$SCRAPER_RPS STUFFING_RPS=$STUFFING_RPS CARD_RPS=$CARD_RPS SLOW_CONNS=$SLOW_CONNS SLOW_RATE=$SLOW_RATE DSLOW_ADDRS=$DSLOW_ADDRS"
  echo "          SLOTS=$SLOTS SERVICE_TIME=$SERVICE_TIME"
  echo "          SCENARIOS=\"$SCENARIOS\" TARGETS=\"$TARGETS\""
  echo "Load generator, shop and proxies share the same $(nproc) cores (nothing pinned); loopback only."
  echo "Customers' figures are of the actions started during the attack window (the same window in the baseline);"
  echo "latencies are of the successful ones. Per-run JSON summaries: $(basename "$JSONL")."
  echo
  cat "$TMP/table.md"
  echo
  echo "## Commands"
  echo "shop: ${SHOP_CMD[*]}"
  for t in "${!TARGET_CMD[@]}"; do echo "$t: ${TARGET_CMD[$t]}"; done
  echo "per run: loadgen run -target-name T -target http://127.0.0.1:PORT -shop-stats http://127.0.0.1:$STATS_PORT -scenario S \\"
  echo "         -proxy-pid PID -shop-pid $SHOP_PID ${LOADGEN_ARGS[*]}"
  echo "reproduce: DURATION=$DURATION PRE=$PRE POST=$POST USERS=$USERS THINK=$THINK FLOOD_RPS=$FLOOD_RPS SCENARIOS=\"$SCENARIOS\" TARGETS=\"$TARGETS\" bench/gateway/attack/run.sh"
  echo
  echo "## Configurations"
  echo "--- $POLICY (shopguard; shopguard-ua adds under_attack: true)"; cat "$POLICY"
  wants shopguard-auto && { echo "--- policy-auto.yaml (shopguard-auto)"; cat "$TMP/policy-auto.yaml"; }
  wants nginx && { echo "--- nginx.conf"; cat "$ATTACK_DIR/nginx.conf"; }
  wants haproxy && { echo "--- haproxy.cfg"; cat "$ATTACK_DIR/haproxy.cfg"; }
} | sed -e "s|$TMP|\$WORK|g" -e "s|$REPO/||g" >"$OUT" # no machine paths in the result

echo
cat "$TMP/table.md"
echo
log "written to $OUT and $JSONL"
