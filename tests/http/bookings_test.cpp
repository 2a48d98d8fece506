// Booking outcomes over HTTP: `Prefer: wait=N`, idempotency keys,
// cancellation and the metrics that count them.
#define CAF_SUITE http.bookings
#include "tests/http/api_fixture.hpp"

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

struct fixture : api_fixture {
  /// Checks a problem that reports a booking's outcome: its type ends in
  /// `slug`, it names the booking, and `Location` points at it.
  std::string check_outcome_problem(const http_response& r, int status,
                                    const std::string& slug) {
    auto doc = check_problem(r, status);
    HTTP_CHECK_MSG(ends_with(str(doc, "type"), slug),
                   "type " << str(doc, "type") << " does not end in " << slug);
    auto id = str(doc, "booking_id");
    CAF_CHECK(!id.empty());
    CAF_CHECK_EQUAL(r.header("location"), "/api/v1/bookings/" + id);
    return id;
  }

  /// Books with an idempotency key.
  http_response book_keyed(const std::string& key, const booking_args& a = {},
                           header_list extra = {}) {
    extra.emplace_back("Idempotency-Key", key);
    return book(a, std::move(extra));
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_bookings, fixture)

// -- Prefer: wait=N -----------------------------------------------------------

CAF_TEST(waiting for a confirmed booking gives 201) {
  boot();
  auto r = book_wait({}, 5);
  HTTP_CHECK_STATUS(r, 201);
  CAF_CHECK_EQUAL(r.header("preference-applied"), "wait=5");
  auto doc = r.json();
  auto id = str(doc, "id");
  CAF_CHECK_EQUAL(str(doc, "status"), "confirmed");
  CAF_CHECK(is_null(doc, "reason"));
  CAF_CHECK_EQUAL(r.header("location"), "/api/v1/bookings/" + id);
  CAF_CHECK_EQUAL(str(booking(id), "status"), "confirmed");
}

CAF_TEST(waiting for a sold out booking gives 409 sold-out) {
  boot();
  // 2026-12-02 has two seats.
  HTTP_CHECK_STATUS(book_wait({"lisbon-food", "2026-12-02", 2}), 201);
  auto r = book_wait({"lisbon-food", "2026-12-02", 1}, 5);
  auto id = check_outcome_problem(r, 409, "sold-out");
  CAF_CHECK_EQUAL(r.header("preference-applied"), "wait=5");
  auto b = booking(id);
  CAF_CHECK_EQUAL(str(b, "status"), "failed");
  CAF_CHECK_EQUAL(str(b, "reason"), "sold_out");
  // More seats than the departure has, on an empty departure.
  auto big = book_wait({"porto-wine", "2026-12-05", 20}, 5);
  HTTP_CHECK_STATUS(big, 201);
  auto more = book_wait({"porto-wine", "2026-12-05", 20}, 5);
  HTTP_CHECK_STATUS(more, 201);
  check_outcome_problem(book_wait({"porto-wine", "2026-12-05", 20}, 5), 409,
                        "sold-out");
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold());
}

CAF_TEST(waiting for a declined payment gives 402 payment-declined) {
  boot();
  booking_args a;
  a.token = "tok_decline";
  auto r = book_wait(a, 5);
  auto id = check_outcome_problem(r, 402, "payment-declined");
  CAF_CHECK_EQUAL(r.header("preference-applied"), "wait=5");
  auto b = booking(id);
  CAF_CHECK_EQUAL(str(b, "status"), "failed");
  CAF_CHECK_EQUAL(str(b, "reason"), "payment_declined");
  CAF_CHECK(r.body.find("tok_decline") == std::string::npos);
}

CAF_TEST(waiting for a payment timeout gives 200 failed timeout) {
  cfg.saga.payment_timeout = 200ms;
  boot();
  booking_args a;
  a.token = "tok_timeout";
  auto r = book_wait(a, 10);
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK_EQUAL(r.header("preference-applied"), "wait=10");
  auto doc = r.json();
  CAF_CHECK_EQUAL(str(doc, "status"), "failed");
  CAF_CHECK_EQUAL(str(doc, "reason"), "timeout");
  CAF_CHECK(!str(doc, "id").empty());
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold());
}

