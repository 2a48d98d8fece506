// Protection of the HTTP API: timeouts against slow and idle clients, the
// connection limit, bearer tokens, backpressure, the rate limit and CORS.
#define CAF_SUITE http.protection
#include "tests/http/api_fixture.hpp"

#include <cctype>
#include <functional>
#include <system_error>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

/// A payment pool that holds every authorization's answer until it gets
/// `deliver` (any id): its sagas stay in flight as long as a test wants.
struct holding_state {
  std::vector<std::function<void()>> parked;
  static inline const char* name = "holding_payment";
};

payment_actor::behavior_type
hold_authorizations(payment_actor::stateful_pointer<holding_state> self,
                    payment_actor real) {
  return {
    [=](authorize_atom a, payment_request& req) -> caf::result<payment_intent> {
      auto rp = self->make_response_promise<payment_intent>();
      self->state.parked.emplace_back(
        [=]() mutable { rp.delegate(real, a, req); });
      return rp;
    },
    [=](capture_atom a, std::string& id) {
      return self->delegate(real, a, std::move(id));
    },
    [=](void_atom a, std::string& id) {
      return self->delegate(real, a, std::move(id));
    },
    [=](refund_atom a, std::string& id) {
      return self->delegate(real, a, std::move(id));
    },
    [=](status_atom a, std::string& id) {
      return self->delegate(real, a, std::move(id));
    },
    [=](forget_atom a, std::string& id) { self->send(real, a, std::move(id)); },
    [=](fresh_atom a, std::string& id) { self->send(real, a, std::move(id)); },
    [=](deliver_atom, uint64_t) {
      for (auto& f : std::exchange(self->state.parked, {}))
        f();
    },
  };
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

bool is_delay_seconds(const std::string& x) {
  return !x.empty() && std::all_of(x.begin(), x.end(), [](unsigned char c) {
    return std::isdigit(c);
  }) && std::stol(x) >= 1;
}

header_list bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

const char* tour_doc = R"({"id": "sintra-hike", "name": "Sintra Hike",
  "price_cents": 6000, "currency": "EUR",
  "departures": [{"date": "2026-11-01", "capacity": 10}]})";

/// A response and when it came (seconds since the request).
struct timed_response {
  http_response response;
  double after = 0;
};

struct fixture : api_fixture {
  /// Sends a booking with `Prefer: wait=10` on its own connection and
  /// thread, stops the server `delay` later on another thread, runs
  /// `meanwhile` while it stops, and returns the booking's response once the
  /// stop has ended.
  timed_response answer_while_stopping(
    std::chrono::milliseconds delay,
    const std::function<void()>& meanwhile = [] {}) {
    timed_response out;
    std::thread client{[&, p = port] {
      http_connection c{p, 10s};
      auto start = clock_type::now();
      out.response = c.send("POST", "/api/v1/bookings", booking_body({}),
                            {{"Prefer", "wait=10"}});
      out.after = seconds_since(start);
    }};
    std::this_thread::sleep_for(delay);
    std::atomic<bool> stopped{false};
    std::thread stopper{[&] {
      server->stop();
      stopped = true;
    }};
    meanwhile();
    // Still draining: the saga takes longer than `meanwhile`.
    CAF_CHECK(!stopped);
    client.join();
    stopper.join();
    return out;
  }

