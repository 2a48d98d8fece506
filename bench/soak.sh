#!/usr/bin/env bash
# Soak: HTTP bookings at a fixed rate for a long while, against
# booking-server with a SQLite file and a broker with a durable queue bound
# to booking.events (as a real subscriber binds it). Every SAMPLE seconds it
# records the server's RSS and, from /metrics, the cached bookings, the
# outbox backlog, its lag and the sagas in flight. It passes when RSS after
# minute 2 grows by less than 5%, the backlog never exceeds one second of
# events (6 per booking at RATE), and at most 1% of the answers are not 2xx.
#
#   bench/soak.sh [build]                       # 10 min at 200 bookings/s
#   RATE=100 DURATION=120 bench/soak.sh build   # shorter, slower
#
# It builds nothing (booking-server and amqp-publish must exist; wrk, curl
# and python3 come from deploy/install-deps.sh). It starts its own broker
# node (deploy/rabbitmq/broker.sh) on a free loopback port; purging the bound
# queue after every sample stands in for the subscriber consuming it.
# Output, in OUT (default tmp/soak): samples.csv, soak.svg (RSS and backlog
# over time) and summary.md (the table for BENCHMARKS.md); the exit status
# is 0 when both criteria hold, 1 when one fails.
#
# Environment (defaults in brackets):
#   RATE [200]        bookings per second asked for (8 connections, paced)
#   DURATION [600]    seconds of load
#   SAMPLE [10]       seconds between samples
#   OUT [tmp/soak]    output directory (relative: to the repository root)

