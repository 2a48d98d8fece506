#!/usr/bin/env bash
# Measures the engine's HTTP API (POST /api/v1/bookings) against a ceiling
# measured the same way in the same run: http-ceiling, a bare Beast server
# that answers every request with a fixed 202. Each run loads the ceiling,
# then a fresh booking-server, with the same wrk command and script
# (bench/wrk/post_booking.lua); the figure is engine req/s ÷ ceiling req/s.
#
#   bench/http_run.sh                     # build/, 3 runs of 10 s each
#   RUNS=5 DURATION=20s bench/http_run.sh build-release
#   HTTP_THREADS=2 bench/http_run.sh build --scheduler.max-threads=2
#   ONLY=ceiling bench/http_run.sh        # one side only: ceiling or engine
#   STORE=tmp/bench.db ONLY=engine bench/http_run.sh
#                                         # in memory vs durable, alternating
#
# It builds nothing: build http-ceiling and booking-server first, e.g.
#   cmake --build build --target http-ceiling booking-server -j 2
# The first argument is the build directory (default build/); the others go
# to booking-server.
#
# The engine runs in memory: the script passes --store.path=:memory: (after
# the other arguments, so it wins; booking-server's own default is
# data/booking.db). With STORE=FILE each run also measures a third side,
# "durable": booking-server with --store.path=FILE, a fresh database each
# time (FILE, FILE-wal and FILE-shm are deleted before it starts; FILE's
# directory is created; a relative FILE is taken from the repository root;
# tmp/ there is ignored by git). FILE must be on a real disk, not a tmpfs,
# or the fsyncs cost nothing. The order per run is ceiling, engine, durable, and
# the summary adds durable ÷ engine req/s. For the durable side it also
# reports the CPU of the store's thread (CAF names a detached actor's thread
# caf.actor) and, if `perf stat` can count the syscalls tracepoints (root or
# a low perf_event_paranoid), the server's fdatasync+fsync calls per second.
#
# Environment (defaults in brackets):
#   RUNS [3]           runs, each one ceiling then one engine measurement
#   DURATION [10s]     wrk -d, per measurement
#   CONNECTIONS [64]   wrk -c
#   THREADS [2]        wrk -t
#   TIMEOUT [10s]      wrk --timeout (the script asks the engine to wait 5 s)
#   HTTP_THREADS [1]   I/O threads of both servers (--threads, --http.threads)
#   DEPARTURES [60]    departures of the benchmark's tour, 100000 seats each
#   ONLY               "ceiling", "engine" or "durable": measure that side
#                      only; "engine" with STORE set: engine and durable
#   STORE              a database file: also measure the durable side
#
# wrk (Debian package wrk, installed by deploy/install-deps.sh) runs on the
# same machine as the server and takes CPU from it; the ceiling pays that the
# same way. The script warns when processes other than the server and wrk
# used more than 5% of the CPU during a measurement.

set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build}"
[[ $# -gt 0 ]] && shift
runs="${RUNS:-3}"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
wrk_threads="${THREADS:-2}"
timeout="${TIMEOUT:-10s}"
io_threads="${HTTP_THREADS:-1}"
departures="${DEPARTURES:-60}"
only="${ONLY:-}"
store="${STORE:-}"
script="$repo/bench/wrk/post_booking.lua"

die() {
  echo "http_run.sh: $*" >&2
  exit 2
}

build="$(cd "$build" 2>/dev/null && pwd)" || die "no build directory: $build"
ceiling_bin="$build/bench/http-ceiling"
server_bin="$build/config/booking-server"
case "$only" in
  "" | ceiling | engine | durable) ;;
  *) die "ONLY must be 'ceiling', 'engine' or 'durable', not '$only'" ;;
esac
[[ "$store" != ":memory:" ]] || die "STORE must name a file, not :memory:"
[[ "$only" != durable || -n "$store" ]] || die "ONLY=durable needs STORE"
# The sides each run measures, in this order.
sides=()
[[ -z "$only" || "$only" == ceiling ]] && sides+=(ceiling)
[[ -z "$only" || "$only" == engine ]] && sides+=(engine)
[[ -n "$store" && ("$only" != ceiling) ]] && sides+=(durable)
command -v wrk >/dev/null \
  || die "wrk not found (Debian package wrk, see deploy/install-deps.sh)"
