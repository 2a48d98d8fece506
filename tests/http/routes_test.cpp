// Every route of the HTTP API (http-api.md), black-box over loopback.
#define CAF_SUITE http.routes
#include "tests/http/api_fixture.hpp"

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

const char* tour_doc = R"({"id": "sintra-hike", "name": "Sintra Hike",
  "price_cents": 6000, "currency": "EUR",
  "departures": [{"date": "2026-11-01", "capacity": 10},
                 {"date": "2026-11-02", "capacity": 5}]})";

struct fixture : api_fixture {
  fixture() {
    // nop
  }

  /// Fetches every page of `target` (which has a query string) with
  /// `limit`; checks the paging rules and returns the ids in order.
  std::vector<std::string> all_pages(const std::string& target, int limit) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {
      auto url = target + "&limit=" + std::to_string(limit);
      if (!cursor.empty())
        url += "&cursor=" + cursor;
      auto r = get(url);
      HTTP_CHECK_STATUS(r, 200);
      auto doc = r.json();
      CAF_REQUIRE(doc.IsObject());
      auto xs = items(doc);
      for (auto x : xs)
        ids.push_back(str(*x, "id"));
      auto next = member(doc, "next_cursor");
      CAF_REQUIRE(next != nullptr);
      if (next->IsNull())
        return ids;
      // Every page but the last is full.
      CAF_CHECK_EQUAL(xs.size(), static_cast<size_t>(limit));
      CAF_REQUIRE(next->IsString());
      cursor = next->GetString();
      CAF_REQUIRE(!cursor.empty());
    }
    CAF_FAIL("paging never ends");
    return ids;
  }

  /// Creates a pending booking with the default body; returns its id.
  std::string book_id(const booking_args& a = {}) {
    auto r = book(a);
    HTTP_CHECK_STATUS(r, 202);
    return str(r.json(), "id");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_routes, fixture)

// -- tours --------------------------------------------------------------------

CAF_TEST(a new tour is created with 201 and returned as stored) {
  boot();
  auto r = call("POST", "/api/v1/tours", tour_doc);
  HTTP_CHECK_STATUS(r, 201);
  CAF_CHECK(starts_with(r.header("content-type"), "application/json"));
  auto doc = r.json();
  CAF_CHECK_EQUAL(str(doc, "id"), "sintra-hike");
  CAF_CHECK_EQUAL(str(doc, "name"), "Sintra Hike");
  CAF_CHECK_EQUAL(num(doc, "price_cents"), 6000);
  CAF_CHECK_EQUAL(str(doc, "currency"), "EUR");
  auto deps = items(doc, "departures");
  CAF_REQUIRE_EQUAL(deps.size(), 2u);
  CAF_CHECK_EQUAL(str(*deps[0], "date"), "2026-11-01");
  CAF_CHECK_EQUAL(num(*deps[0], "capacity"), 10);
  CAF_CHECK_EQUAL(str(*deps[1], "date"), "2026-11-02");
  CAF_CHECK_EQUAL(num(*deps[1], "capacity"), 5);
  // GET returns it, the list has it.
  auto g = get("/api/v1/tours/sintra-hike");
  HTTP_CHECK_STATUS(g, 200);
  CAF_CHECK_EQUAL(str(g.json(), "name"), "Sintra Hike");
  CAF_CHECK_EQUAL(item_count(g.json(), "departures"), 2u);
  auto l = get("/api/v1/tours");
  HTTP_CHECK_STATUS(l, 200);
  std::set<std::string> ids;
  auto listed = l.json();
  for (auto x : items(listed))
    ids.insert(str(*x, "id"));
  CAF_CHECK_EQUAL(ids.size(), 3u);
  CAF_CHECK(ids.count("sintra-hike") == 1);
  CAF_CHECK(ids.count("lisbon-food") == 1);
  CAF_CHECK(ids.count("porto-wine") == 1);
}