CAF_TEST(waiting for an inventory failure gives 200 failed inventory_error) {
  // Every inventory call fails. A failed reserve may have taken effect, so
  // the saga releases it; that would fail too (compensation_failed), so
  // this test drops the release and sees the reserve fail alone.
  cfg.faults.inventory_error_rate = 1.0;
  opts.adjust_tables = [](saga_tables& t) {
    auto& def = t.booking.back();
    def.steps[find_step(def, saga_step::reserve_seats)].compensation
      = saga_command::none;
  };
  boot();
  auto r = book_wait({}, 10);
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK_EQUAL(r.header("preference-applied"), "wait=10");
  auto doc = r.json();
  CAF_CHECK_EQUAL(str(doc, "status"), "failed");
  CAF_CHECK_EQUAL(str(doc, "reason"), "inventory_error");
}

CAF_TEST(waiting for a payment error gives 200 failed payment_error) {
  // tok_flaky fails twice, so two attempts run out.
  cfg.saga.step_retry.max_attempts = 2;
  boot();
  booking_args a;
  a.token = "tok_flaky";
  auto r = book_wait(a, 10);
  HTTP_CHECK_STATUS(r, 200);
  auto doc = r.json();
  CAF_CHECK_EQUAL(str(doc, "status"), "failed");
  CAF_CHECK_EQUAL(str(doc, "reason"), "payment_error");
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold());
}

CAF_TEST(a saga still running after the wait gives 202) {
  cfg.faults.payment_latency = 2s;
  boot();
  auto start = clock_type::now();
  auto r = book_wait({}, 1);
  auto took = seconds_since(start);
  HTTP_CHECK_STATUS(r, 202);
  CAF_CHECK_EQUAL(r.header("preference-applied"), "wait=1");
  auto doc = r.json();
  auto id = str(doc, "id");
  CAF_CHECK_EQUAL(str(doc, "status"), "pending");
  CAF_CHECK_EQUAL(r.header("location"), "/api/v1/bookings/" + id);
  HTTP_CHECK_MSG(took >= 0.9 && took < 1.9, "answered after " << took << " s");
  // The saga goes on and confirms.
  CAF_CHECK(booking_reaches(id, "confirmed", 15s));
}

CAF_TEST(the wait ends as soon as the outcome is known) {
  boot();
  auto start = clock_type::now();
  HTTP_CHECK_STATUS(book_wait({}, 30), 201);
  HTTP_CHECK_MSG(seconds_since(start) < 2, "took " << seconds_since(start));
  CAF_CHECK_EQUAL(book_wait({}, 30).header("preference-applied"), "wait=30");
}

// -- Idempotency-Key ----------------------------------------------------------

CAF_TEST(a retry with the same key and body returns the same booking) {
  boot();
  auto before = stats().started;
  auto first = book_keyed("key-1");
  HTTP_CHECK_STATUS(first, 202);
  auto id = str(first.json(), "id");
  CAF_REQUIRE(!id.empty());
  auto again = book_keyed("key-1");
  HTTP_CHECK_MSG(again.status >= 200 && again.status < 300, again.to_text());
  CAF_CHECK_EQUAL(str(again.json(), "id"), id);
  CAF_CHECK(idle());
  CAF_CHECK_EQUAL(stats().started - before, 1);
  // Later, the retry shows the current status.
  CAF_REQUIRE(booking_reaches(id, "confirmed"));
  auto late = book_keyed("key-1");
  HTTP_CHECK_MSG(late.status >= 200 && late.status < 300, late.to_text());
  CAF_CHECK_EQUAL(str(late.json(), "id"), id);
  CAF_CHECK_EQUAL(str(late.json(), "status"), "confirmed");
  // A waiting retry of a confirmed booking is a 201 like the original.
  auto waited = book_keyed("key-1", {}, {{"Prefer", "wait=5"}});
  HTTP_CHECK_STATUS(waited, 201);
  CAF_CHECK_EQUAL(str(waited.json(), "id"), id);
  CAF_CHECK(idle());
  CAF_CHECK_EQUAL(stats().started - before, 1);
  auto metrics = metrics_text();
  CAF_CHECK_EQUAL(metric(metrics, "booking_sagas_started_total"),
                  static_cast<double>(stats().started));
  // Another key is another booking; no key at all, too.
  auto other = book_keyed("key-2");
  HTTP_CHECK_STATUS(other, 202);
  CAF_CHECK(str(other.json(), "id") != id);
  auto a = book();
  auto b = book();
  CAF_CHECK(str(a.json(), "id") != str(b.json(), "id"));
}

