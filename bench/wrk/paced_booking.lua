-- wrk script: post_booking.lua at a fixed rate per connection.
--
--   BENCH_DELAY_MS=40 wrk -t2 -c8 -d600s -s bench/wrk/paced_booking.lua URL
--
-- Each connection waits BENCH_DELAY_MS between its requests, so the rate is
-- about connections × 1000 / BENCH_DELAY_MS requests per second (less if
-- the server answers slower than that). Run from the repository root.

dofile("bench/wrk/post_booking.lua")

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "10")

function delay()
  return pause
end
