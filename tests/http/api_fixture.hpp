// A fixture that runs the whole stack in-process: a threaded actor_system,
// the engine (as booking-server wires it) with a few tours, and the HTTP
// server on a free loopback port.
//
// A test adjusts `cfg` (engine and HTTP settings), `opts` and `http_opts`,
// then calls `boot()`; the destructor stops the server, then the engine.
//
//   CAF_TEST(confirmed booking) {
//     cfg.http.read_timeout = 1s;
//     boot();
//     auto r = book(booking_args{}, {{"Prefer", "wait=5"}});
//     HTTP_CHECK_STATUS(r, 201);
//   }

#pragma once

#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <rapidjson/document.h>

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/saga/invariants.hpp"
#include "config/wiring.hpp"
#include "http/server.hpp"
#include "tests/http/http_client.hpp"

/// Checks the status of a response and prints the response if it differs.
#define HTTP_CHECK_STATUS(resp, code)                                          \
  do {                                                                         \
    const auto& http_check_resp_ = (resp);                                     \
    CAF_CHECK_EQUAL(http_check_resp_.status, (code));                          \
    if (http_check_resp_.status != (code))                                     \
      CAF_TEST_PRINT_ERROR(                                                    \
        "unexpected response: " << http_check_resp_.to_text());                \
  } while (false)

/// Checks `cond` and prints `msg` if it fails.
#define HTTP_CHECK_MSG(cond, msg)                                              \
  do {                                                                         \
    bool http_check_ok_ = static_cast<bool>(cond);                             \
    static_cast<void>(::caf::test::detail::check(                              \
      ::caf::test::engine::current_test(), __FILE__, __LINE__, #cond, false,   \
      http_check_ok_));                                                        \
    if (!http_check_ok_)                                                       \
      CAF_TEST_PRINT_ERROR(msg);                                               \
  } while (false)

namespace booking::testing {

// -- JSON helpers -------------------------------------------------------------

/// The member `key` of `v` if `v` is an object that has it, else null.
inline const rapidjson::Value* member(const rapidjson::Value& v,
                                      const char* key) {
  if (!v.IsObject())
    return nullptr;
  auto i = v.FindMember(key);
  return i == v.MemberEnd() ? nullptr : &i->value;
}

/// The string member `key`, or "" if absent or not a string.
inline std::string str(const rapidjson::Value& v, const char* key) {
  auto m = member(v, key);
  return m && m->IsString() ? std::string{m->GetString(), m->GetStringLength()}
                            : std::string{};
}

/// The integer member `key`, or -1 if absent or not an integer.
inline int64_t num(const rapidjson::Value& v, const char* key) {
  auto m = member(v, key);
  return m && m->IsInt64() ? m->GetInt64() : -1;
}

/// True if `key` is present and null.
inline bool is_null(const rapidjson::Value& v, const char* key) {
  auto m = member(v, key);
  return m && m->IsNull();
}

/// The array member `key` (empty if absent).
inline std::vector<const rapidjson::Value*> items(const rapidjson::Value& v,
                                                  const char* key = "items") {
  std::vector<const rapidjson::Value*> out;
  auto m = member(v, key);
  if (m && m->IsArray())
    for (auto& x : m->GetArray())
      out.push_back(&x);
  return out;
}

// `member` and `items` point into the document they are given. Given a
// temporary one (`items(r.json())`), the pointers outlive it: name the
// document first, or count with `item_count`.
const rapidjson::Value* member(rapidjson::Document&&, const char*) = delete;
std::vector<const rapidjson::Value*>
items(rapidjson::Document&&, const char* = "items") = delete;

/// How many elements the array member `key` has (0 if absent).
inline size_t item_count(const rapidjson::Value& v, const char* key = "items") {
  auto m = member(v, key);
  return m && m->IsArray() ? m->Size() : 0;
}

inline bool ends_with(const std::string& x, const std::string& suffix) {
  return x.size() >= suffix.size()
         && x.compare(x.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline bool starts_with(const std::string& x, const std::string& prefix) {
  return x.compare(0, prefix.size(), prefix) == 0;
}

/// The `field` members of a problem's `errors` array.
inline std::set<std::string> error_fields(const rapidjson::Value& doc) {
  std::set<std::string> out;
  for (auto e : items(doc, "errors"))
    out.insert(str(*e, "field"));
  return out;
}

/// True if some field in `fields` starts with `prefix` and contains `part`.
inline bool has_field_like(const std::set<std::string>& fields,
                           const std::string& prefix,
                           const std::string& part = {}) {
  for (auto& f : fields)
    if (starts_with(f, prefix) && f.find(part) != std::string::npos)
      return true;
  return false;
}

/// Checks that `r` is an RFC 9457 problem with `status`; returns its body.
inline rapidjson::Document check_problem(const http_response& r, int status) {
  HTTP_CHECK_STATUS(r, status);
  CAF_CHECK(starts_with(r.header("content-type"), "application/problem+json"));
  auto doc = r.json();
  CAF_CHECK(!doc.HasParseError() && doc.IsObject());
  if (doc.HasParseError() || !doc.IsObject()) {
    CAF_TEST_PRINT_ERROR("not a problem document: " << r.to_text());
    doc.SetObject();
    return doc;
  }
  CAF_CHECK(!str(doc, "type").empty());
  CAF_CHECK(!str(doc, "title").empty());
  CAF_CHECK_EQUAL(num(doc, "status"), status);
  CAF_CHECK(member(doc, "detail") && (*member(doc, "detail")).IsString());
  CAF_CHECK(r.has_header("x-request-id"));
  return doc;
}

// -- Prometheus text ----------------------------------------------------------

struct metric_sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Parses the samples of a Prometheus text exposition (comments skipped).
inline std::vector<metric_sample> parse_metrics(const std::string& text) {
  std::vector<metric_sample> out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string::npos)
      eol = text.size();
    auto line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#')
      continue;
    metric_sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      s.name += line[i++];
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string key;
        while (i < line.size() && line[i] != '=')
          key += line[i++];
        i += 2; // `="`
        std::string val;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            val += line[i] == 'n' ? '\n' : line[i];
          } else {
            val += line[i];
          }
          ++i;
        }
        ++i; // closing quote
        if (i < line.size() && line[i] == ',')
          ++i;
        auto b = key.find_first_not_of(' ');
        s.labels[b == std::string::npos ? key : key.substr(b)] = val;
      }
      ++i; // `}`
    }
    while (i < line.size() && line[i] == ' ')
      ++i;
    s.value = std::strtod(line.c_str() + i, nullptr);
    out.push_back(std::move(s));
  }
  return out;
}

