#!/usr/bin/env bash
# Black-box checks of booking-server's command line: exit codes, messages that
# name the key, --help, --demo, one log line per booking request (with its
# correlation id, never the payment token), a clean stop on SIGTERM, and a
# store that cannot write (503, /readyz down, nothing accepted lost).
# Usage: cli_test.sh PATH/TO/booking-server   (run from the source root)
set -u
server=$1
failures=0
passes=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, condition result
  if [ "$2" = 0 ]; then
    passes=$((passes + 1))
    echo "ok   $1"
  else
    failures=$((failures + 1))
    echo "FAIL $1"
  fi
}

expect_exit() { # name, expected code, expected stderr text, args...
  local name=$1 code=$2 text=$3
  shift 3
  local start end rc
  start=$(date +%s%N)
  "$server" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  end=$(date +%s%N)
  [ "$rc" = "$code" ]
  check "$name: exit $code (got $rc)" $?
  grep -qF -- "$text" "$tmp/err" "$tmp/out"
  check "$name: says '$text'" $?
  [ $(((end - start) / 1000000)) -lt 1000 ]
  check "$name: within a second" $?
}

expect_exit "bad port" 2 'http.port: expected an integer in 0..65535, got "abc"' \
  --http.port=abc
expect_exit "rate out of range" 2 "faults.payment-decline-rate" \
  --faults.payment-decline-rate=1.5
expect_exit "unknown option" 2 "nope" --nope=1
expect_exit "zero workers" 2 "workers.payment" --workers.payment=0

printf '[saga]\npayment-timeout=-3s\n' >"$tmp/bad.ini"
expect_exit "bad INI value" 2 "saga.payment-timeout" --config="$tmp/bad.ini"
printf '[workers]\npaymnet=3\n' >"$tmp/typo.ini"
expect_exit "INI typo" 2 "workers.paymnet" --config "$tmp/typo.ini"
expect_exit "missing config file" 2 "config" --config="$tmp/none.ini"

"$server" --help >"$tmp/help" 2>&1
check "--help exits 0" $?
for key in scheduler.max-threads workers.payment workers.notification \
  workers.inventory-shards saga.payment-timeout saga.max-in-flight \
  faults.payment-timeout-rate faults.seed http.port amqp.url store.path; do
  grep -qF -- "--$key" "$tmp/help"
  check "--help lists --$key" $?
done

"$server" --demo 150 >"$tmp/demo" 2>"$tmp/demo.err"
check "--demo 150 exits 0" $?
grep -q "All invariants hold" "$tmp/demo"
check "--demo prints the invariant check" $?
grep -q "^confirmed" "$tmp/demo"
check "--demo confirms bookings" $?

printf '[{"id": "Bad Id"}]' >"$tmp/bad-tours.json"
expect_exit "invalid tours file" 2 "tours: $tmp/bad-tours.json" \
  --http.port=0 --tours="$tmp/bad-tours.json"
expect_exit "missing tours file" 2 "tours: cannot read" \
  --http.port=0 --tours="$tmp/none.json"

"$server" --http.port=0 --store.path="$tmp/booking.db" >"$tmp/srv.out" 2>"$tmp/srv.err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '"listening"' "$tmp/srv.err" && break
  sleep 0.1
done
grep -q '"engine started"' "$tmp/srv.err"
check "server logs that it started" $?
head -n 1 "$tmp/srv.err" | grep -q '^{"level":"info","time":"[0-9T:.-]*Z","message":'
check "logs are JSON lines" $?
port=$(sed -n 's/.*"message":"listening".*"port":\([0-9][0-9]*\).*/\1/p' \
  "$tmp/srv.err")
[ -n "$port" ] && [ "$port" != 0 ]
check "--http.port=0 logs the chosen port as a number ($port)" $?
code=$(curl -s -o "$tmp/tours" -w '%{http_code}' \
  "http://127.0.0.1:${port:-1}/api/v1/tours")
[ "$code" = 200 ] && grep -q '"lisbon-food"' "$tmp/tours"
check "serves the tours of config/tours.json" $?

log_has() { # file, fixed strings that one line must all contain
  local lines part
  lines=$(grep -F -- "$2" "$1") || return 1
  for part in "${@:3}"; do
    lines=$(printf '%s\n' "$lines" | grep -F -- "$part") || return 1
  done
}

wait_log() { # like log_has, for up to a second (info lines come in batches)
  for _ in $(seq 1 50); do
    log_has "$@" && return 0
    sleep 0.02
  done
  return 1
}

curl -s -o /dev/null -H 'X-Request-Id: rid-cli-415' \
  -H 'Content-Type: text/plain' -d x \
  "http://127.0.0.1:${port:-1}/api/v1/bookings"
wait_log "$tmp/srv.err" '"correlation_id":"rid-cli-415"' '"status":415' \
  '"message":"booking request"'
check "a refused booking request logs its correlation id and 415" $?
secret=tok_secret_123
code=$(curl -s -o "$tmp/booked" -w '%{http_code}' \
  -H 'X-Request-Id: rid-cli-ok' -H 'Content-Type: application/json' \
  -d '{"tour_id": "lisbon-food", "date": "2026-12-01", "seats": 1,
       "customer": {"name": "Cli Test", "email": "cli@example.com"},
       "payment": {"token": "'"$secret"'"}}' \
  "http://127.0.0.1:${port:-1}/api/v1/bookings")
