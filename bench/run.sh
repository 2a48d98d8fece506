#!/usr/bin/env bash
# Runs the in-process saga benchmark the recommended way and prints the
# figures: an optimized build, two scheduler threads, several repetitions,
# median/min/max of each figure.
#
#   bench/run.sh                      # 3 runs with the defaults
#   REPS=5 bench/run.sh --workers.saga-coordinators=1
#   BUILD_DIR=build-release bench/run.sh --bookings=100000
#   STORE=tmp/bench.db bench/run.sh   # durable vs in memory, alternating
#
# Extra arguments go to saga-throughput (benchmark and engine options alike).
# saga-throughput runs in memory unless --store.path=FILE is given. With
# STORE=FILE each repetition runs twice, alternating: in memory
# (--store.path=:memory:), then with --store.path=FILE (a fresh database per
# engine; FILE's directory is created; a relative FILE is taken from the
# repository root, where tmp/ is ignored by git); the summary gives both and
# the ratio durable/memory of each repetition. FILE must be on a real disk,
# not a tmpfs, or the fsyncs cost nothing.
# BENCHMARKS.md explains what each figure means.

set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
reps="${REPS:-3}"
jobs="${JOBS:-2}"
store="${STORE:-}"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")"
case "$build_type" in
  Release | RelWithDebInfo) ;;
  *)
    echo "run.sh: $build is a '$build_type' build; use Release or" \
      "RelWithDebInfo (set BUILD_DIR to another build directory)" >&2
    exit 2
    ;;
esac
cmake --build "$build" --target saga-throughput -j "$jobs"

# cpu_ticks: busy and total CPU time of the machine so far, in clock ticks.
cpu_ticks() {
  local x total=0
  read -r -a x < <(head -n 1 /proc/stat)
  for j in 1 2 3 4 5 6 7 8; do
    total=$((total + x[j]))
  done
  echo $((total - x[4] - x[5])) "$total"
}

# Run from the repository root, so the engine reads config/booking.ini as
# booking-server does.
cd "$repo"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
hz="$(getconf CLK_TCK)"
if [[ -n "$store" ]]; then
  [[ "$store" != ":memory:" ]] || {
    echo "run.sh: STORE must name a file" >&2
    exit 2
  }
  mkdir -p "$(dirname "$store")"
  variants=(memory durable)
else
  variants=(default)
fi

# run_once VARIANT ARGS...: one run of saga-throughput with ARGS; its JSON
# line goes to $tmp/results.VARIANT.
run_once() {
  local variant="$1" rc=0 extra=()
  shift
  case "$variant" in
    memory) extra=(--store.path=:memory:) ;;
    durable) extra=(--store.path="$store") ;;
  esac
  read -r busy0 total0 < <(cpu_ticks)
  TIMEFORMAT='%U %S'
  { time "$build/bench/saga-throughput" --scheduler.max-threads=2 "$@" \
    "${extra[@]}" --json >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time" || rc=$?
  read -r busy1 total1 < <(cpu_ticks)
  cat "$tmp/err" >&2
  sed '$d' "$tmp/out"
  last="$(tail -n 1 "$tmp/out")"
  if [[ "$last" != "{"* ]]; then
    echo "run.sh: saga-throughput failed (exit status $rc)" >&2
    exit "$rc"
  fi
  echo "$last" >>"$tmp/results.$variant"
  # On 2 cores anything else running skews the figures badly: compare the
  # machine's busy time with the benchmark's own CPU time.
  others="$(awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) -v hz="$hz" \
    '{ own = ($1 + $2) * hz; printf("%d", t > 0 ? 100 * (b - own) / t : 0) }' \
    "$tmp/time")"
  if ((others > 5)); then
    echo "run.sh: warning: other processes used ${others}% of the CPU during" \
      "this run; its figures are unreliable" >&2
  fi
}

for ((i = 1; i <= reps; ++i)); do
  for variant in "${variants[@]}"; do
    if [[ "$variant" == default ]]; then
      echo "== run $i of $reps"
    else
      echo "== run $i of $reps, $variant"
    fi
    run_once "$variant" "$@"
  done
done

# field NAME VARIANT: the value of NAME in each JSON line, one per line.
field() {
  sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$tmp/results.$2"
}

# median_of SCALE DIGITS: median, min and max of the numbers on stdin, each
# divided by SCALE.
median_of() {
  sort -g | awk -v s="$1" -v d="$2" '
    { x[NR] = $1 / s }
    END {
      m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
      f = "%." d "f"
      printf(f "  (min " f ", max " f ")\n", m, x[1], x[NR])
    }'
}

# stats NAME SCALE DIGITS: median, min and max of NAME divided by SCALE.
stats() {
  field "$1" "$variant" | median_of "$2" "$3"
}

