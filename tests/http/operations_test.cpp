// Operations over HTTP: re-driving a compensation_failed booking
// (`POST /api/v1/bookings/{id}/retry`) and the bookings per status
// (`GET /api/v1/bookings/summary`), in memory and on a SQLite file.
#define CAF_SUITE http.operations
#include "tests/http/api_fixture.hpp"

#include <filesystem>

#include <stdlib.h>

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> all_statuses{"pending",   "confirmed",
                                            "failed",    "cancelling",
                                            "cancelled", "compensation_failed"};

struct fixture : api_fixture {
  std::string dir;

  fixture() {
    // Authorizations time out (the gateway did authorize), and voids of
    // `tok_refund_fail` fail twice: two attempts give up, a third succeeds.
    cfg.saga.compensation_retry.max_attempts = 2;
    cfg.saga.payment_timeout = 200ms;
  }

  ~fixture() {
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }

  /// Boots on a fresh SQLite file.
  void boot_durable() {
    if (dir.empty()) {
      auto tmpl
        = (std::filesystem::temp_directory_path() / "http_ops_XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr)
        CAF_FAIL("mkdtemp failed");
      dir = tmpl;
      cfg.store.path = dir + "/booking.db";
    }
    auto st = open_store(cfg.store);
    CAF_REQUIRE(st);
    opts.store = *st;
    boot();
  }

  /// Books with `tok_refund_fail` while authorizations time out: the
  /// booking ends in compensation_failed. Returns its id.
  std::string book_stuck() {
    booking_args a;
    a.token = "tok_refund_fail";
    a.seats = 1;
    auto r = book_wait(a);
    HTTP_CHECK_STATUS(r, 200);
    auto doc = r.json();
    CAF_REQUIRE_EQUAL(str(doc, "status"), "compensation_failed");
    return str(doc, "id");
  }

  http_response retry(const std::string& id, header_list headers = {}) {
    return call("POST", "/api/v1/bookings/" + id + "/retry", {},
                std::move(headers));
  }

  /// `GET /api/v1/bookings/summary`'s counts; checks that every status is
  /// there and nothing else.
  std::map<std::string, int64_t> summary() {
    auto r = get("/api/v1/bookings/summary");
    HTTP_CHECK_STATUS(r, 200);
    auto doc = r.json();
    std::map<std::string, int64_t> result;
    CAF_REQUIRE(doc.IsObject() && doc.HasMember("by_status"));
    for (auto& m : doc["by_status"].GetObject()) {
      CAF_REQUIRE(m.value.IsInt64());
      result[m.name.GetString()] = m.value.GetInt64();
    }
    std::vector<std::string> keys;
    for (auto& [k, v] : result)
      keys.push_back(k);
    auto want = all_statuses;
    std::sort(want.begin(), want.end());
    CAF_CHECK_EQUAL(keys, want);
    return result;
  }

  /// The bookings in `status`, counted through the list endpoint.
  int64_t listed(const std::string& status) {
    int64_t n = 0;
    std::string cursor;
    for (;;) {
      auto target = "/api/v1/bookings?limit=200&status=" + status;
      if (!cursor.empty())
        target += "&cursor=" + cursor;
      auto doc = get(target).json();
      n += static_cast<int64_t>(items(doc).size());
      if (!doc.HasMember("next_cursor") || doc["next_cursor"].IsNull())
        return n;
      cursor = doc["next_cursor"].GetString();
    }
  }

  /// Entries of the booking's saga history for one step and action: their
  /// attempt numbers.
  std::vector<int> attempts(const std::string& id, const std::string& step,
                            const std::string& action) {
    std::vector<int> result;
    auto doc = booking(id);
    for (auto e : items(doc, "saga"))
      if (str(*e, "step") == step && str(*e, "action") == action)
        result.push_back((*e)["attempt"].GetInt());
    return result;
  }

  /// Notifications of a booking.
  size_t notifications(const std::string& id) {
    auto doc = get("/api/v1/notifications?booking_id=" + id).json();
    return items(doc).size();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_operations, fixture)

CAF_TEST(a redrive runs the steps that gave up and answers 202 then failed) {
  cfg.faults.payment_timeout_rate = 1.0;
  boot();
  auto id = book_stuck();
  CAF_CHECK_EQUAL(attempts(id, "authorize_payment", "compensate"),
                  (std::vector<int>{1, 2}));
  CAF_REQUIRE(eventually([&] { return notifications(id) == 1; }));
  auto m0 = metrics_text();
  CAF_CHECK_EQUAL(
    metric(m0, "booking_saga_redrives_total", {{"outcome", "failed"}}), 0);
  CAF_CHECK(find_metric(m0, "booking_saga_redrives_total",
                        {{"outcome", "compensation_failed"}}));
  auto r = retry(id, {{"X-Request-Id", "redrive-request-1"}});
  HTTP_CHECK_STATUS(r, 202);
  CAF_CHECK_EQUAL(str(r.json(), "status"), "pending");
  CAF_CHECK_EQUAL(r.header("location"), "/api/v1/bookings/" + id);
  CAF_REQUIRE(booking_reaches(id, "failed"));
  CAF_CHECK_EQUAL(attempts(id, "authorize_payment", "compensate"),
                  (std::vector<int>{1, 2, 3}));
  CAF_CHECK_EQUAL(attempts(id, "reserve_seats", "compensate"),
                  (std::vector<int>{1}));
  CAF_CHECK(idle());
  // The failure notice went out with compensation_failed; not twice.
  CAF_CHECK_EQUAL(notifications(id), 1u);
  CAF_CHECK_EQUAL(metric(metrics_text(), "booking_saga_redrives_total",
                         {{"outcome", "failed"}}),
                  1);
  // Failed now: nothing to re-drive.
  check_problem(retry(id), 409);
  CAF_CHECK(invariants_hold({id}));
}

CAF_TEST(a redrive with a wait answers 200 with the outcome) {
  cfg.faults.payment_timeout_rate = 1.0;
  boot();
  auto id = book_stuck();
  auto r = retry(id, {{"Prefer", "wait=5"}});
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK_EQUAL(str(r.json(), "status"), "failed");
  CAF_CHECK_EQUAL(r.header("preference-applied"), "wait=5");
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold({id}));
}

CAF_TEST(a redriven cancellation ends cancelled) {
  boot();
  booking_args a;
  a.token = "tok_refund_fail";
  auto booked = book_wait(a);
  HTTP_CHECK_STATUS(booked, 201);
  auto id = str(booked.json(), "id");
  auto c = call("POST", "/api/v1/bookings/" + id + "/cancel", {},
                {{"Prefer", "wait=5"}});
  HTTP_CHECK_STATUS(c, 200);
  CAF_REQUIRE_EQUAL(str(c.json(), "status"), "compensation_failed");
  auto r = retry(id, {{"Prefer", "wait=5"}});
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK_EQUAL(str(r.json(), "status"), "cancelled");
  CAF_CHECK_EQUAL(attempts(id, "refund_payment", "execute"),
                  (std::vector<int>{1, 2, 3}));
  CAF_CHECK(idle());
  CAF_CHECK_EQUAL(metric(metrics_text(), "booking_saga_redrives_total",
                         {{"outcome", "cancelled"}}),
                  1);
  CAF_CHECK(invariants_hold({id}));
}

CAF_TEST(a redrive of any other status is 409 and of an unknown id 404) {
  boot();
  auto id = str(book_wait({}).json(), "id");
  CAF_REQUIRE(!id.empty());
  check_problem(retry(id), 409);
  check_problem(retry("no-such-booking"), 404);
  booking_args declined;
  declined.token = "tok_decline";
  auto failed_id = str(book_wait(declined).json(), "booking_id");
  CAF_REQUIRE(!failed_id.empty());
  check_problem(retry(failed_id), 409);
  CAF_CHECK_EQUAL(str(booking(id), "status"), "confirmed");
  CAF_CHECK_EQUAL(str(booking(failed_id), "status"), "failed");
}

CAF_TEST(a redrive needs the admin token) {
  cfg.faults.payment_timeout_rate = 1.0;
  http_opts.admin_token = "admin-secret";
  http_opts.api_token = "api-secret";
  boot();
  token = "api-secret";
  auto id = book_stuck();
  auto none = call("POST", "/api/v1/bookings/" + id + "/retry", {},
                   {{"Authorization", "Basic x"}});
  HTTP_CHECK_STATUS(none, 401);
  CAF_CHECK_EQUAL(none.header("www-authenticate"), "Bearer");
  check_problem(retry(id), 403); // the API token is not enough
  auto r = retry(id, {{"Authorization", "Bearer admin-secret"}});
  HTTP_CHECK_STATUS(r, 202);
  CAF_CHECK(booking_reaches(id, "failed"));
  // The summary is an API route: it takes the API token.
  HTTP_CHECK_STATUS(get("/api/v1/bookings/summary"), 200);
  token.clear();
  HTTP_CHECK_STATUS(get("/api/v1/bookings/summary"), 401);
}

CAF_TEST(the summary counts every status as the list does) {
  boot();
  auto empty = summary();
  for (auto& s : all_statuses)
    CAF_CHECK_EQUAL(empty[s], 0);
  booking_args declined;
  declined.token = "tok_decline";
  booking_args one;
  one.seats = 1;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(str(book_wait(one).json(), "id"));
  ids.push_back(str(book_wait(declined).json(), "booking_id"));
  HTTP_CHECK_STATUS(call("POST", "/api/v1/bookings/" + ids[0] + "/cancel", {},
                         {{"Prefer", "wait=5"}}),
                    200);
  CAF_REQUIRE(idle());
  auto counts = summary();
  CAF_CHECK_EQUAL(counts["confirmed"], 2);
  CAF_CHECK_EQUAL(counts["failed"], 1);
  CAF_CHECK_EQUAL(counts["cancelled"], 1);
  for (auto& s : all_statuses)
    CAF_CHECK_EQUAL(counts[s], listed(s));
}

CAF_TEST(on a SQLite file the summary and a parked saga survive a restart) {
  cfg.faults.payment_timeout_rate = 1.0;
  boot_durable();
  auto stuck = book_stuck();
  cfg.faults.payment_timeout_rate = 0.0;
  CAF_REQUIRE(idle());
  auto before = summary();
  CAF_CHECK_EQUAL(before["compensation_failed"], 1);
  // Restart on the same file, the provider recovered.
  conn.reset();
  server->stop();
  server.reset();
  e.stop();
  engine_started = false;
  self.reset();
  sys.reset();
  opts.store.reset();
  boot_durable();
  CAF_CHECK_EQUAL(summary(), before);
  auto ok = str(book_wait({}).json(), "id");
  auto r = retry(stuck, {{"Prefer", "wait=5"}});
  HTTP_CHECK_STATUS(r, 200);
  CAF_CHECK_EQUAL(str(r.json(), "status"), "failed");
  CAF_CHECK_EQUAL(attempts(stuck, "authorize_payment", "compensate"),
                  (std::vector<int>{1, 2, 3}));
  CAF_REQUIRE(idle());
  auto after = summary();
  CAF_CHECK_EQUAL(after["compensation_failed"], 0);
  CAF_CHECK_EQUAL(after["failed"], 1);
  CAF_CHECK_EQUAL(after["confirmed"], 1);
  for (auto& s : all_statuses)
    CAF_CHECK_EQUAL(after[s], listed(s));
  CAF_CHECK(invariants_hold({stuck, ok}));
}

CAF_TEST(a traceparent is echoed and one is made when absent or invalid) {
  boot();
  const std::string tp
    = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto given = book({}, {{"traceparent", tp}});
  HTTP_CHECK_STATUS(given, 202);
  CAF_CHECK_EQUAL(given.header("traceparent"), tp);
  auto made = get("/api/v1/bookings/summary");
  CAF_CHECK(valid_traceparent(made.header("traceparent")));
  auto other = get("/healthz");
  CAF_CHECK(valid_traceparent(other.header("traceparent")));
  CAF_CHECK(made.header("traceparent") != other.header("traceparent"));
  auto invalid = get("/healthz", {{"traceparent", "00-xyz"}});
  CAF_CHECK(valid_traceparent(invalid.header("traceparent")));
  CAF_CHECK(idle());
}

CAF_TEST_FIXTURE_SCOPE_END()