CAF_TEST(a replace answers 200 and drops absent departures) {
  boot();
  HTTP_CHECK_STATUS(call("POST", "/api/v1/tours", tour_doc), 201);
  auto r = call("POST", "/api/v1/tours", R"({"id": "sintra-hike",
    "name": "Sintra Hike II", "price_cents": 6500, "currency": "EUR",
    "departures": [{"date": "2026-11-02", "capacity": 8}]})");
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK_EQUAL(str(r.json(), "name"), "Sintra Hike II");
  auto g = get("/api/v1/tours/sintra-hike");
  HTTP_CHECK_STATUS(g, 200);
  auto doc = g.json();
  CAF_CHECK_EQUAL(num(doc, "price_cents"), 6500);
  auto deps = items(doc, "departures");
  CAF_REQUIRE_EQUAL(deps.size(), 1u);
  CAF_CHECK_EQUAL(str(*deps[0], "date"), "2026-11-02");
  CAF_CHECK_EQUAL(num(*deps[0], "capacity"), 8);
  // Availability follows (it may lag a little).
  CAF_CHECK(eventually([&] {
    auto a = get("/api/v1/tours/sintra-hike/availability").json();
    auto dates = items(a, "dates");
    return dates.size() == 1 && str(*dates[0], "date") == "2026-11-02"
           && num(*dates[0], "capacity") == 8;
  }));
  // The dropped date no longer takes bookings.
  booking_args a;
  a.tour_id = "sintra-hike";
  a.date = "2026-11-01";
  auto b = book(a);
  auto problem = check_problem(b, 422);
  CAF_CHECK(error_fields(problem).count("date") == 1);
}

CAF_TEST(unknown tours are 404) {
  boot();
  check_problem(get("/api/v1/tours/nope"), 404);
  check_problem(get("/api/v1/tours/nope/availability"), 404);
}

CAF_TEST(capacity below the seats taken is 409 and keeps the tour) {
  boot();
  auto b = book_wait({"lisbon-food", "2026-12-01", 3});
  HTTP_CHECK_STATUS(b, 201);
  const char* lower = R"({"id": "lisbon-food", "name": "Lisbon Food Walk",
    "price_cents": 4500, "currency": "EUR",
    "departures": [{"date": "2026-12-01", "capacity": 2},
                   {"date": "2026-12-02", "capacity": 2},
                   {"date": "2026-12-03", "capacity": 30}]})";
  check_problem(call("POST", "/api/v1/tours", lower), 409);
  const char* dropped = R"({"id": "lisbon-food", "name": "Lisbon Food Walk",
    "price_cents": 4500, "currency": "EUR",
    "departures": [{"date": "2026-12-02", "capacity": 2},
                   {"date": "2026-12-03", "capacity": 30}]})";
  check_problem(call("POST", "/api/v1/tours", dropped), 409);
  auto g = get("/api/v1/tours/lisbon-food");
  HTTP_CHECK_STATUS(g, 200);
  auto tour_doc = g.json();
  auto deps = items(tour_doc, "departures");
  CAF_REQUIRE_EQUAL(deps.size(), 3u);
  CAF_CHECK_EQUAL(str(*deps[0], "date"), "2026-12-01");
  CAF_CHECK_EQUAL(num(*deps[0], "capacity"), 12);
  // Exactly the seats taken is fine.
  const char* exact = R"({"id": "lisbon-food", "name": "Lisbon Food Walk",
    "price_cents": 4500, "currency": "EUR",
    "departures": [{"date": "2026-12-01", "capacity": 3},
                   {"date": "2026-12-02", "capacity": 2},
                   {"date": "2026-12-03", "capacity": 30}]})";
  HTTP_CHECK_STATUS(call("POST", "/api/v1/tours", exact), 200);
}

