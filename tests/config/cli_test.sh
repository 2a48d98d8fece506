#!/usr/bin/env bash
# Black-box checks of booking-server's command line: exit codes, messages that
# name the key, --help, --demo, and a clean stop on SIGTERM.
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

"$server" --http.port=0 >"$tmp/srv.out" 2>"$tmp/srv.err" &
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

"$server" --http.port="${port:-1}" >"$tmp/busy.out" 2>"$tmp/busy.err" </dev/null
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

echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
