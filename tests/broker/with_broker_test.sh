#!/usr/bin/env bash
# Self-test of with_broker.sh and deploy/rabbitmq: one throwaway node with the
# project's definitions imported. Checks that the command sees a reachable
# AMQP broker on 127.0.0.1 and the whole topology, that the command's exit
# status comes back, and that the node, its epmd and its directory are gone
# afterwards. Needs the rabbitmq-server package; takes about 10 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT

set +e
bash "$here/with_broker.sh" --definitions "$root/deploy/rabbitmq/definitions.json" -- bash -c '
  set -u
  echo "dir=$BOOKING_TEST_BROKER_DIR"
  echo "port=$BOOKING_TEST_AMQP_PORT"
  . "$BOOKING_TEST_BROKER_DIR/broker.env"
  echo "epmd=$EPMD_PORT"
  [ "$BOOKING_TEST_AMQP_URL" = "amqp://guest:guest@127.0.0.1:$BOOKING_TEST_AMQP_PORT/%2f" ] ||
    { echo "bad url $BOOKING_TEST_AMQP_URL"; exit 1; }
  # AMQP 0-9-1 handshake: protocol header in, connection.start (a method frame) out.
  exec 3<>"/dev/tcp/127.0.0.1/$BOOKING_TEST_AMQP_PORT" || exit 1
  printf "AMQP\000\000\011\001" >&3
  IFS= read -r -d "" -N 1 -t 5 -u 3 b || { echo "no answer to the AMQP header"; exit 1; }
  [ "$b" = $'"'"'\001'"'"' ] || { echo "not an AMQP method frame"; exit 1; }
  exec 3>&-
  # Nothing of the node listens beyond loopback.
  for p in "$BOOKING_TEST_AMQP_PORT" "$DIST_PORT" "$EPMD_PORT"; do
    hex=$(printf ":%04X" "$p")
    if awk -v p="$hex" '"'"'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p &&
        $2 !~ /^0100007F:/ && $2 !~ /^00000000000000000000000001000000:/ &&
        $2 !~ /^0000000000000000FFFF00000100007F:/ { bad = 1 } END { exit !bad }'"'"' \
        /proc/net/tcp /proc/net/tcp6; then
      echo "port $p listens beyond loopback"; exit 1
    fi
  done
  bash "'"$root"'/deploy/rabbitmq/broker.sh" ctl "$BOOKING_TEST_BROKER_DIR" -q list_queues name |
    grep -c "^booking\." | sed "s/^/queues=/"
  bash "'"$root"'/deploy/rabbitmq/broker.sh" ctl "$BOOKING_TEST_BROKER_DIR" -q list_bindings source_name routing_key |
    grep -c "^booking\." | sed "s/^/bindings=/"
  exit 7
' >"$out" 2>&1
status=$?
set -e
cat "$out"

[ "$status" = 7 ] || fail "expected the command's exit status 7, got $status"
dir=$(sed -n 's/^dir=//p' "$out")
epmd=$(sed -n 's/^epmd=//p' "$out")
[ -n "$dir" ] || fail "the command did not run"
grep -qx 'queues=18' "$out" || fail "expected 18 booking.* queues"
grep -qx 'bindings=12' "$out" || fail "expected 12 bindings from booking.* exchanges"
[ ! -e "$dir" ] || fail "$dir was not removed"
if pgrep -f -- "-home $dir " >/dev/null; then
  fail "the node of $dir is still running"
fi
hex=$(printf ':%04X' "$epmd")
if awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
  /proc/net/tcp /proc/net/tcp6; then
  fail "epmd on port $epmd is still running"
fi
echo "PASS: with_broker.sh"