CAF_TEST(tour validation lists every failing field) {
  boot();
  auto r = call("POST", "/api/v1/tours", R"({"id": "Bad_ID!", "name": "",
    "price_cents": -1, "currency": "eur",
    "departures": [{"date": "2026-02-30", "capacity": 0}]})");
  auto doc = check_problem(r, 422);
  auto fields = error_fields(doc);
  for (auto f : {"id", "name", "price_cents", "currency"})
    HTTP_CHECK_MSG(fields.count(f) == 1, "missing " << f << ": " << r.body);
  CAF_CHECK(has_field_like(fields, "departures", "date"));
  CAF_CHECK(has_field_like(fields, "departures", "capacity"));
  for (auto e : items(doc, "errors"))
    CAF_CHECK(!str(*e, "message").empty());
  // Duplicate dates, no departures, a non-integer price, a long id.
  auto dup = call("POST", "/api/v1/tours", R"({"id": "x", "name": "X",
    "price_cents": 1, "currency": "EUR",
    "departures": [{"date": "2026-11-01", "capacity": 1},
                   {"date": "2026-11-01", "capacity": 2}]})");
  CAF_CHECK(
    has_field_like(error_fields(check_problem(dup, 422)), "departures"));
  auto none = call("POST", "/api/v1/tours", R"({"id": "x", "name": "X",
    "price_cents": 1, "currency": "EUR", "departures": []})");
  CAF_CHECK(
    has_field_like(error_fields(check_problem(none, 422)), "departures"));
  auto frac = call("POST", "/api/v1/tours", R"({"id": "x", "name": "X",
    "price_cents": 1.5, "currency": "EUR",
    "departures": [{"date": "2026-11-01", "capacity": 100001}]})");
  auto frac_fields = error_fields(check_problem(frac, 422));
  CAF_CHECK(frac_fields.count("price_cents") == 1);
  CAF_CHECK(has_field_like(frac_fields, "departures", "capacity"));
  auto long_id = call("POST", "/api/v1/tours",
                      R"({"id": ")" + std::string(65, 'a') + R"(", "name": "X",
    "price_cents": 1, "currency": "EUR",
    "departures": [{"date": "2026-11-01", "capacity": 1}]})");
  CAF_CHECK(error_fields(check_problem(long_id, 422)).count("id") == 1);
  // Nothing was stored.
  HTTP_CHECK_STATUS(get("/api/v1/tours/x"), 404);
}

// -- availability -------------------------------------------------------------

CAF_TEST(availability honours from and to and counts taken seats) {
  boot();
  auto all = get("/api/v1/tours/lisbon-food/availability");
  HTTP_CHECK_STATUS(all, 200);
  auto doc = all.json();
  CAF_CHECK_EQUAL(str(doc, "tour_id"), "lisbon-food");
  auto dates = items(doc, "dates");
  CAF_REQUIRE_EQUAL(dates.size(), 3u);
  CAF_CHECK_EQUAL(str(*dates[0], "date"), "2026-12-01");
  CAF_CHECK_EQUAL(num(*dates[0], "capacity"), 12);
  CAF_CHECK_EQUAL(num(*dates[0], "available"), 12);
  auto from = get("/api/v1/tours/lisbon-food/availability?from=2026-12-02");
  HTTP_CHECK_STATUS(from, 200);
  auto from_doc = from.json();
  auto from_dates = items(from_doc, "dates");
  CAF_REQUIRE_EQUAL(from_dates.size(), 2u);
  CAF_CHECK_EQUAL(str(*from_dates[0], "date"), "2026-12-02");
  CAF_CHECK_EQUAL(str(*from_dates[1], "date"), "2026-12-03");
  auto to = get("/api/v1/tours/lisbon-food/availability?to=2026-12-02");
  CAF_CHECK_EQUAL(item_count(to.json(), "dates"), 2u);
  auto both = get(
    "/api/v1/tours/lisbon-food/availability?from=2026-12-02&to=2026-12-02");
  HTTP_CHECK_STATUS(both, 200);
  auto both_doc = both.json();
  auto one = items(both_doc, "dates");
  CAF_REQUIRE_EQUAL(one.size(), 1u);
  CAF_CHECK_EQUAL(str(*one[0], "date"), "2026-12-02");
  CAF_CHECK_EQUAL(num(*one[0], "capacity"), 2);
  // A confirmed booking takes seats.
  HTTP_CHECK_STATUS(book_wait({"lisbon-food", "2026-12-01", 5}), 201);
  CAF_CHECK(eventually([&] {
    auto a = get("/api/v1/tours/lisbon-food/availability?from=2026-12-01"
                 "&to=2026-12-01")
               .json();
    auto ds = items(a, "dates");
    return ds.size() == 1 && num(*ds[0], "available") == 7;
  }));
}