[ "$code" = 202 ]
check "a valid booking request is accepted ($code)" $?
wait_log "$tmp/srv.err" '"correlation_id":"rid-cli-ok"' '"status":202' \
  '"message":"booking request"'
check "an accepted booking request logs its correlation id and 202" $?

"$server" --http.port="${port:-1}" --store.path=:memory: >"$tmp/busy.out" 2>"$tmp/busy.err" </dev/null
rc=$?
[ "$rc" != 0 ] && grep -q '"cannot listen"' "$tmp/busy.err"
check "a port in use fails with a clear message (exit $rc)" $?
kill -TERM "$pid"
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
wait "$pid"
check "SIGTERM stops the server with exit 0" $?

grep -q '"correlation_id":"rid-cli-ok"' "$tmp/srv.err" &&
  ! grep -qF "$secret" "$tmp/srv.err" "$tmp/srv.out"
check "no log line holds the payment token" $?

start_server() { # name, args...: sets srv_pid and srv_port
  local name=$1
  shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
  srv_pid=$!
  for _ in $(seq 1 100); do
    grep -q '"listening"' "$tmp/$name.err" && break
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.1
  done
  srv_port=$(sed -n 's/.*"message":"listening".*"port":\([0-9][0-9]*\).*/\1/p' \
    "$tmp/$name.err")
}

# A bare number of a duration counts seconds: a silent connection is closed
# after --http.read-timeout=2.
start_server rt "$server" --http.port=0 --http.read-timeout=2 \
  --store.path=:memory:
rt_pid=$srv_pid
rt_port=$srv_port
[ -n "$rt_port" ]
check "--http.read-timeout=2 is accepted" $?
if [ -n "$rt_port" ] && exec 3<>"/dev/tcp/127.0.0.1/$rt_port"; then
  start=$(date +%s%N)
  timeout 10 cat <&3 >/dev/null
  end=$(date +%s%N)
  exec 3<&-
  ms=$(((end - start) / 1000000))
  [ "$ms" -ge 1500 ] && [ "$ms" -lt 4000 ]
  check "a silent connection is closed after 2 s (${ms} ms)" $?
else
  check "a silent connection is closed after 2 s (no connection)" 1
fi
kill -TERM "$rt_pid" 2>/dev/null
wait "$rt_pid"
check "SIGTERM stops that server with exit 0" $?

# A store that cannot write (here: a file size limit, like a full disk) turns
# /readyz to 503 and refuses bookings with 503; what was accepted before is
# on disk and comes back after a restart.
# Ignored signals stay ignored across exec: a write past the limit fails with
# EFBIG instead of killing the process.
start_server full bash -c 'trap "" XFSZ; ulimit -f 1024; exec "$@"' limited \
  "$server" --http.port=0 --store.path="$tmp/full.db"
accepted=()
refused=0
for i in $(seq 1 300); do
  code=$(curl -s -o "$tmp/full.body" -w '%{http_code}' \
    -H 'Content-Type: application/json' \
    -d '{"tour_id": "lisbon-food", "date": "2026-12-02", "seats": 1,
         "customer": {"name": "Full Disk", "email": "full'"$i"'@example.com"},
         "payment": {"token": "tok_ok"}}' \
    "http://127.0.0.1:${srv_port:-1}/api/v1/bookings")
  if [ "$code" = 202 ]; then
    accepted+=("$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$tmp/full.body")")
  elif [ "$code" = 503 ]; then
    refused=1
    break
  fi
done
[ "$refused" = 1 ] && grep -q 'store-unavailable' "$tmp/full.body"
check "a store that cannot write refuses bookings with 503 (after ${#accepted[@]})" $?
code=$(curl -s -o "$tmp/full.ready" -w '%{http_code}' \
  "http://127.0.0.1:${srv_port:-1}/readyz")
[ "$code" = 503 ] && grep -q '"store":"down"' "$tmp/full.ready"
check "/readyz is 503 with the store down ($code)" $?
grep -q '"store write failed' "$tmp/full.err"
check "the failed write is logged" $?
curl -s "http://127.0.0.1:${srv_port:-1}/metrics" | grep -q '^booking_store_up 0$'
check "/metrics says the store is down" $?
kill -KILL "$srv_pid" 2>/dev/null
wait "$srv_pid" 2>/dev/null
start_server back "$server" --http.port=0 --store.path="$tmp/full.db"
missing=0
for id in "${accepted[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:${srv_port:-1}/api/v1/bookings/$id")
  [ "$code" = 200 ] || missing=$((missing + 1))
done
[ "${#accepted[@]}" -gt 0 ] && [ "$missing" = 0 ]
check "every booking accepted before the failure is there after a restart ($missing missing)" $?
curl -s "http://127.0.0.1:${srv_port:-1}/metrics" >"$tmp/back.metrics"
grep -q '^booking_store_up 1$' "$tmp/back.metrics" &&
  grep -q '^booking_store_commits_total [1-9]' "$tmp/back.metrics"
check "/metrics counts the restarted store's commits" $?
kill -TERM "$srv_pid" 2>/dev/null
wait "$srv_pid"
check "SIGTERM stops the restarted server with exit 0" $?

# The store refuses files it must not write, naming the path and the cause.
head -c 8192 /dev/urandom >"$tmp/garbage.db"
expect_exit "garbage store file" 1 "not a database" \
  --http.port=0 --store.path="$tmp/garbage.db"

echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
