// A fixture that runs the whole engine, wired as booking-server wires it, on
// CAF's deterministic test scheduler with a simulated clock.

#pragma once

#define FAIL(msg) CAF_FAIL(msg) // dsl.hpp's request<T>() needs it (0.17.6)
#include <caf/test/dsl.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "actors/saga/invariants.hpp"
#include "actors/shard.hpp"
#include "config/wiring.hpp"

namespace booking::testing {

/// A booking's outcome or the error that refused it.
struct booking_reply {
  caf::optional<booking_record> record;
  caf::error error;
};

struct engine_fixture : test_coordinator_fixture<> {
  engine_settings cfg;
  engine_options opts;
  engine e;
  bool started = false;

  engine_fixture() {
    set_log_level(log_level::off);
    opts.sink = nullptr;
  }

  ~engine_fixture() {
    if (started) {
      e.stop();
      run();
    }
  }

  pump_fn pump() {
    return [this] { run(); };
  }

  /// Spawns the engine with `cfg` and `opts`, plus one tour with one date.
  void boot(int32_t capacity = 10) {
    e = start_engine(sys, cfg, opts);
    started = true;
    run();
    tour t{"lisbon-food",
           "Lisbon Food Walk",
           4500,
           "EUR",
           {{"2026-12-01", capacity}}};
    load_tours(self, e, {t}, pump());
  }

  booking_request request_for(std::string token, int32_t seats = 2) {
    booking_request req;
    req.id = new_booking_id();
    req.tour_id = "lisbon-food";
    req.date = "2026-12-01";
    req.seats = seats;
    req.cust = {"Ana Lima", "ana@example.com", "+351912345678"};
    req.payment_token = std::move(token);
    req.correlation_id = "req-" + req.id;
    return req;
  }

  /// Sends a create request without running the scheduler.
  void submit(const booking_request& req) {
    self->send(e.coordinator_for(req.id), create_atom::value, req);
  }

  /// Books and runs every message and timer until the engine is idle.
  booking_record book(std::string token, int32_t seats = 2) {
    auto req = request_for(std::move(token), seats);
    auto reply = call(e.coordinator_for(req.id), create_atom::value, req);
    CAF_REQUIRE(reply.record);
    run();
    return *reply.record;
  }

  /// Sends a request and delivers messages (not timers) until idle.
  template <class Handle, class... Ts>
  booking_reply call(const Handle& dest, Ts&&... xs) {
    auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    sched.run(); // messages only: timers fire when a test says so
    booking_reply result;
    handle.receive([&](booking_record& rec) { result.record = std::move(rec); },
                   [&](caf::error& err) { result.error = std::move(err); });
    return result;
  }

  booking_record get(const std::string& id) {
    auto reply = call(shard_for(e.bookings, id), caf::get_atom::value, id);
    CAF_REQUIRE(reply.record);
    return *reply.record;
  }

  caf::optional<payment_intent> payment_of(const std::string& id) {
    for (auto& p : e.gateway->intents())
      if (p.booking_id == id)
        return p;
    return caf::none;
  }

  payment_state state_of(const std::string& id) {
    auto p = payment_of(id);
    return p ? p->state : payment_state::none;
  }

  departure_counts seats() {
    auto snap = collect_world(self, e, pump());
    for (auto& shard : snap.inventory)
      for (auto& d : shard.departures)
        return d;
    CAF_FAIL("no departure");
    return {};
  }

  saga_stats stats() {
    return collect_stats(self, e, pump());
  }

  /// Entries of a booking's history for one step and action.
  static std::vector<saga_entry> entries(const booking_record& rec,
                                         saga_step step, saga_action action) {
    std::vector<saga_entry> result;
    for (auto& x : rec.saga)
      if (x.step == step && x.action == action)
        result.push_back(x);
    return result;
  }

  static std::vector<step_outcome>
  outcomes(const booking_record& rec, saga_step step, saga_action action) {
    std::vector<step_outcome> result;
    for (auto& x : entries(rec, step, action))
      result.push_back(x.outcome);
    return result;
  }

  /// Runs the checker over the whole engine.
  invariant_report check_world(std::vector<std::string> acknowledged = {}) {
    run();
    auto world = collect_world(self, e, pump());
    world.acknowledged = std::move(acknowledged);
    return check_invariants(world);
  }
};

} // namespace booking::testing

#define CHECK_INVARIANTS(...)                                                  \
  do {                                                                         \
    auto report_ = check_world(__VA_ARGS__);                                   \
    if (!report_.ok())                                                         \
      CAF_MESSAGE(report_.to_text());                                          \
    CAF_CHECK(report_.ok());                                                   \
  } while (false)