// -- bookings -----------------------------------------------------------------

CAF_TEST(a booking is accepted with 202 Location and status pending) {
  boot();
  booking_args a;
  a.token = "tok_secret_4242";
  auto r = book(a);
  HTTP_CHECK_STATUS(r, 202);
  CAF_CHECK(starts_with(r.header("content-type"), "application/json"));
  auto doc = r.json();
  auto id = str(doc, "id");
  CAF_REQUIRE(!id.empty());
  CAF_CHECK_EQUAL(r.header("location"), "/api/v1/bookings/" + id);
  CAF_CHECK_EQUAL(str(doc, "status"), "pending");
  CAF_CHECK_EQUAL(str(doc, "tour_id"), "lisbon-food");
  CAF_CHECK_EQUAL(str(doc, "date"), "2026-12-01");
  CAF_CHECK_EQUAL(num(doc, "seats"), 2);
  CAF_CHECK_EQUAL(num(doc, "amount_cents"), 9000);
  CAF_CHECK_EQUAL(str(doc, "currency"), "EUR");
  CAF_CHECK(r.body.find("tok_secret_4242") == std::string::npos);
  // GET shows the whole booking, once the saga ends confirmed.
  CAF_REQUIRE(booking_reaches(id, "confirmed"));
  auto g = get("/api/v1/bookings/" + id);
  HTTP_CHECK_STATUS(g, 200);
  CAF_CHECK(g.body.find("tok_secret_4242") == std::string::npos);
  auto b = g.json();
  CAF_CHECK_EQUAL(str(b, "id"), id);
  CAF_CHECK(is_null(b, "reason"));
  CAF_CHECK_EQUAL(num(b, "seats"), 2);
  CAF_CHECK_EQUAL(num(b, "amount_cents"), 9000);
  auto cust = member(b, "customer");
  CAF_REQUIRE(cust != nullptr);
  CAF_CHECK_EQUAL(str(*cust, "name"), "Ana Lima");
  CAF_CHECK_EQUAL(str(*cust, "email"), "ana@example.com");
  CAF_CHECK_EQUAL(str(*cust, "phone"), "+351912345678");
  CAF_CHECK(!str(b, "created_at").empty());
  CAF_CHECK(!str(b, "updated_at").empty());
  CAF_CHECK(member(b, "payment") == nullptr);
  auto saga = items(b, "saga");
  CAF_REQUIRE(saga.size() >= 3);
  CAF_CHECK_EQUAL(str(*saga[0], "step"), "reserve_seats");
  CAF_CHECK_EQUAL(str(*saga[0], "action"), "execute");
  CAF_CHECK_EQUAL(str(*saga[0], "outcome"), "ok");
  CAF_CHECK_EQUAL(num(*saga[0], "attempt"), 1);
  CAF_CHECK(!str(*saga[0], "at").empty());
  CAF_CHECK(is_null(*saga[0], "error"));
  std::set<std::string> steps;
  for (auto s : saga)
    steps.insert(str(*s, "step"));
  CAF_CHECK(steps.count("authorize_payment") == 1);
  CAF_CHECK(steps.count("confirm_booking") == 1);
  // Nor does the list or any notification echo the token.
  CAF_CHECK(get("/api/v1/bookings").body.find("tok_secret_4242")
            == std::string::npos);
  CAF_CHECK(idle());
  CAF_CHECK(get("/api/v1/notifications").body.find("tok_secret_4242")
            == std::string::npos);
}

CAF_TEST(unknown bookings and notifications are 404) {
  boot();
  check_problem(get("/api/v1/bookings/00000000-0000-4000-8000-000000000000"),
                404);
  check_problem(get("/api/v1/bookings/nope"), 404);
  check_problem(call("POST", "/api/v1/bookings/nope/cancel"), 404);
  check_problem(call("DELETE", "/api/v1/bookings/nope"), 404);
  check_problem(get("/api/v1/notifications/nope"), 404);
}