command -v curl >/dev/null || die "curl not found"
[[ " ${sides[*]} " != *" ceiling "* || -x "$ceiling_bin" ]] \
  || die "$ceiling_bin missing: cmake --build $build --target http-ceiling"
[[ "$only" == ceiling || -x "$server_bin" ]] \
  || die "$server_bin missing: cmake --build $build --target booking-server"
if [[ -f "$build/CMakeCache.txt" ]]; then
  build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")"
  case "$build_type" in
    Release | RelWithDebInfo) ;;
    *) die "$build is a '$build_type' build; use Release or RelWithDebInfo" ;;
  esac
fi

# Run from the repository root, so booking-server reads config/booking.ini.
# A relative STORE is taken from there too.
cd "$repo"
if [[ -n "$store" ]]; then
  store_dir="$(dirname "$store")"
  mkdir -p "$store_dir" || die "cannot create $store_dir"
  store="$(cd "$store_dir" && pwd)/$(basename "$store")"
fi
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The benchmark's tour: one per-run booking-server sells up to
# DEPARTURES × 100000 seats, far more than a run books.
source "$repo/bench/tours.sh"
write_bench_tours "$tmp/tours.json" "$departures"

# start_server NAME COMMAND...: starts COMMAND with its stderr in
# $tmp/NAME.err, waits for its "listening" log line and sets server_pid and
# port.
start_server() {
  local name="$1"
  shift
  : >"$tmp/$name.err"
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  server_pid=$!
  port=""
  for ((t = 0; t < 300; ++t)); do
    port="$(sed -n '/"message":"listening"/s/.*"port":"\{0,1\}\([0-9][0-9]*\).*/\1/p' \
      "$tmp/$name.err" | head -n 1)"
    [[ -n "$port" ]] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      local rc=0
      wait "$server_pid" || rc=$?
      server_pid=""
      cat "$tmp/$name.err" >&2
      die "$name exited (status $rc) before it listened"
    fi
    sleep 0.1
  done
  cat "$tmp/$name.err" >&2
  die "$name logged no \"listening\" line with a port within 30 s"
}

# wait_healthy: waits until GET /healthz answers 200.
wait_healthy() {
  local code
  for ((t = 0; t < 600; ++t)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
      "http://127.0.0.1:$port/healthz" || true)"
    [[ "$code" == 200 ]] && return 0
    sleep 0.1
  done
  die "GET /healthz did not answer 200 within 60 s (last: $code)"
}

# stop_server NAME: SIGTERM, then waits for the server to exit.
stop_server() {
  local rc=0
  kill -TERM "$server_pid"
  wait "$server_pid" || rc=$?
  server_pid=""
  if ((rc != 0)); then
    tail -n 20 "$tmp/$1.err" >&2
    echo "http_run.sh: warning: $1 exited with status $rc" >&2
  fi
}

# cpu_ticks: busy and total CPU time of the machine so far, in clock ticks.
cpu_ticks() {
  local x total=0
  read -r -a x < <(head -n 1 /proc/stat)
  for j in 1 2 3 4 5 6 7 8; do
    total=$((total + x[j]))
  done
  echo $((total - x[4] - x[5])) "$total"
}

# proc_ticks PID: user + system CPU time of PID so far, in clock ticks.
proc_ticks() {
  local stat x
  stat="$(cat "/proc/$1/stat")"
  read -r -a x <<<"${stat##*) }"
  echo $((x[11] + x[12]))
}