  /// Trickles `bytes` one at a time, `gap` apart, until the server closes
  /// the connection or 5 s pass; returns whether the server closed it and
  /// when (seconds since `start`).
  std::pair<bool, double> trickle(http_connection& c, const std::string& bytes,
                                  std::chrono::milliseconds gap,
                                  clock_type::time_point start) {
    for (auto ch : bytes) {
      if (seconds_since(start) > 5)
        break;
      if (!c.write_raw(std::string(1, ch)))
        return {true, seconds_since(start)};
      auto w = c.wait_closed(gap);
      if (w.closed)
        return {true, seconds_since(start)};
    }
    return {false, seconds_since(start)};
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_protection, fixture)

// -- timeouts -----------------------------------------------------------------

CAF_TEST(a slowloris client is closed after the read timeout) {
  cfg.http.read_timeout = 1s;
  boot();
  // 150 bytes at 5 per second would take 30 s.
  std::string req = "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: "
                    + std::string(100, 'a') + "\r\n\r\n";
  auto c = connect();
  auto start = clock_type::now();
  auto [closed, after] = trickle(c, req, 200ms, start);
  CAF_CHECK(closed);
  HTTP_CHECK_MSG(after >= 0.8 && after < 2.5, "closed after " << after << " s");
}

CAF_TEST(the read timeout restarts after each response) {
  cfg.http.read_timeout = 1s;
  boot();
  auto c = connect();
  // Each request is quick, so the connection outlives one read timeout.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(500ms);
    HTTP_CHECK_STATUS(c.send("GET", "/healthz"), 200);
  }
  // Then a slow request on the same connection is cut off.
  auto start = clock_type::now();
  auto [closed, after]
    = trickle(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n" + std::string(100, 'x'),
              200ms, start);
  CAF_CHECK(closed);
  HTTP_CHECK_MSG(after >= 0.8 && after < 2.5, "closed after " << after << " s");
}

CAF_TEST(a silent connection is closed after the read timeout) {
  cfg.http.read_timeout = 1s;
  boot();
  auto c = connect();
  auto w = c.wait_closed(5s);
  CAF_CHECK(w.closed);
  HTTP_CHECK_MSG(w.after >= 800ms && w.after < 2500ms,
                 "closed after " << w.after.count() << " ms");
}

CAF_TEST(an idle kept alive connection is closed after the idle timeout) {
  cfg.http.idle_timeout = 1s;
  boot();
  auto c = connect();
  HTTP_CHECK_STATUS(c.send("GET", "/healthz"), 200);
  std::this_thread::sleep_for(500ms);
  HTTP_CHECK_STATUS(c.send("GET", "/healthz"), 200);
  auto w = c.wait_closed(5s);
  CAF_CHECK(w.closed);
  HTTP_CHECK_MSG(w.after >= 800ms && w.after < 2500ms,
                 "closed after " << w.after.count() << " ms");
  // Without an idle timeout of 1 s it would stay open.
}

CAF_TEST(kept alive connections stay open within the timeouts) {
  cfg.http.read_timeout = 3s;
  cfg.http.idle_timeout = 3s;
  boot();
  auto c = connect();
  HTTP_CHECK_STATUS(c.send("GET", "/healthz"), 200);
  auto w = c.wait_closed(1500ms);
  CAF_CHECK(!w.closed);
  HTTP_CHECK_STATUS(c.send("GET", "/healthz"), 200);
}

CAF_TEST(connection close is honoured) {
  boot();
  auto c = connect();
  auto r = c.send("GET", "/healthz", {}, {{"Connection", "close"}});
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK(!r.keep_alive);
  auto w = c.wait_closed(2s);
  CAF_CHECK(w.closed);
  CAF_CHECK(w.received.empty());
}

CAF_TEST(pipelined requests are answered in order) {
  boot();
  auto c = connect();
  std::string two;
  for (auto id : {"first", "second", "third"})
    two += std::string{"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Request-Id: "}
           + id + "\r\n\r\n";
  CAF_REQUIRE(c.write_raw(two));
  for (auto id : {"first", "second", "third"}) {
    auto r = c.read_response();
    HTTP_CHECK_STATUS(r, 200);
    CAF_CHECK_EQUAL(r.header("x-request-id"), id);
  }
  HTTP_CHECK_STATUS(c.send("GET", "/api/v1/tours"), 200);
}

// -- connection limit ---------------------------------------------------------

CAF_TEST(a connection beyond max connections is closed at once) {
  cfg.http.max_connections = 5;
  boot();
  std::vector<http_connection> open;
  for (int i = 0; i < 5; ++i) {
    open.emplace_back(port);
    HTTP_CHECK_STATUS(open.back().send("GET", "/healthz"), 200);
  }
  auto sixth = connect();
  auto w = sixth.wait_closed(3s);
  CAF_CHECK(w.closed);
  HTTP_CHECK_MSG(w.after < 1s, "closed after " << w.after.count() << " ms");
  // The five still work.
  for (auto& c : open)
    HTTP_CHECK_STATUS(c.send("GET", "/healthz"), 200);
  // When one leaves, a new one gets in.
  open.front().close();
  CAF_CHECK(eventually(
    [&] {
      http_connection c{port};
      return c.send("GET", "/healthz").status == 200;
    },
    3s));
}

