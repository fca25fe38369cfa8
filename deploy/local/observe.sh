#!/usr/bin/env bash
# Optional: Prometheus on this machine, watching the local `linli` the way a district's
# Prometheus watches the cluster. Prometheus comes from the system's packages (installed
# when missing; the package's own service is left stopped), scrapes `linli serve`'s
# admin port (and RabbitMQ's Prometheus plugin, when it is on) every 5 s, and loads the
# alerting rules of k8s/components/alerts, the same the cluster runs. Its data is
# throwaway (target/observe). Runs in the foreground; Ctrl-C stops it.
#
# See an alert fire (the runbooks are in docs/runbooks):
#   deploy/local/start.sh                      # one terminal: linli with demo data
#   deploy/local/observe.sh                    # another: http://127.0.0.1:9090/alerts
#   sudo rabbitmqctl stop_app                  # the broker goes away...
#   curl -s -XPOST localhost:8080/v1/centres/$C/residents -H "authorization: Bearer $TOKEN" \
#     -H 'content-type: application/json' \
#     -d '{"name":"张三","gender":"male","date_of_birth":"1950-03-01"}'   # C: README.md
#   # ...so the resident's event waits in the outbox: LinliOutboxStuck fires a minute on
#   curl -s http://127.0.0.1:9090/api/v1/alerts
#   sudo rabbitmqctl start_app                 # published, and the alert resolves
#
# Environment: LINLI_ADMIN (the admin address to scrape, 127.0.0.1:9000),
# OBSERVE_ADDRESS (Prometheus's own, 127.0.0.1:9090), RABBITMQ_PROMETHEUS
# (127.0.0.1:15692).

set -euo pipefail
cd "$(dirname "$0")/../.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  echo "observe: installing prometheus"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus
  # Only this script's Prometheus is wanted, not the package's service.
  as_root service prometheus stop >/dev/null 2>&1 || true
fi

admin=${LINLI_ADMIN:-127.0.0.1:9000}
address=${OBSERVE_ADDRESS:-127.0.0.1:9090}
rabbitmq=${RABBITMQ_PROMETHEUS:-127.0.0.1:15692}
dir=$PWD/target/observe
rm -rf "$dir"
mkdir -p "$dir/rules" "$dir/data"

# The rule groups of every PrometheusRule, as Prometheus reads rule files.
python3 deploy/monitoring/extract.py "$dir" k8s/components/alerts k8s/components/dashboards \
  docs/runbooks >/dev/null
promtool check rules "$dir"/rules/*.yaml >/dev/null

cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $dir/rules/*.yaml
scrape_configs:
  - job_name: linli
    static_configs:
      - targets: ['$admin']
  # Per queue, as the cluster's PodMonitor asks (nothing when the plugin is off:
  # \`sudo rabbitmq-plugins enable rabbitmq_prometheus\` turns it on).
  - job_name: rabbitmq
    metrics_path: /metrics/detailed
    params:
      family: [queue_coarse_metrics, queue_consumer_count]
    static_configs:
      - targets: ['$rabbitmq']
EOF
promtool check config "$dir/prometheus.yml" >/dev/null

echo "observe: Prometheus on http://$address (alerts: http://$address/alerts), scraping linli at $admin"
exec prometheus \
  --config.file="$dir/prometheus.yml" \
  --storage.tsdb.path="$dir/data" \
  --web.listen-address="$address" \
  --enable-feature=exemplar-storage \
  --log.level=warn