CAF_TEST(the same key with another body is 422) {
  boot();
  auto first = book_keyed("key-x");
  HTTP_CHECK_STATUS(first, 202);
  booking_args changed;
  changed.seats = 3;
  check_problem(book_keyed("key-x", changed), 422);
  booking_args other_token;
  other_token.token = "tok_decline";
  check_problem(book_keyed("key-x", other_token), 422);
  CAF_CHECK(idle());
  auto list = get("/api/v1/bookings?limit=200").json();
  CAF_REQUIRE_EQUAL(items(list).size(), 1u);
  CAF_CHECK_EQUAL(str(*items(list)[0], "id"), str(first.json(), "id"));
  CAF_CHECK_EQUAL(num(*items(list)[0], "seats"), 2);
}

CAF_TEST(a retry after its date was dropped returns the stored booking) {
  boot();
  // A first attempt that failed holds no seats on its date...
  booking_args a;
  a.token = "tok_decline";
  auto first = book_keyed("key-gone", a, {{"Prefer", "wait=5"}});
  auto id = check_outcome_problem(first, 402, "payment-declined");
  CAF_REQUIRE(idle());
  auto started = metric(metrics_text(), "booking_sagas_started_total");
  // ... so the tour may be replaced without that date.
  auto replaced = call("POST", "/api/v1/tours", R"({"id": "lisbon-food",
    "name": "Lisbon Food Walk", "price_cents": 4500, "currency": "EUR",
    "departures": [{"date": "2026-12-02", "capacity": 2},
                   {"date": "2026-12-03", "capacity": 30}]})");
  HTTP_CHECK_STATUS(replaced, 200);
  CAF_REQUIRE(eventually([&] {
    return item_count(get("/api/v1/tours/lisbon-food/availability").json(),
                      "dates")
           == 2;
  }));
  // A new booking on the dropped date is refused...
  check_problem(book(a), 422);
  // ... but a retry of the first attempt is answered by the stored booking.
  auto again = book_keyed("key-gone", a, {{"Prefer", "wait=5"}});
  CAF_CHECK_EQUAL(check_outcome_problem(again, 402, "payment-declined"), id);
  auto plain = book_keyed("key-gone", a);
  HTTP_CHECK_STATUS(plain, 202);
  auto doc = plain.json();
  CAF_CHECK_EQUAL(str(doc, "id"), id);
  CAF_CHECK_EQUAL(str(doc, "status"), "failed");
  CAF_CHECK_EQUAL(str(doc, "reason"), "payment_declined");
  CAF_CHECK_EQUAL(plain.header("location"), "/api/v1/bookings/" + id);
  // Another body under the key is still a conflict of the key.
  booking_args other = a;
  other.seats = 3;
  check_problem(book_keyed("key-gone", other), 422);
  // No saga ran again.
  CAF_CHECK(idle());
  CAF_CHECK_EQUAL(metric(metrics_text(), "booking_sagas_started_total"),
                  started);
  auto list = get("/api/v1/bookings?limit=200").json();
  CAF_CHECK_EQUAL(items(list).size(), 1u);
}

CAF_TEST(an idempotency key over 255 characters is refused) {
  boot();
  auto r = book_keyed(std::string(256, 'k'));
  HTTP_CHECK_MSG(r.status == 400 || r.status == 422, r.to_text());
  HTTP_CHECK_STATUS(book_keyed(std::string(255, 'k')), 202);
}

