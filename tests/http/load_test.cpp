// Many concurrent keep-alive connections against the whole stack, then the
// invariant check over everything they booked.
#define CAF_SUITE http.load
#include "tests/http/api_fixture.hpp"

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

constexpr size_t connections = 1000;

struct fixture : api_fixture {
  fixture() {
    cfg.http.threads = 2;
    cfg.saga.payment_timeout = 500ms;
    // "big" has a seat for everyone; "small" sells out.
    tours = {{"big", "Big Tour", 1000, "EUR", {{"2026-12-01", 2000}}},
             {"small", "Small Tour", 2000, "EUR", {{"2026-12-01", 300}}}};
  }
};

/// The request of connection `i`: every fourth one on "big" waits for the
/// outcome, some pay with a declining or flaky card.
booking_args args_for(size_t i) {
  booking_args a;
  a.tour_id = i % 2 == 0 ? "big" : "small";
  a.date = "2026-12-01";
  a.seats = static_cast<int>(1 + i % 3);
  a.email = "load" + std::to_string(i) + "@x.org";
  if (i % 4 == 2) { // on "big", without waiting
    auto k = (i / 4) % 5;
    a.token = k == 0   ? "tok_decline"
              : k == 1 ? "tok_timeout"
              : k == 2 ? "tok_flaky"
                       : "tok_ok";
  } else if (i % 2 == 1) { // on "small"
    a.token = i % 10 == 3   ? "tok_decline"
              : i % 10 == 7 ? "tok_flaky"
                            : "tok_ok";
  }
  return a;
}

bool waits(size_t i) {
  return i % 4 == 0;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_load, fixture)

CAF_TEST(a thousand concurrent connections book and every invariant holds) {
  boot();
  auto results = run_concurrently(port, connections, [](size_t i) {
    http_request_spec post{
      "POST", "/api/v1/bookings", booking_body(args_for(i)), {}};
    if (waits(i))
      post.headers.emplace_back("Prefer", "wait=30");
    http_request_spec avail{"GET", "/api/v1/tours/big/availability", {}, {}};
    return std::vector<http_request_spec>{post, avail};
  });
  CAF_REQUIRE_EQUAL(results.size(), 2 * connections);
  std::vector<std::string> ids;
  std::map<int, int> statuses;
  size_t bad = 0;
  for (auto& r : results) {
    if (r.index == 1) {
      if (r.status != 200 && bad++ < 5)
        CAF_TEST_PRINT_ERROR("GET on connection " << r.connection << ": "
                                                  << r.status << " "
                                                  << r.error);
      CAF_CHECK_EQUAL(r.status, 200);
      continue;
    }
    ++statuses[r.status];
    auto expected = waits(r.connection) ? 201 : 202;
    if (r.status != expected && bad++ < 5)
      CAF_TEST_PRINT_ERROR("POST on connection " << r.connection << ": "
                                                 << r.status << " " << r.error
                                                 << " " << r.body);
    CAF_CHECK_EQUAL(r.status, expected);
    http_response resp;
    resp.body = r.body;
    auto doc = resp.json();
    auto id = str(doc, "id");
    CAF_CHECK(!id.empty());
    CAF_CHECK_EQUAL(str(doc, "status"),
                    waits(r.connection) ? "confirmed" : "pending");
    if (!id.empty())
      ids.push_back(id);
  }
  for (auto& [status, n] : statuses)
    CAF_MESSAGE("status " << status << ": " << n);
  CAF_CHECK_EQUAL(ids.size(), connections);
  CAF_CHECK_EQUAL(std::set<std::string>(ids.begin(), ids.end()).size(),
                  connections);
  CAF_REQUIRE(idle(120s));
  auto world = collect_world(*self, e);
  CAF_CHECK_EQUAL(world.bookings.size(), connections);
  std::map<std::string, int> outcomes;
  int32_t small_sold = 0;
  for (auto& b : world.bookings) {
    ++outcomes[b.tour_id + "/" + to_string(b.status) + "/" + b.reason];
    if (b.tour_id == "small" && b.status == booking_status::confirmed)
      small_sold += b.seats;
  }
  for (auto& [k, n] : outcomes)
    CAF_MESSAGE(k << ": " << n);
  CAF_CHECK(outcomes["small/failed/sold_out"] > 0);
  CAF_CHECK(outcomes["big/failed/sold_out"] == 0);
  CAF_CHECK(outcomes["big/failed/payment_declined"] > 0);
  CAF_CHECK(outcomes["big/failed/timeout"] > 0);
  CAF_CHECK(small_sold <= 300);
  CAF_CHECK(invariants_hold(ids));
  // The server still answers, and counted every booking.
  HTTP_CHECK_STATUS(get("/healthz"), 200);
  auto m = metrics_text();
  CAF_CHECK_EQUAL(metric(m, "booking_http_requests_total",
                         {{"route", "/api/v1/bookings"}, {"method", "POST"}}),
                  static_cast<double>(connections));
  CAF_CHECK_EQUAL(metric(m, "booking_sagas_started_total"),
                  static_cast<double>(connections));
}

CAF_TEST_FIXTURE_SCOPE_END()