// -- bearer tokens ------------------------------------------------------------

CAF_TEST(with admin and api tokens every api route needs its token) {
  http_opts.admin_token = "admin-secret";
  http_opts.api_token = "api-secret";
  boot();
  // Tours: the admin token.
  auto none = call("POST", "/api/v1/tours", tour_doc);
  check_problem(none, 401);
  CAF_CHECK(starts_with(none.header("www-authenticate"), "Bearer"));
  auto basic = call("POST", "/api/v1/tours", tour_doc,
                    {{"Authorization", "Basic YWRtaW46c2VjcmV0"}});
  check_problem(basic, 401);
  CAF_CHECK(starts_with(basic.header("www-authenticate"), "Bearer"));
  check_problem(call("POST", "/api/v1/tours", tour_doc, bearer("wrong")), 403);
  check_problem(call("POST", "/api/v1/tours", tour_doc, bearer("admin")), 403);
  check_problem(call("POST", "/api/v1/tours", tour_doc, bearer("api-secret")),
                403);
  HTTP_CHECK_STATUS(
    call("POST", "/api/v1/tours", tour_doc, bearer("admin-secret")), 201);
  // Everything else under /api/: the api token.
  auto list = get("/api/v1/tours");
  check_problem(list, 401);
  CAF_CHECK(starts_with(list.header("www-authenticate"), "Bearer"));
  check_problem(get("/api/v1/tours", bearer("wrong")), 403);
  HTTP_CHECK_STATUS(get("/api/v1/tours", bearer("api-secret")), 200);
  check_problem(book(), 401);
  check_problem(book({}, bearer("api-secret-2")), 403);
  auto booked = book({}, bearer("api-secret"));
  HTTP_CHECK_STATUS(booked, 202);
  auto id = str(booked.json(), "id");
  check_problem(get("/api/v1/bookings/" + id), 401);
  HTTP_CHECK_STATUS(get("/api/v1/bookings/" + id, bearer("api-secret")), 200);
  check_problem(get("/api/v1/bookings"), 401);
  check_problem(call("POST", "/api/v1/bookings/" + id + "/cancel"), 401);
  check_problem(get("/api/v1/notifications"), 401);
  HTTP_CHECK_STATUS(get("/api/v1/notifications", bearer("api-secret")), 200);
  check_problem(get("/api/v1/tours/lisbon-food/availability"), 401);
  HTTP_CHECK_STATUS(
    get("/api/v1/tours/lisbon-food/availability", bearer("api-secret")), 200);
  // Operations stay open.
  HTTP_CHECK_STATUS(get("/healthz"), 200);
  HTTP_CHECK_STATUS(get("/readyz"), 200);
  HTTP_CHECK_STATUS(get("/metrics"), 200);
  // Nothing leaks the tokens.
  CAF_CHECK(get("/metrics").body.find("secret") == std::string::npos);
}

CAF_TEST(with only the api token it also guards tours) {
  http_opts.api_token = "api-secret";
  boot();
  auto none = call("POST", "/api/v1/tours", tour_doc);
  check_problem(none, 401);
  CAF_CHECK(starts_with(none.header("www-authenticate"), "Bearer"));
  check_problem(call("POST", "/api/v1/tours", tour_doc, bearer("nope")), 403);
  HTTP_CHECK_STATUS(
    call("POST", "/api/v1/tours", tour_doc, bearer("api-secret")), 201);
  check_problem(get("/api/v1/tours"), 401);
  HTTP_CHECK_STATUS(get("/api/v1/tours", bearer("api-secret")), 200);
  HTTP_CHECK_STATUS(get("/healthz"), 200);
  // An empty token is no token.
  check_problem(get("/api/v1/tours", {{"Authorization", "Bearer "}}), 401);
}

