// The fixture of the AMQP bridge integration tests: a threaded actor system,
// the engine wired with `amqp.url` = $BOOKING_TEST_AMQP_URL (a throwaway
// broker started by tests/broker/with_broker.sh), a few tours, and the
// test's own AMQP client.
//
// Without BOOKING_TEST_AMQP_URL every test fails at once: a broker suite that
// silently passed without a broker would prove nothing.
//
//   CAF_TEST(something) {
//     cfg.amqp.retry_limit = 2;
//     boot();
//     auto q = bind_events_queue();
//     auto rec = book(request_for("tok_ok"));
//     ...
//   }

#pragma once

#include <caf/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/codec/cloudevents.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/saga/invariants.hpp"
#include "bridges/routing.hpp"
#include "config/wiring.hpp"
#include "tests/bridges/amqp_client.hpp"

// CAF 0.17 shows a failed check only at verbosity 4 (one line per check);
// these print the failed expression and its values at the default one, so
// a broker run that failed says why without a rerun.

/// Like CAF_CHECK, printing the expression when it fails.
#define BRIDGE_CHECK(...)                                                      \
  do {                                                                         \
    bool bridge_ok_ = static_cast<bool>(__VA_ARGS__);                          \
    if (!bridge_ok_)                                                           \
      CAF_TEST_PRINT_ERROR("check failed: " #__VA_ARGS__);                     \
    CAF_CHECK(bridge_ok_);                                                     \
  } while (false)

#define BRIDGE_CHECK_FUNC(func, op, x_expr, y_expr)                            \
  do {                                                                         \
    auto&& bridge_x_ = x_expr;                                                 \
    auto&& bridge_y_ = y_expr;                                                 \
    if (!func{}(bridge_x_, bridge_y_))                                         \
      CAF_TEST_PRINT_ERROR("check failed: " #x_expr " " op " " #y_expr " ("    \
                           << bridge_x_ << " vs " << bridge_y_ << ")");        \
    CAF_CHECK_FUNC(func, bridge_x_, bridge_y_);                                \
  } while (false)

#define BRIDGE_CHECK_EQUAL(x, y)                                               \
  BRIDGE_CHECK_FUNC(::caf::test::equal_to, "==", x, y)
#define BRIDGE_CHECK_NOT_EQUAL(x, y)                                           \
  BRIDGE_CHECK_FUNC(::caf::test::not_equal_to, "!=", x, y)
#define BRIDGE_CHECK_LESS(x, y)                                                \
  BRIDGE_CHECK_FUNC(::caf::test::less_than, "<", x, y)
#define BRIDGE_CHECK_GREATER_OR_EQUAL(x, y)                                    \
  BRIDGE_CHECK_FUNC(::caf::test::greater_than_or_equal, ">=", x, y)

namespace booking::testing {

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

/// The broker of the test run; fails the test if there is none.
inline std::string test_broker_url() {
  auto url = std::getenv("BOOKING_TEST_AMQP_URL");
  if (url == nullptr || *url == '\0')
    CAF_FAIL("BOOKING_TEST_AMQP_URL is not set: run this binary through "
             "tests/broker/with_broker.sh (see deploy/rabbitmq/README.md)");
  return url;
}

/// An environment variable the broker fixture exports; fails if missing.
inline std::string test_broker_env(const char* name) {
  auto x = std::getenv(name);
  if (x == nullptr || *x == '\0')
    CAF_FAIL(name << " is not set: run this binary through "
                     "tests/broker/with_broker.sh");
  return x;
}

struct bridge_fixture {
  std::string url = test_broker_url();
  /// Engine settings; adjust before `boot()`.
  engine_settings cfg;
  engine_options opts;
  std::vector<tour> tours;

  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  engine e;
  bool engine_started = false;

  /// The test's own connection (see `client()`).
  std::unique_ptr<amqp_client> client_;

  bridge_fixture() {
    // BOOKING_TEST_LOG=1 shows the engine's log (the bridges' connection
    // messages) when a run needs diagnosing.
    auto verbose = std::getenv("BOOKING_TEST_LOG");
    set_log_level(verbose != nullptr && *verbose != '\0' ? log_level::info
                                                         : log_level::off);
    opts.sink = nullptr;
    cfg.amqp.url = url;
    for (auto p : {&cfg.saga.step_retry, &cfg.saga.compensation_retry,
                   &cfg.saga.notification_retry}) {
      p->initial_backoff = std::chrono::milliseconds(5);
      p->max_backoff = std::chrono::milliseconds(50);
    }
    tours = {
      {"lisbon-food",
       "Lisbon Food Walk",
       4500,
       "EUR",
       {{"2026-12-01", 5000}, {"2026-12-02", 1}}},
      {"porto-wine", "Porto Wine Cellars", 3000, "EUR", {{"2026-12-05", 5000}}},
    };
  }

  ~bridge_fixture() {
    stop_engine();
    client_.reset();
  }

  /// Starts the actor system and the engine and loads `tours`; with
  /// `wait_for_broker`, also waits until both bridges are attached.
  void boot(bool wait_for_broker = true) {
    sys_cfg = std::make_unique<caf::actor_system_config>();
    sys_cfg->set("scheduler.max-threads", 2);
    register_message_types(*sys_cfg);
    sys = std::make_unique<caf::actor_system>(*sys_cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
    e = start_engine(*sys, cfg, opts);
    engine_started = true;
    CAF_REQUIRE(e.amqp != nullptr);
    CAF_REQUIRE(e.publisher);
    CAF_REQUIRE(e.intake);
    load_tours(*self, e, tours);
    for (auto& t : tours)
      CAF_REQUIRE(eventually([&] { return availability_knows(t); }));
    if (wait_for_broker)
      CAF_REQUIRE(
        eventually([&] { return bridges_up(); }, std::chrono::seconds(30)));
  }

  /// Stops the engine (the publisher flushes its outbox first) and the
  /// actor system.
  void stop_engine() {
    if (!engine_started)
      return;
    e.stop();
    self.reset();
    sys.reset();
    engine_started = false;
  }

  bool bridges_up() {
    return e.amqp->publisher_up && e.amqp->consumer_up;
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

  /// The test's AMQP connection, opened on first use.
  amqp_client& client() {
    if (!client_)
      client_ = connect_with_retry(url);
    return *client_;
  }

  /// Drops the test's connection (e.g. before the broker stops).
  void drop_client() {
    client_.reset();
  }

  /// Declares a queue bound to `booking.events` with `#` and returns its
  /// name. A durable one survives a broker restart; otherwise it is
  /// exclusive to the test's connection.
  std::string bind_events_queue(bool durable = false) {
    auto name = std::string{"test.events."} + new_booking_id();
    auto& c = client();
    c.declare_exchange(events_exchange);
    c.declare_queue(name, durable, !durable, false);
    c.bind(name, events_exchange, "#");
    return name;
  }

  // -- bookings ---------------------------------------------------------------

  /// A booking request with a fresh id and correlation id.
  booking_request request_for(const std::string& token, int32_t seats = 1,
                              const std::string& tour_id = "lisbon-food",
                              const std::string& date = "2026-12-01") {
    booking_request req;
    req.id = new_booking_id();
    req.tour_id = tour_id;
    req.date = date;
    req.seats = seats;
    req.cust = {"Ana Lima", "ana@example.com", "+351912345678"};
    req.payment_token = token;
    req.correlation_id = "corr-" + new_booking_id();
    return req;
  }

  /// Creates a booking through its coordinator (as POST does).
  booking_record create(const booking_request& req) {
    booking_record result;
    (*self)
      ->request(e.coordinator_for(req.id), std::chrono::seconds(30),
                create_atom::value, req)
      .receive([&](booking_record& rec) { result = std::move(rec); },
               [&](caf::error& err) {
                 CAF_FAIL("create refused: " << describe(err));
               });
    return result;
  }

  /// Waits for the outcome of a booking.
  booking_record await(const std::string& id) {
    booking_record result;
    (*self)
      ->request(e.coordinator_for(id), std::chrono::seconds(60),
                await_atom::value, id)
      .receive([&](booking_record& rec) { result = std::move(rec); },
               [&](caf::error& err) {
                 CAF_FAIL("await failed: " << describe(err));
               });
    return result;
  }

  /// Creates a booking and waits for its outcome.
  booking_record book(const booking_request& req) {
    create(req);
    return await(req.id);
  }

  booking_record cancel(const std::string& id,
                        const std::string& correlation_id) {
    booking_record result;
    (*self)
      ->request(e.coordinator_for(id), std::chrono::seconds(30),
                cancel_atom::value, id, correlation_id)
      .receive([&](booking_record& rec) { result = std::move(rec); },
               [&](caf::error& err) {
                 CAF_FAIL("cancel refused: " << describe(err));
               });
    return result;
  }

  saga_stats stats() {
    return collect_stats(*self, e);
  }

  bool idle(caf::timespan timeout = std::chrono::seconds(60)) {
    return wait_idle(*self, e, timeout);
  }

  /// Every booking the engine stores.
  std::vector<booking_record> all_bookings() {
    return collect_world(*self, e).bookings;
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

  /// Waits until the publisher has confirmed everything it was given.
  bool
  outbox_drained(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return eventually([&] { return e.gate->outbox_backlog == 0; }, timeout);
  }

  // -- intake -----------------------------------------------------------------

  /// Properties of an intake message.
  static amqp_props intake_props(const std::string& message_id,
                                 const std::string& correlation_id,
                                 const std::string& reply_to) {
    amqp_props p;
    p.content_type = cloudevents_content_type;
    p.message_id = message_id;
    p.correlation_id = correlation_id;
    p.reply_to = reply_to;
    p.type = intake_type;
    p.delivery_mode = 2;
    return p;
  }

  /// Publishes an intake message to `booking.commands` / `booking.create`.
  void submit(const amqp_props& props, const std::string& body) {
    client().publish(commands_exchange, intake_type, props, body);
  }

  /// The CloudEvent of a `booking.create` for `req`.
  static std::string intake_body(const booking_request& req) {
    return encode_intake(req, new_booking_id(), "/booking-tests");
  }

  // -- the broker -------------------------------------------------------------

  /// Runs `deploy/rabbitmq/broker.sh CMD $BOOKING_TEST_BROKER_DIR ARGS`.
  static int broker(const std::string& cmd, const std::string& args = {}) {
    auto dir = test_broker_env("BOOKING_TEST_BROKER_DIR");
    std::string line = "bash '" BOOKING_SOURCE_DIR
                       "/deploy/rabbitmq/broker.sh' "
                       + cmd + " '" + dir + "' " + args;
    return std::system(line.c_str());
  }

  static bool stop_broker() {
    return broker("stop") == 0;
  }

  static bool start_broker() {
    return broker("start", test_broker_env("BOOKING_TEST_AMQP_PORT")) == 0;
  }
};

} // namespace booking::testing
