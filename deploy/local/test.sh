#!/usr/bin/env bash
# Runs every test: unit tests, and the integration and end-to-end suites against the real
# PostgreSQL and RabbitMQ (started, or installed, first). Each test makes databases and
# broker names of its own; this removes any a crashed earlier run left behind.

set -euo pipefail
cd "$(dirname "$0")/../.."

# The Kubernetes manifests first: every overlay renders and validates, offline (it prints
# its own `k8s: N passed, M failed` line). A failure fails this script, after the rest.
set +e
deploy/k8s-check.sh
k8s_status=$?
# The alerting rules and dashboards, offline, with promtool (installed when missing): the
# rules parse, their unit tests pass, every alert has a runbook, every panel's query
# parses (prints `monitoring: N checks passed, M failed`).
deploy/monitoring-check.sh
monitoring_status=$?
set -e
# The Rust test that reads the rendered overlays uses the same kubectl.
export LINLI_KUBECTL="$PWD/target/k8s-tools/kubectl"

source deploy/local/services.sh

# The console's browser tests drive Debian's headless Chromium through chromedriver; a CJK
# font makes their screenshots legible, chromium-l10n makes it speak Chinese.
browser_missing=()
command -v chromium >/dev/null 2>&1 || browser_missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || browser_missing+=(chromium-driver)
fc-list 2>/dev/null | grep -qiE 'cjk|wqy|zenhei' || browser_missing+=(fonts-wqy-zenhei)
# Without its zh-CN locale Chromium falls back to English: a date input reads 12/06/2026.
[ -e /usr/lib/chromium/locales/zh-CN.pak ] || browser_missing+=(chromium-l10n)
if [ "${#browser_missing[@]}" -gt 0 ]; then
  echo "linli: installing ${browser_missing[*]} for the console's browser tests"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${browser_missing[@]}"
fi

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

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# The fault suite runs `linli serve <role>` as separate processes to kill them.
cargo build --locked --bin linli 2>&1 | tee "$log" &&
  cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
if [ "$status" -eq 0 ] && [ "$k8s_status" -ne 0 ]; then
  status=$k8s_status
fi
if [ "$status" -eq 0 ] && [ "$monitoring_status" -ne 0 ]; then
  status=$monitoring_status
fi
exit "$status"
