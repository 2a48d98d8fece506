#!/usr/bin/env bash
# Runs a command against a throwaway RabbitMQ node:
#
#   tests/broker/with_broker.sh [--tls] [--definitions FILE] -- COMMAND ARGS...
#
# Picks a free 127.0.0.1 port, starts a node in a fresh temporary directory
# with deploy/rabbitmq/broker.sh, runs COMMAND with
#
#   BOOKING_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:PORT/%2f
#   BOOKING_TEST_AMQP_PORT=PORT
#   BOOKING_TEST_BROKER_DIR=DIR   (for `broker.sh ctl "$BOOKING_TEST_BROKER_DIR" ...`)
#
# in its environment, and always stops the node and removes the directory
# afterwards: on exit, Ctrl-C or TERM (passed on to COMMAND) by a trap, and
# by a watchdog if this script is SIGKILLed (e.g. a test driver's timeout).
# Exits with COMMAND's status; 125 if no broker could be started.
#
# --tls also gives the node a TLS listener on another free port, with a CA,
# a server certificate for `localhost` and a client certificate made by
# openssl for this run, and exports
#
#   BOOKING_TEST_AMQPS_URL=amqps://guest:guest@localhost:TLSPORT/%2f
#   BOOKING_TEST_TLS_DIR=DIR/tls-test  (ca.pem, client.pem, client.key, and
#                                       other-ca.pem: a CA that signed nothing)
#
# --definitions FILE imports a definitions file once the node is up (for
# instance deploy/rabbitmq/definitions.json); by default the node is empty.
# A failed start is retried twice on other ports (another process may have
# taken one meanwhile).
# BROKER_START_TIMEOUT (seconds, default 60) bounds each start.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
broker="$here/../../deploy/rabbitmq/broker.sh"

definitions=""
tls=""
while [ $# -gt 0 ]; do
  case $1 in
    --definitions)
      [ $# -ge 2 ] || { echo "with_broker.sh: --definitions needs a file" >&2; exit 125; }
      definitions=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
      [ -r "$definitions" ] || { echo "with_broker.sh: cannot read $2" >&2; exit 125; }
      shift 2
      ;;
    --tls) tls=1; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: with_broker.sh [--tls] [--definitions FILE] -- COMMAND ARGS..." >&2
  exit 125
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-broker.XXXXXX") || exit 125
chmod 755 "$dir" # the node may run as another user (rabbitmq) when we are root

watchdog=""
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  [ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null
  if [ -f "$dir/broker.env" ]; then
    bash "$broker" stop "$dir" >/dev/null 2>&1 ||
      echo "with_broker.sh: could not stop the broker in $dir" >&2
  fi
  rm -rf "$dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Is something using TCP port $1 (any state)?
port_in_use() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v p="$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# If this script is killed outright (SIGKILL, e.g. by a test driver's timeout),
# the trap cannot run; a watchdog in its own session then stops the node and
# removes the directory once this shell is gone.
# shellcheck disable=SC2016 # expanded by the watchdog's shell
setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
  bash "$2" stop "$3" >/dev/null 2>&1; rm -rf "$3"' with_broker-watchdog "$$" "$broker" "$dir" \
  </dev/null >/dev/null 2>&1 &
watchdog=$!

# A CA, a server certificate for localhost and a client certificate, all
# short-lived and made for this run only (EC keys: quick to make).
make_certificates() {
  local d=$1 ext
  mkdir -p "$d"
  ext="$d/ext.cnf"
  key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1"; }
  ca() {
    key "$d/$1.key"
    openssl req -x509 -new -key "$d/$1.key" -out "$d/$1.pem" -days 2 -subj "/CN=$2"
  }
  signed() { # NAME CN EXTENSIONS
    key "$d/$1.key"
    openssl req -new -key "$d/$1.key" -out "$d/$1.csr" -subj "/CN=$2"
    printf '%s\n' "$3" >"$ext"
    openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
      -CAcreateserial -out "$d/$1.pem" -days 2 -extfile "$ext"
  }
  {
    ca ca "booking test CA" &&
      ca other-ca "booking test CA that signed nothing" &&
      signed server localhost $'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth' &&
      signed client booking-engine 'extendedKeyUsage=clientAuth'
  } >"$d/openssl.out" 2>&1 || {
    cat "$d/openssl.out" >&2
    return 1
  }
  chmod 644 "$d"/*.key # the node may run as another user
}

if [ -n "$tls" ]; then
  command -v openssl >/dev/null || { echo "with_broker.sh: --tls needs openssl" >&2; exit 125; }
  make_certificates "$dir/tls-test" || { echo "with_broker.sh: could not make certificates" >&2; exit 125; }
  export BROKER_TLS_DIR="$dir/tls-test"
fi

# Ports 20000-32767: below Linux's ephemeral range (32768-60999), so outgoing
# connections do not take them meanwhile.
port=""
for attempt in 1 2 3; do
  for _ in $(seq 100); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
    if ! port_in_use "$p"; then
      port=$p
      break
    fi
  done
  [ -n "$port" ] || { echo "with_broker.sh: no free port" >&2; exit 125; }
  if [ -n "$tls" ]; then
    BROKER_TLS_PORT=""
    for _ in $(seq 100); do
      p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
      if [ "$p" != "$port" ] && ! port_in_use "$p"; then
        BROKER_TLS_PORT=$p
        break
      fi
    done
    [ -n "$BROKER_TLS_PORT" ] || { echo "with_broker.sh: no free port for TLS" >&2; exit 125; }
    export BROKER_TLS_PORT
  fi
  if BROKER_DEFINITIONS="$definitions" bash "$broker" start "$dir" "$port" >"$dir/start.out" 2>&1; then
    break
  fi
  echo "with_broker.sh: broker start on port $port failed (attempt $attempt):" >&2
  cat "$dir/start.out" >&2
  bash "$broker" stop "$dir" >/dev/null 2>&1
  # Another process may have taken one of the ports meanwhile: try others,
  # unless RabbitMQ is not even installed.
  if [ "$attempt" = 3 ] || grep -q 'rabbitmq-server not found' "$dir/start.out"; then
    exit 125
  fi
  find "$dir" -mindepth 1 -maxdepth 1 ! -name tls-test -exec rm -rf {} +
  port=""
done

export BOOKING_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$port/%2f"
export BOOKING_TEST_AMQP_PORT=$port
export BOOKING_TEST_BROKER_DIR=$dir
if [ -n "$tls" ]; then
  export BOOKING_TEST_AMQPS_URL="amqps://guest:guest@localhost:$BROKER_TLS_PORT/%2f"
  export BOOKING_TEST_TLS_DIR="$dir/tls-test"
fi

# Run the command as a child (not exec) so that cleanup runs after it, and
# in the background so that a TERM/INT to this script is handled at once
# (and passed on) rather than after the command ends. Its stdin stays ours.
"$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 130' INT
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 129' HUP
wait "$child"
exit $?