/// Sum of the samples named `name` whose labels include `labels`; none if
/// no sample matches.
inline std::optional<double>
find_metric(const std::string& text, const std::string& name,
            const std::map<std::string, std::string>& labels = {}) {
  std::optional<double> out;
  for (auto& s : parse_metrics(text)) {
    if (s.name != name)
      continue;
    bool match = true;
    for (auto& [k, v] : labels) {
      auto i = s.labels.find(k);
      if (i == s.labels.end() || i->second != v)
        match = false;
    }
    if (match)
      out = out.value_or(0) + s.value;
  }
  return out;
}

/// Like `find_metric`, with 0 for a missing series.
inline double metric(const std::string& text, const std::string& name,
                     const std::map<std::string, std::string>& labels = {}) {
  return find_metric(text, name, labels).value_or(0);
}

// -- waiting ------------------------------------------------------------------

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// -- the fixture --------------------------------------------------------------

/// Fields of a booking request body.
struct booking_args {
  std::string tour_id = "lisbon-food";
  std::string date = "2026-12-01";
  int seats = 2;
  std::string name = "Ana Lima";
  std::string email = "ana@example.com";
  std::string phone = "+351912345678";
  std::string token = "tok_ok";
};

/// The JSON body of a booking request.
inline std::string booking_body(const booking_args& a) {
  std::string out = R"({"tour_id": ")" + a.tour_id + R"(", "date": ")" + a.date
                    + R"(", "seats": )" + std::to_string(a.seats)
                    + R"(, "customer": {"name": ")" + a.name
                    + R"(", "email": ")" + a.email + "\"";
  if (!a.phone.empty())
    out += R"(, "phone": ")" + a.phone + "\"";
  out += R"(}, "payment": {"token": ")" + a.token + R"("}})";
  return out;
}

/// Booking id named by a `Location: /api/v1/bookings/{id}` header.
inline std::string id_from_location(const std::string& location) {
  const std::string prefix = "/api/v1/bookings/";
  return starts_with(location, prefix) ? location.substr(prefix.size())
                                       : std::string{};
}

struct api_fixture {
  /// Engine and HTTP settings; adjust before `boot()`.
  engine_settings cfg;
  engine_options opts;
  http_options http_opts;
  /// Tours loaded into inventory at boot.
  std::vector<tour> tours;
  /// What the `/readyz` store check reports.
  std::shared_ptr<std::atomic<check_state>> store_state
    = std::make_shared<std::atomic<check_state>>(check_state::ok);
  /// Sent as `Authorization: Bearer ...` by `call` unless empty.
  std::string token;

  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  engine e;
  bool engine_started = false;
  std::unique_ptr<http_server> server;
  uint16_t port = 0;
  std::optional<http_connection> conn;

