-- wrk script: POST /api/v1/bookings, one new customer per request.
--
--   BENCH_DATES=2026-12-01,2026-12-02 \
--     wrk -t2 -c64 -d10s -s bench/wrk/post_booking.lua http://127.0.0.1:8080
--
-- Every request books 1 seat of tour `lisbon-food` for customer
-- `Customer <n>` <c<thread>-<n>@example.com>, paid with `tok_ok`, on the
-- departure dates of BENCH_DATES (comma-separated, default 2026-12-01) in
-- turn, and asks to wait up to 5 s for the outcome (`Prefer: wait=5`).
--
-- Responses are counted by status; `done` prints the counts of all threads
-- and the latency percentiles on lines starting "bench:", for
-- bench/http_run.sh to read:
--   bench: status 201 12345
--   bench: latency_us p50 1234 p90 2345 p99 3456 max 9999
-- Defining `response` makes wrk parse every reply in Lua (a slower path);
-- http_run.sh runs the same script against the ceiling, so both pay it.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  statuses = {}
  counter = 0
  dates = {}
  for d in string.gmatch(os.getenv("BENCH_DATES") or "", "[^,%s]+") do
    table.insert(dates, d)
  end
  if #dates == 0 then
    dates = { "2026-12-01" }
  end
  headers = {
    ["Content-Type"] = "application/json",
    ["Prefer"] = "wait=5",
  }
end

function request()
  counter = counter + 1
  local date = dates[(counter - 1) % #dates + 1]
  local body = string.format(
    '{"tour_id":"lisbon-food","date":"%s","seats":1,' ..
    '"customer":{"name":"Customer %d","email":"c%d-%d@example.com"},' ..
    '"payment":{"token":"tok_ok"}}',
    date, counter, id, counter)
  return wrk.format("POST", "/api/v1/bookings", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      total[status] = (total[status] or 0) + n
    end
  end
  local codes = {}
  for status in pairs(total) do
    table.insert(codes, status)
  end
  table.sort(codes)
  for _, status in ipairs(codes) do
    io.write(string.format("bench: status %d %d\n", status, total[status]))
  end
  io.write(string.format(
    "bench: latency_us p50 %d p90 %d p99 %d max %d\n",
    latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