# detached_ticks PID: user + system CPU time of PID's threads named
# caf.actor (detached actors: the store, and the AMQP bridges when a broker
# is configured), in clock ticks.
detached_ticks() {
  local t stat x sum=0
  for t in /proc/"$1"/task/*; do
    [[ "$(cat "$t/comm" 2>/dev/null)" == caf.actor ]] || continue
    stat="$(cat "$t/stat" 2>/dev/null)" || continue
    read -r -a x <<<"${stat##*) }"
    sum=$((sum + x[11] + x[12]))
  done
  echo "$sum"
}

hz="$(getconf CLK_TCK)"
sync_events=syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync
count_syncs=""
if command -v perf >/dev/null \
  && perf stat -x, -e "$sync_events" -- true >/dev/null 2>&1; then
  count_syncs=1
fi

# measure NAME RUN: runs wrk against the server on $port and prints one
# line "NAME RUN rps non2xx socket_errors p50_us p99_us server_cores
# wrk_cores statuses detached_cores syncs_per_s" to $tmp/results (the last
# two "-" for the ceiling; syncs "-" without perf); the wrk output is
# $tmp/NAME.RUN.wrk.
measure() {
  local name="$1" run="$2" out="$tmp/$1.$2.wrk"
  local busy0 total0 busy1 total1 srv0 srv1 det0 det1 perf_pid="" rc=0
  read -r busy0 total0 < <(cpu_ticks)
  srv0="$(proc_ticks "$server_pid")"
  det0="$(detached_ticks "$server_pid")"
  if [[ -n "$count_syncs" && "$name" != ceiling ]]; then
    perf stat -x, -o "$tmp/perf" -e "$sync_events" -p "$server_pid" &
    perf_pid=$!
  fi
  TIMEFORMAT='%U %S'
  { time wrk -t"$wrk_threads" -c"$connections" -d"$duration" \
    --timeout "$timeout" -s "$script" "http://127.0.0.1:$port" \
    >"$out" 2>&1; } 2>"$tmp/time" || rc=$?
  if [[ -n "$perf_pid" ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
  fi
  srv1="$(proc_ticks "$server_pid")"
  det1="$(detached_ticks "$server_pid")"
  read -r busy1 total1 < <(cpu_ticks)
  if ((rc != 0)) || ! grep -q '^Requests/sec:' "$out"; then
    cat "$out" >&2
    die "wrk failed against $name (exit status $rc)"
  fi
  local rps non2xx errors p50 p99 statuses secs server_cores wrk_cores others
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
  non2xx="$(awk '/^bench: status/ && ($3 < 200 || $3 > 299) { n += $4 }
    END { print n + 0 }' "$out")"
  errors="$(sed -n 's/^ *Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$out" \
    | awk '{ print $1 + $2 + $3 + $4 } END { if (NR == 0) print 0 }')"
  read -r p50 p99 < <(awk '/^bench: latency_us/ { print $4, $8 }' "$out")
  statuses="$(awk '/^bench: status/ { printf("%s%s=%s", sep, $3, $4); sep = "," }
    END { if (NR == 0) printf("-") }' "$out")"
  secs="$(awk -v t=$((total1 - total0)) -v hz="$hz" -v n="$(nproc)" \
    'BEGIN { print t / hz / n }')"
  read -r server_cores wrk_cores others < <(awk -v s=$((srv1 - srv0)) \
    -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) -v hz="$hz" \
    -v secs="$secs" '{
      w = ($1 + $2) * hz
      printf("%.2f %.2f %d\n", s / hz / secs, w / hz / secs,
             t > 0 ? 100 * (b - s - w) / t : 0)
    }' "$tmp/time")
  if ((others > 5)); then
    echo "http_run.sh: warning: other processes used ${others}% of the CPU" \
      "while $name was measured; its figures are unreliable" >&2
  fi
  local detached_cores="-" syncs="-" extra=""
  if [[ "$name" != ceiling ]]; then
    detached_cores="$(awk -v d=$((det1 - det0)) -v hz="$hz" -v secs="$secs" \
      'BEGIN { printf("%.2f", d / hz / secs) }')"
    extra="  detached threads ${detached_cores} cores"
  fi
  if [[ -n "$perf_pid" ]]; then
    syncs="$(awk -F, -v secs="$secs" '$1 ~ /^[0-9]+$/ { n += $1 }
      END { printf("%.0f", n / secs) }' "$tmp/perf")"
    extra="$extra, fsyncs ${syncs}/s"
  fi
  echo "$name $run $rps $non2xx $errors $p50 $p99 $server_cores $wrk_cores" \
    "$statuses $detached_cores $syncs" >>"$tmp/results"
  printf '%-8s %10.0f req/s  non-2xx %-6s socket errors %-5s p50 %6.2f ms  p99 %7.2f ms  CPU: server %s, wrk %s cores  statuses %s%s\n' \
    "$name" "$rps" "$non2xx" "$errors" "$(awk -v x="$p50" 'BEGIN { print x / 1000 }')" \
    "$(awk -v x="$p99" 'BEGIN { print x / 1000 }')" "$server_cores" "$wrk_cores" \
    "$statuses" "$extra"
}

echo "wrk -t$wrk_threads -c$connections -d$duration --timeout $timeout" \
  "-s bench/wrk/post_booking.lua; $io_threads I/O thread(s) per server;" \
  "$runs run(s); sides: ${sides[*]}${store:+ (durable: --store.path=$store)}"
: >"$tmp/results"
for ((i = 1; i <= runs; ++i)); do
  echo "== run $i of $runs"
  for side in "${sides[@]}"; do
    case "$side" in
      ceiling)
        start_server ceiling "$ceiling_bin" --address=127.0.0.1 --port=0 \
          --threads="$io_threads"
        ;;
      engine)
        start_server engine "$server_bin" --config=config/booking.ini \
          --http.port=0 --http.threads="$io_threads" \
          --tours="$tmp/tours.json" "$@" --store.path=:memory:
        wait_healthy
        ;;
      durable)
        rm -f "$store" "$store-wal" "$store-shm" "$store-journal"
        start_server durable "$server_bin" --config=config/booking.ini \
          --http.port=0 --http.threads="$io_threads" \
          --tours="$tmp/tours.json" "$@" --store.path="$store"
        wait_healthy
        ;;
    esac
    measure "$side" "$i"
    stop_server "$side"
  done
  awk -v i="$i" '$2 == i { r[$1] = $3 }
    END {
      if (r["engine"] && r["ceiling"])
        printf("ratio    %10.4f engine/ceiling\n", r["engine"] / r["ceiling"])
      if (r["durable"] && r["engine"])
        printf("ratio    %10.4f durable/engine\n", r["durable"] / r["engine"])
    }' "$tmp/results"
done

# summary SCALE DIGITS: median, min and max of the numbers on stdin, each
# divided by SCALE.
summary() {
  sort -g | awk -v s="$1" -v d="$2" '
    { x[NR] = $1 / s }
    END {
      m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
      f = "%." d "f"
      printf(f "  (min " f ", max " f ")\n", m, x[1], x[NR])
    }'
}

# column NAME COLUMN: that column of NAME's result lines.
column() {
  awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$tmp/results"
}

# ratio A B: A req/s ÷ B req/s of each run that measured both.
ratio() {
  awk -v a="$1" -v b="$2" '{ r[$2, $1] = $3 }
    $1 == a { runs[$2] = 1 }
    END { for (i in runs) if (r[i, b] > 0) print r[i, a] / r[i, b] }' \
    "$tmp/results"
}

echo
echo "== $runs runs: median (min, max)"
for name in "${sides[@]}"; do
  printf '%-28s %s\n' \
    "$name req/s" "$(column "$name" 3 | summary 1 0)" \
    "  non-2xx responses" "$(column "$name" 4 | summary 1 0)" \
    "  socket errors" "$(column "$name" 5 | summary 1 0)" \
    "  p50 latency, ms" "$(column "$name" 6 | summary 1000 2)" \
    "  p99 latency, ms" "$(column "$name" 7 | summary 1000 2)" \
    "  server CPU, cores" "$(column "$name" 8 | summary 1 2)"
  if [[ "$name" == durable ]]; then
    printf '%-28s %s\n' "  store thread CPU, cores" \
      "$(column "$name" 11 | summary 1 2)"
    if [[ -n "$count_syncs" ]]; then
      printf '%-28s %s\n' "  fsyncs/s" "$(column "$name" 12 | summary 1 0)"
    fi
  fi
done
if [[ " ${sides[*]} " == *" ceiling "* && " ${sides[*]} " == *" engine "* ]]; then
  printf '%-28s %s\n' "engine/ceiling req/s" "$(ratio engine ceiling | summary 1 4)"
fi
if [[ " ${sides[*]} " == *" engine "* && " ${sides[*]} " == *" durable "* ]]; then
  printf '%-28s %s\n' "durable/engine req/s" "$(ratio durable engine | summary 1 4)"
fi
for name in engine durable; do
  [[ " ${sides[*]} " == *" $name "* ]] || continue
  echo "$name statuses, all runs: $(column "$name" 10 | tr , '\n' \
    | awk -F= '$2 != "" { n[$1] += $2 }
      END { for (s in n) printf("%s=%d\n", s, n[s]) }' | sort | paste -sd ' ')"
done