CAF_TEST(the auth scheme is case insensitive) {
  // RFC 9110, section 11.1: the scheme name is case-insensitive.
  http_opts.api_token = "api-secret";
  boot();
  HTTP_CHECK_STATUS(
    get("/api/v1/tours", {{"Authorization", "bearer api-secret"}}), 200);
  HTTP_CHECK_STATUS(
    get("/api/v1/tours", {{"Authorization", "BEARER api-secret"}}), 200);
  // The token itself is not.
  check_problem(get("/api/v1/tours", {{"Authorization", "Bearer API-SECRET"}}),
                403);
}

CAF_TEST(with only the admin token the other routes are open) {
  http_opts.admin_token = "admin-secret";
  boot();
  check_problem(call("POST", "/api/v1/tours", tour_doc), 401);
  check_problem(call("POST", "/api/v1/tours", tour_doc, bearer("x")), 403);
  HTTP_CHECK_STATUS(
    call("POST", "/api/v1/tours", tour_doc, bearer("admin-secret")), 201);
  HTTP_CHECK_STATUS(get("/api/v1/tours"), 200);
  HTTP_CHECK_STATUS(book(), 202);
}

CAF_TEST(without tokens everything is open) {
  boot();
  HTTP_CHECK_STATUS(call("POST", "/api/v1/tours", tour_doc), 201);
  HTTP_CHECK_STATUS(get("/api/v1/tours"), 200);
  auto b = book();
  HTTP_CHECK_STATUS(b, 202);
  HTTP_CHECK_STATUS(get("/api/v1/bookings/" + str(b.json(), "id")), 200);
  HTTP_CHECK_STATUS(get("/api/v1/notifications"), 200);
  CAF_CHECK(!get("/api/v1/tours").has_header("www-authenticate"));
}

// -- backpressure and rate limit ----------------------------------------------

CAF_TEST(bookings beyond max in flight sagas get 429) {
  cfg.workers.saga_coordinators = 1;
  cfg.saga.max_in_flight = 2;
  cfg.faults.payment_latency = 1s;
  boot();
  auto a = book();
  auto b = book();
  HTTP_CHECK_STATUS(a, 202);
  HTTP_CHECK_STATUS(b, 202);
  auto c = book();
  check_problem(c, 429);
  HTTP_CHECK_MSG(is_delay_seconds(c.header("retry-after")),
                 "Retry-After: " << c.header("retry-after"));
  // Nothing accepted is dropped, and new bookings get in once they end.
  CAF_CHECK(booking_reaches(str(a.json(), "id"), "confirmed", 20s));
  CAF_CHECK(booking_reaches(str(b.json(), "id"), "confirmed", 20s));
  CAF_CHECK(idle());
  HTTP_CHECK_STATUS(book(), 202);
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold({str(a.json(), "id"), str(b.json(), "id")}));
}

CAF_TEST(max in flight admits exactly that many sagas every time) {
  // The limit is one count for the whole process: four coordinators
  // share three places, and no id lands a fourth.
  cfg.workers.saga_coordinators = 4;
  cfg.saga.max_in_flight = 3;
  opts.wrap_payment = [](caf::actor_system& sys, payment_actor real) {
    return payment_actor{sys.spawn(hold_authorizations, real)};
  };
  tours.push_back(
    {"rome-night", "Rome by Night", 2000, "EUR", {{"2026-12-10", 1000}}});
  booking_args one{"rome-night", "2026-12-10", 1};
  boot();
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> admitted;
    for (int i = 0; i < 5; ++i) {
      auto r = book(one);
      if (r.status == 202)
        admitted.push_back(str(r.json(), "id"));
      else
        check_problem(r, 429);
    }
    CAF_CHECK_EQUAL(admitted.size(), 3u);
    if (round == 0) {
      auto ready = get("/readyz");
      HTTP_CHECK_STATUS(ready, 503);
      CAF_CHECK_EQUAL(str(ready.json()["checks"], "backpressure"),
                      "max-in-flight");
      CAF_CHECK(ready.body.find("3 sagas in flight") != std::string::npos);
    }
    // The authorizations answer (again, for one that was not parked yet):
    // the sagas end and give their places back.
    auto deadline = clock_type::now() + 20s;
    bool ended = false;
    while (!ended && clock_type::now() < deadline) {
      caf::anon_send(e.payment, deliver_atom::value, uint64_t{0});
      ended = idle(std::chrono::milliseconds(50));
    }
    CAF_REQUIRE(ended);
    // Every place came back.
    CAF_CHECK_EQUAL(e.gate->in_flight(), 0u);
  }
  auto ready = get("/readyz");
  HTTP_CHECK_STATUS(ready, 200);
  CAF_CHECK_EQUAL(str(ready.json()["checks"], "backpressure"), "ok");
  CAF_CHECK(invariants_hold());
}

