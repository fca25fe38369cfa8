#!/bin/bash
# Usage: tests/bench/import_fanout.sh BIN PREFIX SHEET
# Runs `BIN serve all` on fresh databases and queues named by PREFIX, seeds the demo, waits
# until its events are consumed, imports SHEET (tests/bench/residents_sheet.py) into one
# centre, and prints how long the import took and how long after it every outbox was
# published and every queue empty. Then stops and drops what it made.
BIN=$1; P=$2; SHEET=$3
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres LINLI_DATABASE_PREFIX=${P}_ LINLI_BUS_PREFIX=$P LINLI_GATEWAY_PORT=18180 LINLI_REGISTRY_PORT=18181 LINLI_BOOKINGS_PORT=18182 LINLI_VOLUNTEERS_PORT=18183 LINLI_FINANCE_PORT=18184 LINLI_EVALUATION_PORT=18185 LINLI_ADMIN_PORT=19100 RUST_LOG=warn
$BIN serve all > "${TMPDIR:-/tmp}/fanout_$P.log" 2>&1 & pid=$!
for t in $(seq 1 120); do curl -sf localhost:19100/readyz >/dev/null && break; sleep 0.5; done
$BIN seed demo > /dev/null 2>&1 || echo "seed failed"
centre=$(psql -h 127.0.0.1 -U postgres -d ${P}_registry -Atc "select id from centres order by code limit 1")
# Let the demo's events settle first.
settled() {
  local backlog=0
  for s in registry bookings volunteers finance evaluation; do
    b=$(psql -h 127.0.0.1 -U postgres -d ${P}_$s -Atc "select count(*) from outbox where published_at is null"); backlog=$((backlog+b)); done
  q=$(rabbitmqctl list_queues name messages -q 2>/dev/null | awk -v p="^$P\\\\." '$1 ~ p && $1 !~ /\.dead$/ {s+=$2} END {print s+0}')
  echo $((backlog+q))
}
for t in $(seq 1 600); do [ "$(settled)" = 0 ] && break; sleep 0.5; done
t0=$(date +%s.%N)
$BIN import residents --centre $centre "$SHEET" > "${TMPDIR:-/tmp}/fanout_import_$P.txt" 2>&1
t1=$(date +%s.%N)
for t in $(seq 1 3600); do [ "$(settled)" = 0 ] && break; sleep 0.2; done
t2=$(date +%s.%N)
inbox=$(psql -h 127.0.0.1 -U postgres -d ${P}_registry -Atc "select count(*) from inbox")
echo "$P: import $(echo "$t1-$t0"|bc) s, every event consumed $(echo "$t2-$t1"|bc) s after it, registry inbox rows $inbox"
kill -INT $pid; wait $pid
for s in registry bookings volunteers finance evaluation; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"${P}_$s\" WITH (FORCE)"; done
for q in $(rabbitmqctl list_queues name -q 2>/dev/null | grep "^$P\."); do rabbitmqctl delete_queue "$q" >/dev/null 2>&1; done
