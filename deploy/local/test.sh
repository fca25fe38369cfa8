#!/usr/bin/env bash
# Runs every test: unit tests, and the integration and end-to-end suites against the real
# PostgreSQL and RabbitMQ (started, or installed, first). Each test makes databases and
# broker names of its own; this removes any a crashed earlier run left behind.

set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/services.sh

# Leftovers of test processes that no longer run: linli_t<pid>x… databases, linli-t<pid>x… queues.
for db in $(psql "$DATABASE_URL" -Atqc "SELECT datname FROM pg_database WHERE datname ~ '^linli_t[0-9]+x'"); do
  pid=${db#linli_t}; pid=${pid%%x*}
  kill -0 "$pid" 2>/dev/null || psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
done
if command -v rabbitmqctl >/dev/null 2>&1; then
  for queue in $(rabbitmqctl -q list_queues name 2>/dev/null | grep -E '^linli-t[0-9]+x' || true); do
    pid=${queue#linli-t}; pid=${pid%%x*}
    kill -0 "$pid" 2>/dev/null || rabbitmqctl -q delete_queue "$queue" >/dev/null 2>&1 || true
  done
fi

cargo test --workspace --locked "$@"
