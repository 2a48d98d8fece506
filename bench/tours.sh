# Sourced by the HTTP benchmark scripts: the benchmark's tour.
#
#   source bench/tours.sh
#   write_bench_tours FILE DEPARTURES
#
# Writes one tour, `lisbon-food`, with DEPARTURES daily departures from
# 2026-12-01 of 100000 seats each (far more than a run books) to FILE, and
# exports BENCH_DATES, the dates comma-separated, for
# bench/wrk/post_booking.lua.

write_bench_tours() {
  local file="$1" departures="$2" dates=() d i sep=""
  for ((i = 0; i < departures; ++i)); do
    dates+=("$(date -u -d "2026-12-01 + $i days" +%F)")
  done
  {
    printf '[{"id":"lisbon-food","name":"Lisbon Food Walk","price_cents":4500,'
    printf '"currency":"EUR","departures":['
    for d in "${dates[@]}"; do
      printf '%s{"date":"%s","capacity":100000}' "$sep" "$d"
      sep=","
    done
    printf ']}]\n'
  } >"$file"
  BENCH_DATES="$(
    IFS=,
    echo "${dates[*]}"
  )"
  export BENCH_DATES
}