CAF_TEST(the rate limit answers 429 beyond the burst) {
  cfg.http.rate_limit = 5;
  cfg.http.rate_burst = 5;
  boot();
  for (int i = 0; i < 5; ++i)
    HTTP_CHECK_STATUS(get("/api/v1/tours"), 200);
  auto r = get("/api/v1/tours");
  check_problem(r, 429);
  HTTP_CHECK_MSG(is_delay_seconds(r.header("retry-after")),
                 "Retry-After: " << r.header("retry-after"));
  check_problem(book(), 429);
  // Operations are not limited.
  for (int i = 0; i < 20; ++i) {
    HTTP_CHECK_STATUS(get("/healthz"), 200);
    HTTP_CHECK_STATUS(get("/metrics"), 200);
  }
  // Tokens come back with time: 5 per second.
  std::this_thread::sleep_for(1200ms);
  HTTP_CHECK_STATUS(get("/api/v1/tours"), 200);
  // Other connections from the same address share the bucket.
  auto other = connect();
  int limited = 0;
  for (int i = 0; i < 10; ++i)
    if (other.send("GET", "/api/v1/tours").status == 429)
      ++limited;
  CAF_CHECK(limited >= 4);
}

CAF_TEST(the rate limit is checked before the token) {
  http_opts.api_token = "api-secret";
  cfg.http.rate_limit = 2;
  cfg.http.rate_burst = 2;
  boot();
  // Guessing tokens spends the bucket like any other request.
  check_problem(get("/api/v1/tours", bearer("guess-1")), 403);
  check_problem(get("/api/v1/tours", bearer("guess-2")), 403);
  auto r = get("/api/v1/tours", bearer("guess-3"));
  check_problem(r, 429);
  HTTP_CHECK_MSG(is_delay_seconds(r.header("retry-after")),
                 "Retry-After: " << r.header("retry-after"));
  check_problem(get("/api/v1/tours"), 429);
  check_problem(get("/api/v1/tours", bearer("api-secret")), 429);
}

CAF_TEST(without a rate limit quick requests all pass) {
  boot();
  for (int i = 0; i < 50; ++i)
    HTTP_CHECK_STATUS(get("/api/v1/tours"), 200);
}

// -- shutdown -----------------------------------------------------------------

CAF_TEST(stopping waits for the response in progress) {
  // The only connection is waiting for its saga when the server stops.
  cfg.faults.payment_latency = 1s;
  boot();
  auto waited = answer_while_stopping(300ms);
  HTTP_CHECK_STATUS(waited.response, 201);
  CAF_CHECK_EQUAL(str(waited.response.json(), "status"), "confirmed");
  CAF_CHECK(!waited.response.keep_alive);
  HTTP_CHECK_MSG(waited.after < 5, "answered after " << waited.after << " s");
}

CAF_TEST(stopping answers requests in progress and refuses new ones) {
  cfg.faults.payment_latency = 1s;
  boot();
  auto idle_conn = connect();
  HTTP_CHECK_STATUS(idle_conn.send("GET", "/healthz"), 200);
  auto waited = answer_while_stopping(300ms, [&] {
    std::this_thread::sleep_for(200ms);
    // A new request on a kept-alive connection is refused: 503, or a close.
    auto late = idle_conn.send("GET", "/healthz");
    HTTP_CHECK_MSG(late.status == 503 || late.status == 0,
                   "after stop began: " << late.to_text());
    if (late.status == 503) {
      check_problem(late, 503);
      CAF_CHECK(!late.keep_alive);
    }
    // No new connection gets in.
    bool refused = false;
    try {
      http_connection c{port, 2s};
      refused = c.send("GET", "/healthz").status == 0;
    } catch (std::system_error&) {
      refused = true;
    }
    CAF_CHECK(refused);
  });
  // The response in progress was written, with the connection closing.
  HTTP_CHECK_STATUS(waited.response, 201);
  CAF_CHECK_EQUAL(str(waited.response.json(), "status"), "confirmed");
  CAF_CHECK(!waited.response.keep_alive);
  HTTP_CHECK_MSG(waited.after < 5, "answered after " << waited.after << " s");
}