set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-build}"
[[ "$build" = /* ]] || build="$repo/$build"
rate="${RATE:-200}"
duration="${DURATION:-600}"
sample="${SAMPLE:-10}"
out="${OUT:-tmp/soak}"
[[ "$out" = /* ]] || out="$repo/$out"
server="$build/config/booking-server"
setup="$build/bench/amqp-publish"
die() { echo "soak: $*" >&2; exit 2; }
[[ -x "$server" ]] || die "$server missing: build booking-server"
[[ -x "$setup" ]] || die "$setup missing: build amqp-publish"
command -v wrk >/dev/null || die "wrk missing (deploy/install-deps.sh)"
((rate >= 1 && rate <= 8000)) || die "RATE must be 1..8000"

mkdir -p "$out"
work="$(mktemp -d)"
broker_dir="$work/broker"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
amqp_port="$(free_port)"
http_port="$(free_port)"
pid=""
load=""
cleanup() {
  [[ -n "$load" ]] && kill "$load" 2>/dev/null || true
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [[ -f "$work/server.log" ]] && cp "$work/server.log" "$out/server.log" || true
  bash "$repo/deploy/rabbitmq/broker.sh" stop "$broker_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$repo/deploy/rabbitmq/broker.sh" start "$broker_dir" "$amqp_port" >/dev/null
url="amqp://guest:guest@127.0.0.1:$amqp_port/%2f"
"$setup" --url="$url" --setup-only=true

# One tour with enough seats for the whole run (6 million).
source "$repo/bench/tours.sh"
write_bench_tours "$work/tours.json" 60

cd "$repo"
"$server" --http.port="$http_port" --store.path="$work/booking.db" \
  --tours="$work/tours.json" --amqp.url="$url" >"$work/server.log" 2>&1 &
pid=$!
ready=""
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; die "booking-server exited"; }
  if [[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "localhost:$http_port/readyz")" = 200 ]]; then
    ready=1
    break
  fi
  sleep 0.1
done
[[ -n "$ready" ]] || die "booking-server not ready after 30 s (log: $out/server.log)"

connections=8
delay_ms=$((connections * 1000 / rate))
BENCH_DELAY_MS="$delay_ms" \
  wrk -t2 -c"$connections" -d"${duration}s" --timeout 10s \
  -s bench/wrk/paced_booking.lua "http://127.0.0.1:$http_port" \
  >"$work/wrk.txt" 2>&1 &
load=$!

metric() { awk -v m="$1" '$1 == m { print $2 }' <<<"$metrics"; }
echo "t_s,rss_kib,cached_bookings,backlog,lag_s,in_flight,completed,sqlite_bytes" >"$out/samples.csv"
start=$(date +%s)
while kill -0 "$load" 2>/dev/null; do
  sleep "$sample"
  kill -0 "$pid" 2>/dev/null || die "booking-server died during the run (log: $out/server.log)"
  metrics="$(curl -s --max-time 5 "localhost:$http_port/metrics" || true)"
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
  completed=$(awk '/^booking_sagas_completed_total\{/ { s += $2 } END { print s + 0 }' <<<"$metrics")
  printf '%s,%s,%s,%s,%s,%s,%s,%s\n' "$(( $(date +%s) - start ))" "$rss" \
    "$(metric booking_store_cached_bookings)" "$(metric booking_amqp_outbox_backlog)" \
    "$(metric booking_amqp_outbox_lag_seconds)" "$(metric booking_sagas_in_flight)" \
    "$completed" "$(metric booking_store_sqlite_memory_bytes)" >>"$out/samples.csv"
  # The subscriber: what reached the queue is consumed.
  bash "$repo/deploy/rabbitmq/broker.sh" ctl "$broker_dir" purge_queue bench.events >/dev/null 2>&1 || true
done
wait "$load" || true
cp "$work/wrk.txt" "$out/wrk.txt"

python3 - "$out" "$rate" <<'PY'
import csv, re, sys
out, rate = sys.argv[1], float(sys.argv[2])
# Answers by status, from the wrk script's "bench: status" lines; a run that
# was refused or failed is no soak.
answers = {int(m[1]): int(m[2]) for m in re.finditer(r"bench: status (\d+) (\d+)", open(f"{out}/wrk.txt").read())}
total = sum(answers.values())
refused = sum(n for s, n in answers.items() if not 200 <= s < 300)
answers_ok = total > 0 and refused <= 0.01 * total
rows = list(csv.DictReader(open(f"{out}/samples.csv")))
num = lambda v: float(v) if v not in ("", None) else None
t = [num(r["t_s"]) for r in rows]
rss = [num(r["rss_kib"]) / 1024 for r in rows]
backlog = [num(r["backlog"]) or 0 for r in rows]
done = [num(r["completed"]) or 0 for r in rows]
after = [m for s, m in zip(t, rss) if s >= 120]
growth = (after[-1] / after[0] - 1) if len(after) > 1 else float("nan")
# SQLite's heap, its page cache included: part of RSS, bounded by the cache.
sqlite = [(num(r.get("sqlite_bytes")) or 0) / 2**20 for r in rows]
sqlite_after = [m for s, m in zip(t, sqlite) if s >= 120]
sqlite_growth = sqlite_after[-1] - sqlite_after[0] if len(sqlite_after) > 1 else float("nan")
bound = 6 * rate
rss_ok = len(after) > 1 and growth < 0.05
backlog_ok = max(backlog) <= bound
achieved = (done[-1] - done[0]) / (t[-1] - t[0]) if len(t) > 1 else 0
# The picture: RSS (MiB, left axis) and backlog (events, right axis).
W, H, L, R, T, B = 720, 320, 60, 60, 20, 40
def sx(x): return L + (W - L - R) * x / max(t[-1], 1)
def line(ys, top, colour):
    pts = " ".join(f"{sx(x):.1f},{H - B - (H - T - B) * y / max(top, 1e-9):.1f}" for x, y in zip(t, ys))
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>'
rss_top, bl_top = max(rss) * 1.1, max(max(backlog), bound) * 1.1
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
       f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>',
       f'<line x1="{W-R}" y1="{T}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
       line(rss, rss_top, "#1f77b4"), line(backlog, bl_top, "#d62728"),
       f'<line x1="{L}" x2="{W-R}" y1="{H - B - (H - T - B) * bound / bl_top:.1f}" y2="{H - B - (H - T - B) * bound / bl_top:.1f}" stroke="#d62728" stroke-dasharray="4 4"/>',
       f'<text x="{L}" y="{T-6}" fill="#1f77b4">RSS, MiB (0 to {rss_top:.0f})</text>',
       f'<text x="{W-R}" y="{T-6}" fill="#d62728" text-anchor="end">outbox backlog, events (0 to {bl_top:.0f}; dashed: 1 s of events)</text>',
       f'<text x="{(W)/2}" y="{H-10}" text-anchor="middle">seconds ({t[-1]:.0f} in all)</text>',
       '</svg>']
open(f"{out}/soak.svg", "w").write("\n".join(svg) + "\n")
lines = ["| t (s) | RSS (MiB) | SQLite heap (MiB) | bookings completed | cached bookings | backlog | lag (s) | in flight |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r, q in zip(rows, sqlite):
    lines.append(f"| {r['t_s']} | {float(r['rss_kib'])/1024:.1f} | {q:.1f} | {r['completed']} | {r['cached_bookings'] or 'n/a'} | {r['backlog']} | {r['lag_s']} | {r['in_flight']} |")
lines += ["", f"Asked {rate:.0f} bookings/s, completed {achieved:.0f}/s; {refused} of {total} "
          f"answers not 2xx ({'pass' if answers_ok else 'FAIL'}, at most 1%). RSS after minute 2: "
          f"{growth*100:+.1f}% ({'pass' if rss_ok else 'FAIL'}, < 5%; SQLite's heap "
          f"{sqlite_growth:+.1f} MiB of it); backlog peak "
          f"{max(backlog):.0f} events against {bound:.0f} ({'pass' if backlog_ok else 'FAIL'})."]
open(f"{out}/summary.md", "w").write("\n".join(lines) + "\n")
print(lines[-1])
sys.exit(0 if rss_ok and backlog_ok and answers_ok else 1)
PY