CAF_TEST(booking lists filter and page through every item once) {
  boot();
  std::set<std::string> ana, bob, porto;
  for (int i = 0; i < 7; ++i)
    ana.insert(book_id({"lisbon-food", "2026-12-03", 1, "Ana", "ana@x.org"}));
  for (int i = 0; i < 5; ++i)
    bob.insert(book_id({"lisbon-food", "2026-12-03", 1, "Bob", "bob@x.org"}));
  for (int i = 0; i < 4; ++i)
    porto.insert(book_id({"porto-wine", "2026-12-05", 1, "Ana", "ana@x.org"}));
  CAF_REQUIRE(idle());
  // Email filter, pages of 3 over 11 items: 3, 3, 3, 2.
  auto ids = all_pages("/api/v1/bookings?email=ana@x.org", 3);
  CAF_CHECK_EQUAL(ids.size(), 11u);
  std::set<std::string> unique(ids.begin(), ids.end());
  CAF_CHECK_EQUAL(unique.size(), ids.size());
  for (auto& id : ana)
    CAF_CHECK(unique.count(id) == 1);
  for (auto& id : porto)
    CAF_CHECK(unique.count(id) == 1);
  // Filters combine with AND.
  auto both = all_pages("/api/v1/bookings?email=ana@x.org&tour_id=porto-wine",
                        2);
  CAF_CHECK_EQUAL(std::set<std::string>(both.begin(), both.end()), porto);
  auto by_tour = all_pages("/api/v1/bookings?tour_id=lisbon-food", 5);
  CAF_CHECK_EQUAL(by_tour.size(), 12u);
  auto confirmed = all_pages("/api/v1/bookings?status=confirmed", 4);
  CAF_CHECK_EQUAL(confirmed.size(), 16u);
  auto failed = all_pages("/api/v1/bookings?status=failed", 4);
  CAF_CHECK_EQUAL(failed.size(), 0u);
  // All of them, in one page and in pages of one.
  auto one_page = all_pages("/api/v1/bookings?status=confirmed", 200);
  auto singles = all_pages("/api/v1/bookings?status=confirmed", 1);
  CAF_CHECK_EQUAL(one_page, singles);
  // Items are bookings.
  auto r = get("/api/v1/bookings?email=bob@x.org");
  HTTP_CHECK_STATUS(r, 200);
  auto doc = r.json();
  CAF_CHECK(is_null(doc, "next_cursor"));
  auto xs = items(doc);
  CAF_REQUIRE_EQUAL(xs.size(), 5u);
  for (auto x : xs) {
    CAF_CHECK(bob.count(str(*x, "id")) == 1);
    CAF_CHECK_EQUAL(str(*x, "status"), "confirmed");
    CAF_CHECK_EQUAL(num(*x, "seats"), 1);
  }
}

CAF_TEST(the default page holds 50 bookings) {
  boot();
  for (int i = 0; i < 51; ++i)
    book_id({"porto-wine", "2026-12-05", 1, "Ana", "page@x.org"});
  auto r = get("/api/v1/bookings?email=page@x.org");
  HTTP_CHECK_STATUS(r, 200);
  auto doc = r.json();
  CAF_CHECK_EQUAL(items(doc).size(), 50u);
  auto next = member(doc, "next_cursor");
  CAF_REQUIRE(next != nullptr);
  CAF_REQUIRE(next->IsString());
  auto rest = get("/api/v1/bookings?email=page@x.org&cursor="
                  + std::string{next->GetString()});
  HTTP_CHECK_STATUS(rest, 200);
  CAF_CHECK_EQUAL(item_count(rest.json()), 1u);
  CAF_CHECK(is_null(rest.json(), "next_cursor"));
}

CAF_TEST(a limit outside 1 to 200 is 422) {
  boot();
  for (auto limit : {"0", "201", "abc", "-1", "", "1.5"}) {
    auto r = get(std::string{"/api/v1/bookings?limit="} + limit);
    HTTP_CHECK_MSG(r.status == 422, "limit=" << limit << ": " << r.to_text());
    if (r.status == 422)
      check_problem(r, 422);
    auto n = get(std::string{"/api/v1/notifications?limit="} + limit);
    HTTP_CHECK_MSG(n.status == 422, "limit=" << limit << ": " << n.to_text());
  }
  HTTP_CHECK_STATUS(get("/api/v1/bookings?limit=1"), 200);
  HTTP_CHECK_STATUS(get("/api/v1/bookings?limit=200"), 200);
}