// -- CORS ---------------------------------------------------------------------

CAF_TEST(a preflight from an allowed origin is answered) {
  cfg.http.cors_origins = "https://a.example,https://b.example";
  boot();
  header_list pre = {{"Origin", "https://a.example"},
                     {"Access-Control-Request-Method", "POST"},
                     {"Access-Control-Request-Headers", "content-type"}};
  auto r = call("OPTIONS", "/api/v1/bookings", {}, pre);
  HTTP_CHECK_MSG(r.status >= 200 && r.status < 300, r.to_text());
  CAF_CHECK_EQUAL(r.header("access-control-allow-origin"), "https://a.example");
  CAF_CHECK(r.header("access-control-allow-methods").find("POST")
            != std::string::npos);
  auto b = call("OPTIONS", "/api/v1/bookings", {},
                {{"Origin", "https://b.example"},
                 {"Access-Control-Request-Method", "POST"}});
  HTTP_CHECK_MSG(b.status >= 200 && b.status < 300, b.to_text());
  CAF_CHECK_EQUAL(b.header("access-control-allow-origin"), "https://b.example");
  // Normal responses to an allowed origin carry the header too.
  auto g = get("/api/v1/tours", {{"Origin", "https://a.example"}});
  HTTP_CHECK_STATUS(g, 200);
  CAF_CHECK_EQUAL(g.header("access-control-allow-origin"), "https://a.example");
}

CAF_TEST(a preflight from another origin is 403 without CORS headers) {
  cfg.http.cors_origins = "https://a.example";
  boot();
  auto r = call("OPTIONS", "/api/v1/bookings", {},
                {{"Origin", "https://evil.example"},
                 {"Access-Control-Request-Method", "POST"}});
  HTTP_CHECK_STATUS(r, 403);
  for (auto& [name, value] : r.headers)
    HTTP_CHECK_MSG(!starts_with(name, "access-control-"),
                   "CORS header " << name << ": " << value);
  // A normal request from there gets no CORS header either.
  auto g = get("/api/v1/tours", {{"Origin", "https://evil.example"}});
  CAF_CHECK(!g.has_header("access-control-allow-origin"));
  // Origins are compared exactly.
  auto sub = call("OPTIONS", "/api/v1/bookings", {},
                  {{"Origin", "https://a.example.evil.example"},
                   {"Access-Control-Request-Method", "POST"}});
  HTTP_CHECK_STATUS(sub, 403);
}

CAF_TEST(a preflight needs no token because browsers send none) {
  cfg.http.cors_origins = "https://a.example";
  http_opts.api_token = "api-secret";
  boot();
  auto r = call("OPTIONS", "/api/v1/bookings", {},
                {{"Origin", "https://a.example"},
                 {"Access-Control-Request-Method", "POST"},
                 {"Access-Control-Request-Headers", "authorization"}});
  HTTP_CHECK_MSG(r.status >= 200 && r.status < 300, r.to_text());
  CAF_CHECK_EQUAL(r.header("access-control-allow-origin"), "https://a.example");
}

CAF_TEST(without cors origins there are no CORS headers) {
  boot();
  auto g = get("/api/v1/tours", {{"Origin", "https://a.example"}});
  HTTP_CHECK_STATUS(g, 200);
  auto b = book({}, {{"Origin", "https://a.example"}});
  HTTP_CHECK_STATUS(b, 202);
  auto o = call("OPTIONS", "/api/v1/bookings", {},
                {{"Origin", "https://a.example"},
                 {"Access-Control-Request-Method", "POST"}});
  for (auto* r : {&g, &b, &o})
    for (auto& [name, value] : r->headers)
      HTTP_CHECK_MSG(!starts_with(name, "access-control-"),
                     "CORS header " << name << ": " << value);
}

CAF_TEST_FIXTURE_SCOPE_END()