CAF_TEST(fifty concurrent requests with one key make one booking) {
  boot();
  auto before = stats().started;
  booking_args a;
  a.email = "same-key@x.org";
  auto body = booking_body(a);
  auto results = run_concurrently(port, 50, [&](size_t) {
    return std::vector<http_request_spec>{
      {"POST", "/api/v1/bookings", body, {{"Idempotency-Key", "key-50"}}}};
  });
  CAF_REQUIRE_EQUAL(results.size(), 50u);
  std::set<std::string> ids;
  for (auto& r : results) {
    HTTP_CHECK_MSG(r.status >= 200 && r.status < 300,
                   "status " << r.status << " " << r.error << r.body);
    http_response resp;
    resp.body = r.body;
    ids.insert(str(resp.json(), "id"));
  }
  CAF_CHECK_EQUAL(ids.size(), 1u);
  CAF_CHECK(ids.count("") == 0);
  CAF_CHECK(idle());
  CAF_CHECK_EQUAL(stats().started - before, 1);
  auto list = get("/api/v1/bookings?email=same-key@x.org").json();
  CAF_CHECK_EQUAL(items(list).size(), 1u);
}

// -- cancellation -------------------------------------------------------------

CAF_TEST(cancelling a confirmed booking) {
  boot();
  auto id = str(book_wait({}).json(), "id");
  CAF_REQUIRE(!id.empty());
  auto r = call("POST", "/api/v1/bookings/" + id + "/cancel");
  HTTP_CHECK_STATUS(r, 202);
  CAF_CHECK_EQUAL(str(r.json(), "status"), "cancelling");
  CAF_CHECK_EQUAL(str(r.json(), "id"), id);
  CAF_REQUIRE(booking_reaches(id, "cancelled"));
  // Cancelling a cancelled booking is a no-op.
  auto again = call("POST", "/api/v1/bookings/" + id + "/cancel");
  HTTP_CHECK_STATUS(again, 200);
  CAF_CHECK_EQUAL(str(again.json(), "status"), "cancelled");
  auto del = call("DELETE", "/api/v1/bookings/" + id);
  HTTP_CHECK_STATUS(del, 200);
  CAF_CHECK_EQUAL(str(del.json(), "status"), "cancelled");
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold({id}));
  // A cancellation notification went out.
  CAF_CHECK(eventually([&] {
    auto doc = get("/api/v1/notifications?booking_id=" + id).json();
    for (auto n : items(doc))
      if (str(*n, "kind") == "booking_cancelled")
        return true;
    return false;
  }));
}

CAF_TEST(cancelling with a wait gives 200 cancelled) {
  boot();
  auto id = str(book_wait({}).json(), "id");
  CAF_REQUIRE(!id.empty());
  auto r = call("POST", "/api/v1/bookings/" + id + "/cancel", {},
                {{"Prefer", "wait=5"}});
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK_EQUAL(str(r.json(), "status"), "cancelled");
  CAF_CHECK_EQUAL(r.header("preference-applied"), "wait=5");
  auto id2 = str(book_wait({}).json(), "id");
  auto d = call("DELETE", "/api/v1/bookings/" + id2, {},
                {{"Prefer", "wait=5"}});
  HTTP_CHECK_STATUS(d, 200);
  CAF_CHECK_EQUAL(str(d.json(), "status"), "cancelled");
  // The seats are back.
  CAF_CHECK(eventually([&] {
    auto a = get("/api/v1/tours/lisbon-food/availability?from=2026-12-01"
                 "&to=2026-12-01")
               .json();
    auto ds = items(a, "dates");
    return ds.size() == 1 && num(*ds[0], "available") == 12;
  }));
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold({id, id2}));
}

CAF_TEST(cancelling a cancelling booking is a 202 without effect) {
  cfg.faults.payment_latency = 500ms;
  boot();
  auto id = str(book_wait({}, 10).json(), "id");
  CAF_REQUIRE(!id.empty());
  HTTP_CHECK_STATUS(call("POST", "/api/v1/bookings/" + id + "/cancel"), 202);
  auto again = call("POST", "/api/v1/bookings/" + id + "/cancel");
  HTTP_CHECK_STATUS(again, 202);
  CAF_CHECK_EQUAL(str(again.json(), "status"), "cancelling");
  CAF_CHECK(booking_reaches(id, "cancelled"));
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold({id}));
}