CAF_TEST(cancel works by POST and by DELETE) {
  boot();
  auto a = str(book_wait({}).json(), "id");
  auto b = str(book_wait({}).json(), "id");
  CAF_REQUIRE(!a.empty() && !b.empty());
  auto ra = call("POST", "/api/v1/bookings/" + a + "/cancel");
  HTTP_CHECK_STATUS(ra, 202);
  CAF_CHECK_EQUAL(str(ra.json(), "status"), "cancelling");
  auto rb = call("DELETE", "/api/v1/bookings/" + b);
  HTTP_CHECK_STATUS(rb, 202);
  CAF_CHECK_EQUAL(str(rb.json(), "status"), "cancelling");
  CAF_CHECK(booking_reaches(a, "cancelled"));
  CAF_CHECK(booking_reaches(b, "cancelled"));
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold({a, b}));
}

// -- notifications ------------------------------------------------------------

CAF_TEST(notifications are listed by booking and email and fetched by id) {
  boot();
  auto a
    = str(book_wait({"lisbon-food", "2026-12-01", 1, "Ana", "n1@x.org"}).json(),
          "id");
  auto b
    = str(book_wait({"lisbon-food", "2026-12-01", 1, "Ana", "n1@x.org"}).json(),
          "id");
  booking_args declined{"lisbon-food", "2026-12-01", 1, "Bo", "n2@x.org"};
  declined.token = "tok_decline";
  auto c = str(book_wait(declined).json(), "booking_id");
  CAF_REQUIRE(!a.empty() && !b.empty() && !c.empty());
  CAF_REQUIRE(idle());
  CAF_REQUIRE(eventually([&] {
    return item_count(get("/api/v1/notifications?email=n1@x.org").json()) == 2;
  }));
  auto r = get("/api/v1/notifications?booking_id=" + a);
  HTTP_CHECK_STATUS(r, 200);
  auto doc = r.json();
  CAF_CHECK(is_null(doc, "next_cursor"));
  auto xs = items(doc);
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  auto& n = *xs[0];
  auto id = str(n, "id");
  CAF_CHECK(!id.empty());
  CAF_CHECK_EQUAL(str(n, "booking_id"), a);
  CAF_CHECK_EQUAL(str(n, "kind"), "booking_confirmed");
  CAF_CHECK_EQUAL(str(n, "channel"), "email");
  CAF_CHECK_EQUAL(str(n, "to"), "n1@x.org");
  CAF_CHECK(!str(n, "subject").empty());
  CAF_CHECK(!str(n, "body").empty());
  CAF_CHECK_EQUAL(str(n, "status"), "sent");
  CAF_CHECK(num(n, "attempts") >= 1);
  CAF_CHECK(!str(n, "created_at").empty());
  auto g = get("/api/v1/notifications/" + id);
  HTTP_CHECK_STATUS(g, 200);
  CAF_CHECK_EQUAL(str(g.json(), "id"), id);
  CAF_CHECK_EQUAL(str(g.json(), "booking_id"), a);
  // The failure notification of the declined booking.
  auto failed_doc = get("/api/v1/notifications?booking_id=" + c).json();
  auto f = items(failed_doc);
  CAF_REQUIRE_EQUAL(f.size(), 1u);
  CAF_CHECK_EQUAL(str(*f[0], "kind"), "booking_failed");
  CAF_CHECK_EQUAL(str(*f[0], "to"), "n2@x.org");
  // Filters combine; paging by one.
  auto ab_doc
    = get("/api/v1/notifications?email=n1@x.org&booking_id=" + b).json();
  auto ab = items(ab_doc);
  CAF_REQUIRE_EQUAL(ab.size(), 1u);
  CAF_CHECK_EQUAL(str(*ab[0], "booking_id"), b);
  CAF_CHECK_EQUAL(
    item_count(
      get("/api/v1/notifications?email=n2@x.org&booking_id=" + b).json()),
    0u);
  auto page = get("/api/v1/notifications?email=n1@x.org&limit=1").json();
  CAF_CHECK_EQUAL(items(page).size(), 1u);
  auto next = member(page, "next_cursor");
  CAF_REQUIRE(next != nullptr && next->IsString());
  auto page2 = get("/api/v1/notifications?email=n1@x.org&limit=1&cursor="
                   + std::string{next->GetString()})
                 .json();
  auto second = items(page2);
  CAF_REQUIRE_EQUAL(second.size(), 1u);
  CAF_CHECK(str(*second[0], "id") != str(*items(page)[0], "id"));
  CAF_CHECK(is_null(page2, "next_cursor"));
}

