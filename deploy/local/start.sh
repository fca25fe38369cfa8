#!/usr/bin/env bash
# Starts the whole platform on this machine with demo data: PostgreSQL and RabbitMQ (started,
# or installed, first), a build, the demo district, then `linli serve all` in the foreground.

set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/services.sh

cargo build --locked --bin linli
linli=./target/debug/linli
$linli seed demo
token=$($linli token --role district_admin --ttl 7d)
cat <<HINT

Linli is starting: gateway http://127.0.0.1:8080, admin http://127.0.0.1:9000/readyz
Staff console: http://127.0.0.1:8080/ (admin / linli-demo-2026; the seed above lists every account)
A district admin token (7 days), for example:

  export TOKEN=$token
  curl -s http://127.0.0.1:8080/v1/centres -H "authorization: Bearer \$TOKEN"

Ctrl-C stops it (requests drain, consumers stop, the outbox flushes).

HINT
exec $linli serve all
