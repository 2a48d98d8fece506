#!/usr/bin/env bash
# Start-up time against history: the time from starting booking-server on a
# store file to its first /readyz 200, with SMALL (default 10,000) and with
# LARGE (default 1,000,000) finished bookings in the file, RUNS times each
# (default 5), alternating. The target (product.md): the two medians within
# 2x. No broker: with one, readiness also waits for the connection.
#
#   bash bench/startup.sh            # after a build (BUILD_DIR, default build)
#   SMALL=1000 LARGE=100000 RUNS=3 bash bench/startup.sh
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
server="$build/config/booking-server"
fill="$build/bench/store-fill"
small="${SMALL:-10000}"
large="${LARGE:-1000000}"
runs="${RUNS:-5}"
for x in "$server" "$fill"; do
  [[ -x "$x" ]] || { echo "startup: $x is missing; build first" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/booking-startup.XXXXXX")"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

now_ns() { date +%s%N; }

# Milliseconds from start to the first /readyz 200 on `$1`.
time_to_ready() {
  local db="$1" port t0 t1
  port="$(free_port)"
  t0="$(now_ns)"
  # From the scratch folder: the file's tours stand as stored, without the
  # default tours file of the repository.
  (cd "$work" && exec "$server" --http.port="$port" --store.path="$db" \
    >"$work/server.log" 2>&1) &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "startup: the server died; its log:" >&2
      cat "$work/server.log" >&2
      exit 1
    fi
    sleep 0.005
  done
  t1="$(now_ns)"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  echo $(((t1 - t0) / 1000000))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "filling the store files (one seat per booking, all confirmed)..."
"$fill" --path="$work/small.db" --bookings="$small" \
  --tours="$repo/config/tours.json"
"$fill" --path="$work/large.db" --bookings="$large" \
  --tours="$repo/config/tours.json"
ls -l "$work"/*.db | awk '{print "  " $9 ": " int($5 / 1048576) " MiB"}'

small_ms=()
large_ms=()
for ((i = 1; i <= runs; ++i)); do
  small_ms+=("$(time_to_ready "$work/small.db")")
  large_ms+=("$(time_to_ready "$work/large.db")")
done
s="$(printf '%s\n' "${small_ms[@]}" | median)"
l="$(printf '%s\n' "${large_ms[@]}" | median)"
echo
echo "| finished bookings | runs (ms) | median (ms) |"
echo "|---:|---|---:|"
echo "| $small | ${small_ms[*]} | $s |"
echo "| $large | ${large_ms[*]} | $l |"
ratio="$(awk -v a="$l" -v b="$s" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
echo
echo "large/small: $ratio (target: at most 2.00)"
awk -v r="$ratio" 'BEGIN {exit !(r <= 2.0)}' && echo "PASS" || {
  echo "FAIL"
  exit 1
}