// -- operations ---------------------------------------------------------------

CAF_TEST(healthz and readyz report the process and its checks) {
  boot();
  auto h = get("/healthz");
  HTTP_CHECK_STATUS(h, 200);
  CAF_CHECK_EQUAL(str(h.json(), "status"), "ok");
  auto r = get("/readyz");
  HTTP_CHECK_STATUS(r, 200);
  auto doc = r.json();
  CAF_CHECK_EQUAL(str(doc, "status"), "ready");
  auto checks = member(doc, "checks");
  CAF_REQUIRE(checks != nullptr);
  CAF_CHECK_EQUAL(str(*checks, "store"), "ok");
  CAF_CHECK(member(*checks, "amqp") == nullptr);
  CAF_CHECK_EQUAL(str(*checks, "backpressure"), "ok");
  CAF_CHECK(member(doc, "detail") == nullptr);
  store_state->store(check_state::starting);
  auto s = get("/readyz");
  HTTP_CHECK_STATUS(s, 503);
  CAF_CHECK_EQUAL(str(s.json(), "status"), "unavailable");
  auto starting = s.json();
  CAF_CHECK_EQUAL(str(*member(starting, "checks"), "store"), "starting");
  store_state->store(check_state::down);
  auto d = get("/readyz");
  HTTP_CHECK_STATUS(d, 503);
  auto down = d.json();
  CAF_CHECK_EQUAL(str(*member(down, "checks"), "store"), "down");
  store_state->store(check_state::ok);
  HTTP_CHECK_STATUS(get("/readyz"), 200);
}

CAF_TEST(a full outbox refuses new bookings and makes readyz unready) {
  cfg.amqp.max_backlog = 50;
  boot();
  HTTP_CHECK_STATUS(book(), 202);
  CAF_REQUIRE(idle());
  // As if 50 events waited for a broker that does not confirm them.
  e.gate->outbox_backlog = 50;
  auto r = get("/readyz");
  HTTP_CHECK_STATUS(r, 503);
  auto doc = r.json();
  CAF_CHECK_EQUAL(str(*member(doc, "checks"), "backpressure"),
                  "outbox-backlog");
  auto detail = member(doc, "detail");
  CAF_REQUIRE(detail != nullptr);
  CAF_CHECK_EQUAL(str(*detail, "backpressure"),
                  "50 events wait for the broker's confirm "
                  "(amqp.max-backlog 50)");
  auto refused = book();
  auto problem = check_problem(refused, 429);
  CAF_CHECK(str(problem, "detail").find("outbox-backlog") != std::string::npos);
  CAF_CHECK(!refused.header("retry-after").empty());
  // Nothing was started for it, and the engine recovers by itself.
  CAF_CHECK_EQUAL(e.gate->in_flight(), 0u);
  e.gate->outbox_backlog = 49;
  HTTP_CHECK_STATUS(get("/readyz"), 200);
  HTTP_CHECK_STATUS(book(), 202);
  CAF_REQUIRE(idle());
  e.gate->outbox_backlog = 0;
}