CAF_TEST(cancelling a failed or pending booking is 409) {
  cfg.faults.payment_latency = 1s;
  boot();
  booking_args a;
  a.token = "tok_decline";
  auto failed = book_wait(a, 10);
  auto failed_id = str(failed.json(), "booking_id");
  CAF_REQUIRE(!failed_id.empty());
  check_problem(call("POST", "/api/v1/bookings/" + failed_id + "/cancel"), 409);
  check_problem(call("DELETE", "/api/v1/bookings/" + failed_id), 409);
  auto pending = book();
  HTTP_CHECK_STATUS(pending, 202);
  auto pending_id = str(pending.json(), "id");
  check_problem(call("POST", "/api/v1/bookings/" + pending_id + "/cancel"),
                409);
  CAF_CHECK_EQUAL(str(booking(failed_id), "status"), "failed");
  CAF_CHECK(booking_reaches(pending_id, "confirmed"));
  check_problem(call("POST", "/api/v1/bookings/unknown-id/cancel"), 404);
}

// -- metrics ------------------------------------------------------------------

CAF_TEST(metrics count requests and sagas) {
  boot();
  const std::map<std::string, std::string> posted
    = {{"route", "/api/v1/bookings"}, {"method", "POST"}, {"status", "202"}};
  auto m0 = metrics_text();
  auto requests0 = metric(m0, "booking_http_requests_total", posted);
  auto started0 = metric(m0, "booking_sagas_started_total");
  auto id = str(book().json(), "id");
  CAF_REQUIRE(!id.empty());
  auto m1 = metrics_text();
  CAF_CHECK_EQUAL(metric(m1, "booking_http_requests_total", posted),
                  requests0 + 1);
  CAF_CHECK_EQUAL(metric(m1, "booking_sagas_started_total"), started0 + 1);
  CAF_REQUIRE(booking_reaches(id, "confirmed"));
  const std::map<std::string, std::string> got = {
    {"route", "/api/v1/bookings/{id}"}, {"method", "GET"}, {"status", "200"}};
  auto gets0 = metric(metrics_text(), "booking_http_requests_total", got);
  booking_args declined;
  declined.token = "tok_decline";
  check_problem(book_wait(declined), 402);
  CAF_CHECK(idle());
  HTTP_CHECK_STATUS(get("/api/v1/bookings/" + id), 200);
  HTTP_CHECK_STATUS(get("/no/such/path"), 404);
  auto m2 = metrics_text();
  CAF_CHECK(metric(m2, "booking_sagas_completed_total",
                   {{"outcome", "confirmed"}, {"reason", "none"}})
            >= 1);
  CAF_CHECK(metric(m2, "booking_sagas_completed_total",
                   {{"outcome", "failed"}, {"reason", "payment_declined"}})
            >= 1);
  CAF_CHECK_EQUAL(metric(m2, "booking_sagas_in_flight"), 0.0);
  CAF_CHECK(
    metric(m2, "booking_saga_compensations_total", {{"step", "reserve_seats"}})
    >= 1);
  CAF_CHECK_EQUAL(metric(m2, "booking_http_requests_total", got), gets0 + 1);
  CAF_CHECK(metric(m2, "booking_http_requests_total",
                   {{"route", "unmatched"}, {"status", "404"}})
            >= 1);
  CAF_CHECK(metric(m2, "booking_http_requests_total",
                   {{"route", "/api/v1/bookings"},
                    {"method", "POST"},
                    {"status", "402"}})
            >= 1);
  // Routes are templates, never raw paths.
  std::string raw;
  for (auto& s : parse_metrics(m2)) {
    auto i = s.labels.find("route");
    if (i != s.labels.end()
        && (i->second.find(id) != std::string::npos
            || i->second.find("/no/such") != std::string::npos))
      raw += " " + i->second;
  }
  HTTP_CHECK_MSG(raw.empty(), "raw paths in route labels:" << raw);
  // Cancellations are counted too.
  HTTP_CHECK_STATUS(call("POST", "/api/v1/bookings/" + id + "/cancel", {},
                         {{"Prefer", "wait=5"}}),
                    200);
  CAF_CHECK(idle());
  CAF_CHECK(metric(metrics_text(), "booking_sagas_completed_total",
                   {{"outcome", "cancelled"}})
            >= 1);
}

CAF_TEST_FIXTURE_SCOPE_END()
