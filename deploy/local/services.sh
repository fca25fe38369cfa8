#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ are installed and running on this machine, installing
# them from the system's packages when missing. Sourced by start.sh and test.sh; exports
# DATABASE_URL when the local PostgreSQL needs a password rather than trust.

set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "linli: $what did not come up" >&2; return 1; fi
    sleep 1
  done
}

missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "linli: installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if ! port_open 5432; then
  echo "linli: starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root service postgresql start
fi
wait_for 60 PostgreSQL port_open 5432

if ! port_open 5672; then
  echo "linli: starting RabbitMQ"
  # With as many descriptors as the system allows it: `su` gives the rabbitmq user a soft
  # limit of 1,024, which a run of the suites (each test's connections and quorum queues)
  # can exhaust, and a broker out of descriptors stops accepting and closing connections.
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && id rabbitmq >/dev/null 2>&1; then
    as_root su rabbitmq -s /bin/sh -c \
      'ulimit -n "$(ulimit -Hn)"; cd /var/lib/rabbitmq && exec /usr/lib/rabbitmq/bin/rabbitmq-server -detached'
  else
    as_root rabbitmq-server -detached || as_root service rabbitmq-server start
  fi
fi
wait_for 120 RabbitMQ port_open 5672

# A fresh install asks for a password on TCP; give Linli a role of its own then.
if [ -z "${DATABASE_URL:-}" ]; then
  if psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    as_postgres psql -q -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'linli') THEN
          CREATE ROLE linli LOGIN CREATEDB PASSWORD 'linli';
        END IF; END \$\$;" >/dev/null
    export DATABASE_URL="postgres://linli:linli@127.0.0.1:5432/postgres"
  fi
fi