CAF_TEST(readyz includes amqp when it is checked) {
  auto amqp = std::make_shared<std::atomic<check_state>>(check_state::down);
  http_opts.ready.amqp = [amqp] { return amqp->load(); };
  boot();
  auto r = get("/readyz");
  HTTP_CHECK_STATUS(r, 503);
  auto doc = r.json();
  CAF_CHECK_EQUAL(str(doc, "status"), "unavailable");
  auto checks = member(doc, "checks");
  CAF_REQUIRE(checks != nullptr);
  CAF_CHECK_EQUAL(str(*checks, "store"), "ok");
  CAF_CHECK_EQUAL(str(*checks, "amqp"), "down");
  amqp->store(check_state::ok);
  auto ok = get("/readyz");
  HTTP_CHECK_STATUS(ok, 200);
  auto ready = ok.json();
  CAF_CHECK_EQUAL(str(*member(ready, "checks"), "amqp"), "ok");
}

CAF_TEST(metrics expose every family of the spec) {
  boot();
  HTTP_CHECK_STATUS(book_wait({}), 201);
  HTTP_CHECK_STATUS(get("/api/v1/tours"), 200);
  auto r = get("/metrics");
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK(starts_with(r.header("content-type"), "text/plain"));
  CAF_CHECK(r.header("content-type").find("version=0.0.4")
            != std::string::npos);
  auto& text = r.body;
  auto has_type = [&](const std::string& family, const std::string& type) {
    auto line = "# TYPE " + family + " " + type + "\n";
    if (text.find(line) != std::string::npos)
      return true;
    CAF_TEST_PRINT_ERROR("missing: " << line);
    return false;
  };
  CAF_CHECK(has_type("booking_http_requests_total", "counter"));
  CAF_CHECK(has_type("booking_http_request_duration_seconds", "histogram"));
  CAF_CHECK(has_type("booking_sagas_started_total", "counter"));
  CAF_CHECK(has_type("booking_sagas_completed_total", "counter"));
  CAF_CHECK(has_type("booking_saga_duration_seconds", "histogram"));
  CAF_CHECK(has_type("booking_saga_compensations_total", "counter"));
  CAF_CHECK(has_type("booking_saga_retries_total", "counter"));
  CAF_CHECK(has_type("booking_sagas_in_flight", "gauge"));
  CAF_CHECK(has_type("booking_amqp_outbox_backlog", "gauge"));
  CAF_CHECK(has_type("booking_actors", "gauge"));
  // The AMQP families are there, at 0.
  for (auto family :
       {"booking_amqp_published_total", "booking_amqp_confirmed_total",
        "booking_amqp_nacked_total", "booking_amqp_returned_total",
        "booking_amqp_consumed_total", "booking_amqp_acked_total",
        "booking_amqp_rejected_total", "booking_amqp_dead_lettered_total",
        "booking_amqp_outbox_backlog", "booking_amqp_reconnects_total",
        "booking_amqp_outbox_lag_seconds"}) {
    auto v = find_metric(text, family);
    HTTP_CHECK_MSG(v.has_value(), "no sample of " << family);
    if (v)
      CAF_CHECK_EQUAL(*v, 0.0);
  }
  // Actor counts per role, as spawned.
  for (auto& [role, n] : e.actor_counts()) {
    auto v = find_metric(text, "booking_actors", {{"role", role}});
    HTTP_CHECK_MSG(v.has_value(), "no booking_actors for role " << role);
    if (v)
      CAF_CHECK_EQUAL(*v, static_cast<double>(n));
  }
  // Histograms have buckets, a sum and a count.
  CAF_CHECK(find_metric(text, "booking_http_request_duration_seconds_bucket",
                        {{"route", "/api/v1/bookings"}, {"le", "+Inf"}})
              .value_or(0)
            >= 1);
  CAF_CHECK(find_metric(text, "booking_http_request_duration_seconds_count",
                        {{"route", "/api/v1/bookings"}})
              .has_value());
  CAF_CHECK(find_metric(text, "booking_http_request_duration_seconds_sum",
                        {{"route", "/api/v1/bookings"}})
              .has_value());
  CAF_CHECK(find_metric(text, "booking_saga_duration_seconds_count").value_or(0)
            >= 1);
  CAF_CHECK(metric(text, "booking_sagas_started_total") >= 1);
  CAF_CHECK(find_metric(text, "booking_sagas_in_flight").has_value());
}

CAF_TEST_FIXTURE_SCOPE_END()