failed=0
for variant in "${variants[@]}"; do
  failed=$((failed + $(field ok "$variant" | grep -c false || true)))
  echo
  if [[ "$variant" == default ]]; then
    echo "== $reps runs: median (min, max)"
  elif [[ "$variant" == memory ]]; then
    echo "== memory (--store.path=:memory:): $reps runs, median (min, max)"
  else
    echo "== durable (--store.path=$store): $reps runs, median (min, max)"
  fi
  printf '%-46s %s\n' \
    "sagas completed/s" "$(stats sagas_per_s 1 0)" \
    "  / 50000 target" "$(stats target_ratio 1 3)" \
    "  / ceiling round trips/s" "$(stats ceiling_ratio 1 4)" \
    "ceiling round trips/s (no timeout)" "$(stats ceiling_rt_plain_per_s 1 0)" \
    "ceiling round trips/s (with timeout)" "$(stats ceiling_rt_timeout_per_s 1 0)" \
    "RSS per in-flight saga, KiB (upper bound)" "$(stats rss_per_inflight_bytes 1024 2)" \
    "  / 2 KiB target" "$(stats rss_per_inflight_bytes 2048 2)" \
    "heap per in-flight saga, KiB (peak of the burst)" "$(stats heap_per_inflight_bytes 1024 2)" \
    "heap per in-flight saga, KiB (once parked)" "$(stats heap_parked_per_inflight_bytes 1024 2)" \
    "heap kept per finished booking, KiB" "$(stats heap_kept_per_booking_bytes 1024 2)" \
    "heap transient per in-flight saga, KiB" "$(stats heap_transient_per_inflight_bytes 1024 2)" \
    "peak RSS (VmHWM), MiB" "$(stats peak_rss_bytes 1048576 1)"
  printf '%-46s %s\n' "process CPU, cores (throughput phase)" \
    "$(paste -d ' ' <(field cpu_s "$variant") <(field full_s "$variant") \
      | awk '{ print $1 / $2 }' | median_of 1 2)"
  if [[ "$variant" == durable ]]; then
    printf '%-46s %s\n' \
      "store commits/s" "$(stats store_commits_per_s 1 0)" \
      "store batches per commit (group commit)" "$(stats batches_per_commit 1 1)" \
      "store thread CPU, cores" "$(paste -d ' ' \
        <(field store_thread_cpu_s "$variant") <(field full_s "$variant") \
        | awk '{ print $1 / $2 }' | median_of 1 2)" \
      "file + WAL at idle, MiB" "$(stats store_bytes 1048576 1)"
  fi
done
if [[ -n "$store" ]]; then
  # Durable sagas/s ÷ in-memory sagas/s of each repetition.
  echo
  printf '%-46s %s\n' "durable/memory sagas/s, per repetition" \
    "$(paste -d ' ' <(field sagas_per_s durable) <(field sagas_per_s memory) \
      | awk '{ printf("%s%.3f", NR > 1 ? " " : "", $1 / $2) } END { print "" }')"
  printf '%-46s %s\n' "durable/memory sagas/s" \
    "$(paste -d ' ' <(field sagas_per_s durable) <(field sagas_per_s memory) \
      | awk '{ print $1 / $2 }' | median_of 1 3)"
  # The store floor: the least CPU a durable saga adds (SQLite writing one
  # row per change, two waits for a commit and the other changes sent
  # one-way), measured in the durable run. With the in-memory run's CPU per
  # saga m, no durable engine with this protocol on the same 2 cores can
  # beat m / (m + floor).
  printf '%-46s %s\n' "store floor, us per saga (SQLite + waits)" \
    "$(field floor_us_per_saga durable | median_of 1 2)" \
    "  SQLite alone, us per saga" \
    "$(field floor_sqlite_us_per_saga durable | median_of 1 2)" \
    "  SQLite alone, off the CPU per commit, ms" \
    "$(field floor_commit_off_cpu_ms durable | median_of 1 2)" \
    "  one wait for a commit, us" \
    "$(field floor_handoff_us durable | median_of 1 2)" \
    "  one change sent one-way, us" \
    "$(field floor_oneway_us durable | median_of 1 2)" \
    "in-memory CPU per saga, us" \
    "$(paste -d ' ' <(field cpu_s memory) <(field bookings memory) \
      | awk '{ print 1e6 * $1 / $2 }' | median_of 1 1)" \
    "durable/memory at most (m / (m + floor))" \
    "$(paste -d ' ' <(field cpu_s memory) <(field bookings memory) \
      <(field floor_us_per_saga durable) \
      | awk '{ m = 1e6 * $1 / $2; print m / (m + $3) }' | median_of 1 3)"
fi
if ((failed > 0)); then
  echo "run.sh: $failed run(s) FAILED their checks" >&2
  exit 1
fi
