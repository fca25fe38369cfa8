#!/usr/bin/env bash
# Checks the monitoring offline, with promtool (Debian's `prometheus` package ships it;
# installed from the system's packages when missing, and its server left stopped):
#
# - every PrometheusRule in k8s/components/alerts parses (`promtool check rules`), and
#   every alert has a summary, a description, a runbook_url and a runbook in
#   docs/runbooks/<alert>.md;
# - the rules' unit tests in k8s/components/alerts/tests pass (`promtool test rules`):
#   each alert has a series that fires it and one that does not;
# - every Grafana dashboard in k8s/components/dashboards has its panels' PromQL parse
#   (the expressions become recording rules, which `promtool check rules` parses).
#
# Closes with one line, `monitoring: N checks passed, M failed`, and exits non-zero on
# any failure. Environment: PROMTOOL (a promtool to use).

set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

promtool=${PROMTOOL:-}
if [ -z "$promtool" ]; then
  if ! command -v promtool >/dev/null 2>&1; then
    echo "monitoring-check: installing prometheus (for promtool)"
    as_root apt-get update -q
    # The package starts its server where an init system does; promtool is all this needs.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus
    as_root service prometheus stop >/dev/null 2>&1 || true
  fi
  promtool=$(command -v promtool)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >"$work/out" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $what: $(grep -v '^\s*$' "$work/out" | tail -n 1 | sed 's/^ *//')"
  else
    failed=$((failed + 1))
    echo "FAIL $what:"
    sed 's/^/  /' "$work/out"
  fi
}

# The rule groups of every PrometheusRule, as promtool reads them, under the manifest's
# own file name (the unit tests name those files); the dashboards' expressions as
# recording rules; and the alerts' annotations and runbooks.
python3 deploy/monitoring/extract.py "$work" k8s/components/alerts k8s/components/dashboards \
  docs/runbooks >"$work/extract.out" 2>&1 || {
  failed=$((failed + 1))
  echo "FAIL extracting rules and dashboards:"
  sed 's/^/  /' "$work/extract.out"
}
cat "$work/extract.out"

for rules in "$work"/rules/*.yaml; do
  [ -e "$rules" ] || continue
  check "rules $(basename "$rules")" "$promtool" check rules "$rules"
done
cp k8s/components/alerts/tests/*.test.yaml "$work/rules/"
for tests in "$work"/rules/*.test.yaml; do
  check "rule tests $(basename "$tests")" "$promtool" test rules "$tests"
done
for panels in "$work"/dashboards/*.yaml; do
  [ -e "$panels" ] || continue
  check "dashboard $(basename "$panels" .yaml)" "$promtool" check rules "$panels"
done

echo "monitoring: $passed checks passed, $failed failed"
[ "$failed" -eq 0 ]