  api_fixture() {
    set_log_level(log_level::off);
    opts.sink = nullptr;
    cfg.http.address = "127.0.0.1";
    cfg.http.port = 0;
    cfg.http.threads = 1;
    // Short enough that a failing booking saga ends fast.
    for (auto p : {&cfg.saga.step_retry, &cfg.saga.compensation_retry,
                   &cfg.saga.notification_retry}) {
      p->initial_backoff = std::chrono::milliseconds(5);
      p->max_backoff = std::chrono::milliseconds(50);
    }
    auto state = store_state;
    http_opts.ready.store = [state] { return state->load(); };
    tours = {
      {"lisbon-food",
       "Lisbon Food Walk",
       4500,
       "EUR",
       {{"2026-12-01", 12}, {"2026-12-02", 2}, {"2026-12-03", 30}}},
      {"porto-wine", "Porto Wine Cellars", 3000, "EUR", {{"2026-12-05", 50}}},
    };
  }

  ~api_fixture() {
    conn.reset();
    if (server)
      server->stop();
    server.reset();
    if (engine_started)
      e.stop();
    self.reset();
    sys.reset();
  }

  /// Starts the actor system, the engine with `tours` and the server.
  void boot() {
    sys_cfg = std::make_unique<caf::actor_system_config>();
    sys_cfg->set("scheduler.max-threads", 2);
    register_message_types(*sys_cfg);
    sys = std::make_unique<caf::actor_system>(*sys_cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
    e = start_engine(*sys, cfg, opts);
    engine_started = true;
    http_opts.gate = e.gate;
    if (!http_opts.store_metrics)
      http_opts.store_metrics = [this] { return e.store_figures(); };
    load_tours(*self, e, tours);
    // The availability read model learns of tours by message; bookings are
    // priced there, so wait until it knows them.
    for (auto& t : tours)
      CAF_REQUIRE(eventually([&] { return availability_knows(t); }));
    server = std::make_unique<http_server>(
      *sys, api_peers{e.desk, e.availability, e.notification, e.actor_counts()},
      cfg.http, http_opts);
    server->start();
    port = server->port();
    CAF_REQUIRE(port != 0);
  }

  bool availability_knows(const tour& t) {
    bool ok = false;
    (*self)
      ->request(e.availability, std::chrono::seconds(1), caf::get_atom::value,
                t.id)
      .receive(
        [&](tour& seen) { ok = seen.departures.size() == t.departures.size(); },
        [&](caf::error&) { ok = false; });
    return ok;
  }

  /// A new connection to the server.
  http_connection connect() {
    return http_connection{port};
  }

  /// Sends a request on the fixture's keep-alive connection (reopened when
  /// the server closed it); adds the bearer `token` if set.
  http_response call(const std::string& method, const std::string& target,
                     const std::string& body = {}, header_list headers = {}) {
    if (!token.empty()) {
      bool has_auth = false;
      for (auto& h : headers)
        if (h.first == "Authorization")
          has_auth = true;
      if (!has_auth)
        headers.emplace_back("Authorization", "Bearer " + token);
    }
    if (!conn || !conn->is_open())
      conn.emplace(port);
    return conn->send(method, target, body, headers);
  }

  http_response get(const std::string& target, header_list headers = {}) {
    return call("GET", target, {}, std::move(headers));
  }

  http_response book(const booking_args& a = {}, header_list headers = {}) {
    return call("POST", "/api/v1/bookings", booking_body(a),
                std::move(headers));
  }

  /// Books with `Prefer: wait=N` and returns the response.
  http_response book_wait(const booking_args& a, int seconds = 10) {
    return book(a, {{"Prefer", "wait=" + std::to_string(seconds)}});
  }

  /// The booking as `GET /api/v1/bookings/{id}` returns it.
  rapidjson::Document booking(const std::string& id) {
    return get("/api/v1/bookings/" + id).json();
  }

  /// Polls the booking until its status is `status`.
  bool booking_reaches(const std::string& id, const std::string& status,
                       std::chrono::milliseconds timeout
                       = std::chrono::seconds(10)) {
    return eventually(
      [&] {
        auto doc = booking(id);
        return !doc.HasParseError() && str(doc, "status") == status;
      },
      timeout);
  }

  std::string metrics_text() {
    return get("/metrics").body;
  }

  saga_stats stats() {
    return collect_stats(*self, e);
  }

  bool idle(caf::timespan timeout = std::chrono::seconds(30)) {
    return wait_idle(*self, e, timeout);
  }

  /// Checks every invariant of the product spec; prints the report if one
  /// fails.
  bool invariants_hold(std::vector<std::string> acknowledged = {}) {
    auto world = collect_world(*self, e);
    world.acknowledged = std::move(acknowledged);
    auto report = check_invariants(world);
    if (!report.ok())
      CAF_TEST_PRINT_ERROR(report.to_text());
    return report.ok();
  }
};

} // namespace booking::testing
