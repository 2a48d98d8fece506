#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts a local RabbitMQ node
# (data under data/rabbitmq, port 5672 on 127.0.0.1) and runs booking-server
# with the default config (config/booking.ini) against it until Ctrl-C; then
# stops the node. Arguments are passed to booking-server, e.g.
# `deploy/start.sh --demo 200`.
#
# Environment:
#   BOOKING_AMQP_URL   use this broker instead of starting one
#   BOOKING_NO_BROKER  set to 1 to run fully in-process, without a broker
#   BROKER_PORT        port of the local node (default 5672)
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
demo=0
for arg in "$@"; do
  case "$arg" in --demo | --demo=*) demo=1 ;; esac
done
if [ "$demo" = 0 ] && [ -z "${BOOKING_AMQP_URL:-}" ] \
  && [ "${BOOKING_NO_BROKER:-0}" != 1 ]; then
  port="${BROKER_PORT:-5672}"
  bash deploy/rabbitmq/broker.sh start data/rabbitmq "$port"
  trap 'bash deploy/rabbitmq/broker.sh stop data/rabbitmq' EXIT
  export BOOKING_AMQP_URL="amqp://guest:guest@127.0.0.1:${port}/%2f"
fi
# Not exec: the trap stops the broker once the server has exited.
./build/config/booking-server "$@"
