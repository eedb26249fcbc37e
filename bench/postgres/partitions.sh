#!/usr/bin/env bash
# partitions.sh: how the PostgreSQL event tables behave when large.
#
# Makes a fresh schema with shopguard's own migrations (`shopguard migrate`),
# fills it with EVENTS events spread over MONTHS months (monthly partitions,
# as the event writer makes them; 20 tenants, transactions and logins,
# ~1 KB of payload, features and assessment each), then times the queries
# the dashboard, backtests and lookups run, as shopguard runs them
# (EXPLAIN ANALYZE, median of RUNS), and records the event partitions each query read.
#
# Settings: PG_URL (a database you may create schemas in; default the local
# test database), EVENTS=3000000 MONTHS=3 RUNS=5 KEEP=0 (1: keep the schema)
# Result: bench/results/postgres-partitions-<date>.json
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
EVENTS=${EVENTS:-3000000}
MONTHS=${MONTHS:-3}
RUNS=${RUNS:-5}
KEEP=${KEEP:-0}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$BENCH_DIR/results/postgres-partitions-$STAMP.json}
SCHEMA=sgpart_$(date +%s)
for tool in go psql jq; do command -v $tool >/dev/null || { echo "partitions.sh: $tool is required" >&2; exit 2; }; done
sep='?'; [[ $PG_URL == *\?* ]] && sep='&'
URL="$PG_URL${sep}options=-c%20search_path%3D$SCHEMA"
log() { printf '[partitions %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
q() { psql "$URL" -v ON_ERROR_STOP=1 -Atq "$@"; }

psql "$PG_URL" -qc "CREATE SCHEMA $SCHEMA"
cleanup() { [[ $KEEP == 1 ]] || psql "$PG_URL" -qc "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
while read -r v; do unset "$v"; done < <(compgen -e | grep '^SHOPGUARD_' || true)
(cd "$REPO" && SHOPGUARD_STORAGE_DRIVER=postgres SHOPGUARD_STORAGE_URL="$URL" go run ./cmd/shopguard migrate) >&2

# The months end with the current one; partitions named as the writer names them.
START=$(q -c "SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '$((MONTHS - 1)) months')::timestamp")
q -c "DO \$\$ DECLARE m timestamp; BEGIN
  FOR i IN 0..$((MONTHS - 1)) LOOP
    m := '$START'::timestamp + make_interval(months => i);
    EXECUTE format('CREATE TABLE events_p%s PARTITION OF events FOR VALUES FROM (%s) TO (%s)', to_char(m, 'YYYYMM'),
      (extract(epoch FROM m) * 1000000)::bigint, (extract(epoch FROM m + interval '1 month') * 1000000)::bigint);
  END LOOP; END \$\$"
FROM_US=$(q -c "SELECT (extract(epoch FROM '$START'::timestamp) * 1000000)::bigint")
TO_US=$(q -c "SELECT (extract(epoch FROM '$START'::timestamp + interval '$MONTHS months') * 1000000)::bigint")

log "inserting $EVENTS events over $MONTHS months into $SCHEMA"
t0=$(date +%s.%N)
q <<SQL
INSERT INTO event_ids (tenant, id, kind, external_id, seq, occurred_at)
SELECT 'shop' || (g % 20), 'ev_' || g, CASE WHEN g % 4 = 0 THEN 'login' ELSE 'transaction' END, 'ord_' || g, g,
       $FROM_US + ((g - 1)::numeric * ($TO_US - $FROM_US) / $EVENTS)::bigint
FROM generate_series(1, $EVENTS) g;
INSERT INTO events (seq, tenant, id, kind, external_id, occurred_at, received_at, amount_minor, currency, score, action,
                    rules_version, model_version, latency_us, assessment, payload, env)
SELECT k.seq, k.tenant, k.id, k.kind, k.external_id, k.occurred_at, k.occurred_at + 1500, (k.seq * 7919) % 50000, 'EUR',
       (k.seq * 31) % 100, CASE WHEN k.seq % 50 = 5 THEN 'review' WHEN k.seq % 97 = 0 THEN 'block' ELSE 'allow' END,
       3, 'gbdt-20261101', 850,
       '{"score":' || (k.seq * 31) % 100 || ',"action":"allow","reasons":[{"code":"velocity","message":"3 orders in 1h","weight":12}],"rules_version":3,"model_version":"gbdt-20261101"}',
       convert_to('{"id":"' || k.external_id || '","amount_minor":' || (k.seq * 7919) % 50000 || ',"currency":"EUR","ip":"203.0.' || (k.seq % 256) || '.' || (k.seq * 7 % 256) || '","user":{"id":"u' || (k.seq % 200000) || '","email":"customer' || (k.seq % 200000) || '@example.com"},"device_id":"d' || (k.seq % 150000) || '","payment":{"method":"card","bin":"424242","last4":"4242","card_country":"DE","card_fingerprint":"fp' || (k.seq % 180000) || '"},"items":[{"sku":"sku' || (k.seq % 900) || '","name":"Running shoes","price_minor":4999,"quantity":1}]}', 'UTF8'),
       convert_to('{"amount_minor":' || (k.seq * 7919) % 50000 || ',"features":{"card":{"count_1h":' || (k.seq % 5) || ',"count_24h":' || (k.seq % 11) || ',"sum_24h":' || (k.seq % 90000) || '},"user":{"count_1h":1,"account_age_days":' || (k.seq % 900) || '},"ip":{"count_1h":' || (k.seq % 3) || ',"distinct_cards_24h":1},"device":{"distinct_users_7d":1}}}', 'UTF8')
FROM event_ids k;
SELECT setval('event_seq', $EVENTS);
INSERT INTO event_minutes (tenant, minute, kind, action, currency, count, amount_minor)
SELECT tenant, received_at / 60000000, kind, action, currency, count(*), sum(amount_minor) FROM events GROUP BY 1, 2, 3, 4, 5;
INSERT INTO labels (tenant, event_id, label, source, note, occurred_at, created_at)
SELECT tenant, id, CASE WHEN seq % 2 = 0 THEN 'fraud' ELSE 'legit' END, 'bench', '', occurred_at, occurred_at FROM events WHERE seq % 100 = 3;
ANALYZE;
SQL
LOAD_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
SIZE=$(q -c "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = '$SCHEMA' AND c.relkind IN ('r', 'p')")
log "loaded in ${LOAD_S}s, $SIZE"

# The middle month's first day, for one-day and one-week windows.
DAY_US=$(q -c "SELECT (extract(epoch FROM '$START'::timestamp + interval '$((MONTHS / 2)) months' + interval '14 days') * 1000000)::bigint")
D=86400000000
MAXSEQ=$EVENTS
# name|query, as shopguard's code writes them (literal values instead of parameters).
QUERIES=$(cat <<SQL
event by id|SELECT e.seq, e.payload FROM event_ids k JOIN events e ON e.occurred_at = k.occurred_at AND e.seq = k.seq WHERE k.tenant = 'shop7' AND k.id = 'ev_$((EVENTS / 2 + 7))'
event by order id|SELECT e.seq FROM event_ids k JOIN events e ON e.occurred_at = k.occurred_at AND e.seq = k.seq WHERE k.tenant = 'shop7' AND k.kind = 'transaction' AND k.external_id = 'ord_$((EVENTS / 2 + 7))'
backtest scan, one tenant, 1 day|SELECT e.seq, e.payload, e.env FROM events e WHERE e.tenant = 'shop3' AND e.kind = 'transaction' AND e.occurred_at >= $DAY_US AND e.occurred_at < $((DAY_US + D)) ORDER BY e.occurred_at, e.seq
backtest scan, one tenant, 7 days|SELECT e.seq, e.payload, e.env FROM events e WHERE e.tenant = 'shop3' AND e.kind = 'transaction' AND e.occurred_at >= $DAY_US AND e.occurred_at < $((DAY_US + 7 * D)) ORDER BY e.occurred_at, e.seq
backtest labels, one tenant, 7 days|SELECT l.id, l.event_id, l.label FROM labels l JOIN (SELECT e.id FROM events e WHERE e.tenant = 'shop3' AND e.kind = 'transaction' AND e.occurred_at >= $DAY_US AND e.occurred_at < $((DAY_US + 7 * D)) ORDER BY e.occurred_at, e.seq) m ON l.event_id = m.id WHERE l.tenant = 'shop3' ORDER BY l.id
dashboard newest 50|SELECT e.seq, e.payload FROM events e WHERE e.tenant = 'shop5' ORDER BY e.seq DESC LIMIT 50
dashboard page 200 deep|SELECT e.seq FROM events e WHERE e.tenant = 'shop5' AND e.seq < $((MAXSEQ - 200 * 50 * 20)) ORDER BY e.seq DESC LIMIT 50
review queue newest 50|SELECT e.seq FROM events e WHERE e.tenant = 'shop5' AND e.action = 'review' ORDER BY e.seq DESC LIMIT 50
entity search (text in payload, newest 100000 events)|SELECT e.seq FROM events e WHERE e.tenant = 'shop0' AND e.seq > $((MAXSEQ - 100000)) AND position(convert_to('"customer195000@example.com"', 'UTF8') in e.payload) > 0 ORDER BY e.seq DESC LIMIT 50
minute stats, one tenant, 24 h|SELECT minute, kind, action, currency, count, amount_minor FROM event_minutes WHERE tenant = 'shop5' AND minute >= $((DAY_US / 60000000)) AND minute < $(((DAY_US + D) / 60000000)) ORDER BY minute
replay after seq (last 10000)|SELECT e.seq, e.payload FROM events e WHERE e.seq > $((MAXSEQ - 10000)) ORDER BY e.seq
max seq|SELECT MAX(seq) FROM events
SQL
)
results='[]'
while IFS='|' read -r name sql; do
  [[ -z $name ]] && continue
  times=() rows=0 parts=0
  for _ in $(seq "$RUNS"); do
    plan=$(q -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) $sql")
    times+=("$(jq '.[0]["Planning Time"] + .[0]["Execution Time"]' <<<"$plan")")
    rows=$(jq '.[0].Plan["Actual Rows"]' <<<"$plan")
    parts=$(jq '[.. | objects | select(has("Relation Name") and (."Actual Loops" // 0) > 0) | ."Relation Name" | select(startswith("events_p"))] | unique | length' <<<"$plan")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  log "$(printf '%-55s %9.2f ms  %7s rows  %s partition(s)' "$name" "$median" "$rows" "$parts")"
  results=$(jq --arg n "$name" --arg q "$sql" --argjson ms "$median" --argjson rows "$rows" --argjson parts "$parts" \
    '. + [{query: $n, median_ms: $ms, rows: $rows, event_partitions_read: $parts, sql: $q}]' <<<"$results")
done <<<"$QUERIES"

mkdir -p "$(dirname "$OUT")"
jq -n --argjson r "$results" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson events "$EVENTS" --argjson months "$MONTHS" \
  --argjson runs "$RUNS" --arg load "$LOAD_S" --arg size "$SIZE" --arg pg "$(q -c 'SHOW server_version')" \
  --arg cpu "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)" --argjson nproc "$(nproc)" \
  --arg rev "$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
  '{benchmark: "postgres-event-partitions", date: $date, git_rev: $rev, postgres: $pg, machine: {cpu_model: $cpu, nproc: $nproc},
    events: $events, months: $months, tenants: 20, runs_per_query: $runs, load_seconds: ($load | tonumber), size: $size, queries: $r}' >"$OUT"
log "results: $OUT"
