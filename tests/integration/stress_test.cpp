#define CAF_SUITE integration.stress
#include "config/wiring.hpp"

#include <caf/test/unit_test.hpp>

#include <random>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "config/demo.hpp"

using namespace booking;
using namespace std::chrono_literals;

namespace {

constexpr int32_t bookings = 10000;

engine_settings chaos_settings() {
  engine_settings s;
  s.workers = {4, 4, 4, 2, 4};
  s.saga.max_in_flight = 2 * bookings;
  s.saga.payment_timeout = 200ms;
  s.saga.inventory_timeout = 500ms;
  s.saga.notification_timeout = 500ms;
  for (auto p : {&s.saga.step_retry, &s.saga.compensation_retry,
                 &s.saga.notification_retry}) {
    p->initial_backoff = 2ms;
    p->max_backoff = 50ms;
  }
  s.saga.compensation_retry.max_attempts = 20;
  s.saga.notification_retry.max_attempts = 20;
  s.faults.payment_decline_rate = 0.05;
  s.faults.payment_timeout_rate = 0.02;
  s.faults.payment_error_rate = 0.05;
  s.faults.inventory_error_rate = 0.02;
  s.faults.notification_error_rate = 0.05;
  s.faults.seed = 7;
  return s;
}

} // namespace

CAF_TEST(ten thousand concurrent bookings keep every invariant) {
  set_log_level(log_level::off);
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  engine_options opts;
  opts.sink = nullptr;
  auto e = start_engine(sys, chaos_settings(), opts);
  caf::scoped_actor self{sys};
  std::vector<tour> tours{
    {"a", "A", 1000, "EUR", {{"2026-12-01", 3000}, {"2026-12-02", 2000}}},
    {"b", "B", 2500, "EUR", {{"2026-12-01", 4000}}},
    {"c", "C", 700, "EUR", {{"2026-12-03", 1500}}},
  };
  load_tours(self, e, tours);
  std::mt19937_64 gen{11};
  using handle_t = decltype(self->request(
    e.coordinators[0], 60s, create_atom::value, booking_request{}));
  std::vector<handle_t> handles;
  for (int32_t i = 0; i < bookings; ++i) {
    auto req = random_booking(gen, tours, i, 3, "stress");
    handles.push_back(self->request(e.coordinator_for(req.id), 60s,
                                    create_atom::value, std::move(req)));
  }
  std::vector<std::string> acknowledged;
  for (auto& h : handles)
    h.receive([&](booking_record& rec) { acknowledged.push_back(rec.id); },
              [&](caf::error& err) { CAF_FAIL("refused: " << describe(err)); });
  CAF_CHECK_EQUAL(acknowledged.size(), size_t{bookings});
  // Cancel a slice of the confirmed bookings while the rest still runs.
  size_t cancelled = 0;
  for (size_t i = 0; i < acknowledged.size(); i += 20) {
    auto& id = acknowledged[i];
    self->request(e.coordinator_for(id), 60s, await_atom::value, id)
      .receive(
        [&](booking_record& rec) {
          if (rec.status != booking_status::confirmed)
            return;
          self
            ->request(e.coordinator_for(id), 60s, cancel_atom::value, id,
                      std::string{"stress-cancel"})
            .receive([&](booking_record&) { ++cancelled; },
                     [&](caf::error& err) {
                       CAF_FAIL("cancel refused: " << describe(err));
                     });
        },
        [&](caf::error& err) { CAF_FAIL("await failed: " << describe(err)); });
  }
  CAF_CHECK(cancelled > 0);
  CAF_REQUIRE(wait_idle(self, e, 120s));
  auto world = collect_world(self, e);
  world.acknowledged = acknowledged;
  auto report = check_invariants(world);
  if (!report.ok())
    CAF_MESSAGE(report.to_text());
  CAF_CHECK(report.ok());
  // The faults really happened: every kind of outcome shows up.
  std::map<std::string, int> outcomes;
  for (auto& b : world.bookings)
    ++outcomes[to_string(b.status) + "/" + b.reason];
  for (auto& [k, n] : outcomes)
    CAF_MESSAGE(k << ": " << n);
  for (auto key : {"confirmed/", "cancelled/", "failed/payment_declined",
                   "failed/timeout", "failed/sold_out"})
    CAF_CHECK(outcomes[key] > 0);
  auto stats = collect_stats(self, e);
  CAF_CHECK(stats.retries > 0);
  CAF_CHECK(stats.compensations > 0);
  CAF_CHECK_EQUAL(stats.in_flight, 0);
  e.stop();
}
