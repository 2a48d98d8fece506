#define CAF_SUITE config.wiring
#include "config/wiring.hpp"

#include <algorithm>
#include <stdexcept>

#include <dirent.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/log.hpp"
#include "actors/shard.hpp"
#include "config/booking_config.hpp"
#include "tests/actors/engine_fixture.hpp"

using namespace booking;

namespace {

size_t os_threads() {
  size_t n = 0;
  if (auto dir = opendir("/proc/self/task")) {
    while (auto entry = readdir(dir))
      n += entry->d_name[0] != '.';
    closedir(dir);
  }
  return n;
}

struct census {
  size_t scheduler_threads = 0;
  size_t os_threads = 0;
  size_t running_actors = 0;
  size_t payment_workers = 0;
  size_t notification_workers = 0;
  size_t inventory_shards = 0;
  size_t coordinators = 0;
};

size_t pool_size(caf::scoped_actor& self, const caf::actor& pool) {
  size_t n = 0;
  self
    ->request(pool, std::chrono::seconds(10), caf::sys_atom::value,
              caf::get_atom::value)
    .receive([&](std::vector<caf::actor>& xs) { n = xs.size(); },
             [&](caf::error&) { n = 0; });
  return n;
}

/// Starts a real engine from command-line options and counts what runs.
census count_with(std::vector<std::string> args) {
  set_log_level(log_level::off);
  booking_config cfg;
  auto loaded = load_config(cfg, std::move(args));
  CAF_REQUIRE_EQUAL(loaded.kind, config_outcome::run);
  census c;
  {
    caf::actor_system sys{cfg};
    auto before = sys.registry().running();
    auto e = start_engine(sys, cfg.settings);
    caf::scoped_actor self{sys};
    c.scheduler_threads = sys.scheduler().num_workers();
    c.os_threads = os_threads();
    c.running_actors = sys.registry().running() - before;
    c.payment_workers = pool_size(self, e.payment_pool);
    c.notification_workers = pool_size(self, e.notification_pool);
    c.inventory_shards = e.inventory.size();
    c.coordinators = e.coordinators.size();
    e.stop();
  }
  return c;
}

} // namespace

CAF_TEST(worker counts and scheduler threads follow the configuration) {
  auto small = count_with(
    {"--scheduler.max-threads=1", "--workers.payment=1",
     "--workers.notification=1", "--workers.inventory-shards=1",
     "--workers.booking-shards=1", "--workers.saga-coordinators=1"});
  auto large = count_with(
    {"--scheduler.max-threads=3", "--workers.payment=6",
     "--workers.notification=4", "--workers.inventory-shards=3",
     "--workers.booking-shards=2", "--workers.saga-coordinators=5"});
  CAF_CHECK_EQUAL(small.scheduler_threads, 1u);
  CAF_CHECK_EQUAL(large.scheduler_threads, 3u);
  CAF_CHECK_EQUAL(large.os_threads - small.os_threads, 2u);
  CAF_CHECK_EQUAL(small.payment_workers, 1u);
  CAF_CHECK_EQUAL(large.payment_workers, 6u);
  CAF_CHECK_EQUAL(small.notification_workers, 1u);
  CAF_CHECK_EQUAL(large.notification_workers, 4u);
  CAF_CHECK_EQUAL(large.inventory_shards, 3u);
  CAF_CHECK_EQUAL(large.coordinators, 5u);
  // 5 more payment workers, 3 more notification workers, 2 more inventory
  // shards (each a worker behind its own pool), 1 more booking shard and 4
  // more coordinators.
  CAF_CHECK_EQUAL(large.running_actors - small.running_actors, 17u);
}

// -- faults, outages and crashes on the deterministic test scheduler ---------

namespace {

using namespace booking::testing;
using namespace std::chrono_literals;

using ss = saga_step;
using sa = saga_action;
using so = step_outcome;
using outcome_list = std::vector<step_outcome>;

struct faults_fixture : engine_fixture {
  std::shared_ptr<outage_switches> outages
    = std::make_shared<outage_switches>();

  faults_fixture() {
    opts.outages = outages;
  }

  // Note: `stats()`, `seats()` and `check_world()` run every timer too.

  /// Delivers messages and moves the clock in `step`s until `d` passed.
  void advance(caf::timespan d, caf::timespan step = 10ms) {
    for (caf::timespan t{0}; t < d; t += step) {
      sched.run();
      advance_time(step);
    }
    sched.run();
  }

  /// The workers a pool routes to now.
  std::vector<caf::actor> workers_of(const caf::actor& pool) {
    std::vector<caf::actor> result;
    self
      ->request(pool, caf::infinite, caf::sys_atom::value, caf::get_atom::value)
      .receive([&](std::vector<caf::actor>& xs) { result = std::move(xs); },
               [&](caf::error& err) {
                 CAF_FAIL("no workers: " << describe(err));
               });
    return result;
  }

  static bool contains(const std::vector<caf::actor>& xs, const caf::actor& x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
  }

  static size_t count(const std::vector<step_outcome>& xs, step_outcome x) {
    return static_cast<size_t>(std::count(xs.begin(), xs.end(), x));
  }

  std::vector<notification_record> notes_of(const std::string& id) {
    std::vector<notification_record> result;
    for (auto& n : e.notifications->all())
      if (n.booking_id == id)
        result.push_back(n);
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(faults_tests, faults_fixture)

CAF_TEST(refund error rate 1 leaves failed voids and refunds to an operator) {
  cfg.faults.refund_error_rate = 1.0;
  boot(20);
  auto attempts = cfg.saga.compensation_retry.max_attempts;
  // A declined authorization is not voided, so the rate does not matter.
  auto declined = get(book("tok_decline").id);
  CAF_CHECK_EQUAL(declined.status, booking_status::failed);
  CAF_CHECK_EQUAL(declined.reason, "payment_declined");
  CAF_CHECK(entries(declined, ss::authorize_payment, sa::compensate).empty());
  // A lost authorization is voided: every void fails, the seats still go.
  auto lost = get(book("tok_timeout").id);
  CAF_CHECK_EQUAL(lost.status, booking_status::compensation_failed);
  CAF_CHECK_EQUAL(lost.reason, "timeout");
  auto voids = outcomes(lost, ss::authorize_payment, sa::compensate);
  CAF_CHECK_EQUAL(voids.size(), static_cast<size_t>(attempts));
  CAF_CHECK_EQUAL(count(voids, so::error), voids.size());
  CAF_CHECK_EQUAL(outcomes(lost, ss::reserve_seats, sa::compensate),
                  outcome_list{so::ok});
  // The failed voids changed nothing at the gateway.
  CAF_CHECK_EQUAL(state_of(lost.id), payment_state::authorized);
  CAF_CHECK_EQUAL(seats().held, 0);
  // Captures are not reversals: the booking is confirmed, its refund fails.
  auto kept = get(book("tok_ok").id);
  CAF_CHECK_EQUAL(kept.status, booking_status::confirmed);
  auto reply = call(e.coordinator_for(kept.id), cancel_atom::value, kept.id,
                    std::string{"req-cancel"});
  CAF_REQUIRE(reply.record);
  run();
  auto stuck = get(kept.id);
  CAF_CHECK_EQUAL(stuck.status, booking_status::compensation_failed);
  CAF_CHECK_EQUAL(stuck.reason, "payment_error");
  auto refunds = outcomes(stuck, ss::refund_payment, sa::execute);
  CAF_CHECK_EQUAL(refunds.size(), static_cast<size_t>(attempts));
  CAF_CHECK_EQUAL(count(refunds, so::error), refunds.size());
  CAF_CHECK_EQUAL(state_of(kept.id), payment_state::captured);
  CHECK_INVARIANTS({declined.id, lost.id, kept.id});
}

CAF_TEST(refund error rate one half is survived with enough attempts) {
  cfg.faults.refund_error_rate = 0.5;
  cfg.saga.compensation_retry.max_attempts = 30;
  boot(40);
  std::vector<std::string> lost;
  std::vector<std::string> cancelled;
  for (int i = 0; i < 6; ++i)
    lost.push_back(book("tok_timeout").id);
  for (int i = 0; i < 6; ++i) {
    auto id = book("tok_ok").id;
    auto reply = call(e.coordinator_for(id), cancel_atom::value, id,
                      std::string{"req-cancel"});
    CAF_REQUIRE(reply.record);
    run();
    cancelled.push_back(id);
  }
  size_t failed_reversals = 0;
  for (auto& id : lost) {
    auto rec = get(id);
    CAF_CHECK_EQUAL(rec.status, booking_status::failed);
    CAF_CHECK_EQUAL(rec.reason, "timeout");
    CAF_CHECK_EQUAL(state_of(id), payment_state::voided);
    failed_reversals
      += count(outcomes(rec, ss::authorize_payment, sa::compensate), so::error);
  }
  for (auto& id : cancelled) {
    auto rec = get(id);
    CAF_CHECK_EQUAL(rec.status, booking_status::cancelled);
    CAF_CHECK_EQUAL(state_of(id), payment_state::refunded);
    failed_reversals += count(outcomes(rec, ss::refund_payment, sa::execute),
                              so::error);
  }
  // The rate did bite (12 reversals at one half: no failure is 1 in 4096).
  CAF_CHECK_GREATER(failed_reversals, 0u);
  CAF_CHECK_EQUAL(seats().sold, 0);
  auto acked = lost;
  acked.insert(acked.end(), cancelled.begin(), cancelled.end());
  CHECK_INVARIANTS(acked);
}

CAF_TEST(a notification outage delays the email until it ends) {
  size_t delivered = 0;
  opts.sink = [&delivered](const notification_record&, const trace_context&) {
    ++delivered;
    return true;
  };
  boot();
  outages->notification = true;
  auto req = request_for("tok_ok");
  CAF_REQUIRE(call(e.coordinator_for(req.id), create_atom::value, req).record);
  advance(1s);
  auto during = get(req.id);
  CAF_CHECK_EQUAL(during.status, booking_status::confirmed);
  auto tries = outcomes(during, ss::send_notification, sa::execute);
  CAF_CHECK_GREATER_OR_EQUAL(tries.size(), 3u);
  CAF_CHECK_EQUAL(count(tries, so::error), tries.size());
  // Nothing was attempted, so nothing was recorded or delivered.
  CAF_CHECK(notes_of(req.id).empty());
  CAF_CHECK_EQUAL(delivered, 0u);
  outages->notification = false;
  run();
  auto after = get(req.id);
  auto all = outcomes(after, ss::send_notification, sa::execute);
  CAF_CHECK_EQUAL(all.size(), tries.size() + 1);
  CAF_CHECK_EQUAL(all.back(), so::ok);
  auto notes = notes_of(req.id);
  CAF_REQUIRE_EQUAL(notes.size(), 1u);
  CAF_CHECK_EQUAL(notes[0].status, "sent");
  CAF_CHECK_EQUAL(notes[0].attempts, 1);
  CAF_CHECK_EQUAL(delivered, 1u);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a payment outage fails bookings with payment_error) {
  boot();
  outages->payment = true;
  std::vector<booking_request> reqs{request_for("tok_ok"),
                                    request_for("tok_ok")};
  for (auto& req : reqs)
    submit(req);
  // Long enough for the authorizations to run out and voids to start.
  advance(1s);
  for (auto& req : reqs) {
    auto rec = get(req.id);
    CAF_CHECK_EQUAL(rec.status, booking_status::pending);
    CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::execute),
                    outcome_list(cfg.saga.step_retry.max_attempts, so::error));
    CAF_CHECK(!entries(rec, ss::authorize_payment, sa::compensate).empty());
    // The gateway never heard of the booking.
    CAF_CHECK(!payment_of(req.id));
  }
  outages->payment = false;
  run();
  std::vector<std::string> acked;
  for (auto& req : reqs) {
    auto rec = get(req.id);
    CAF_CHECK_EQUAL(rec.status, booking_status::failed);
    CAF_CHECK_EQUAL(rec.reason, "payment_error");
    auto voids = outcomes(rec, ss::authorize_payment, sa::compensate);
    CAF_REQUIRE(!voids.empty());
    CAF_CHECK_EQUAL(voids.back(), so::ok);
    CAF_CHECK_GREATER(count(voids, so::error), 0u);
    // The void after the outage leaves a tombstone.
    CAF_CHECK_EQUAL(state_of(req.id), payment_state::voided);
    acked.push_back(req.id);
  }
  CAF_CHECK_EQUAL(seats().held, 0);
  CHECK_INVARIANTS(acked);
}

CAF_TEST(an inventory outage fails bookings with inventory_error) {
  boot();
  outages->inventory = true;
  auto req = request_for("tok_ok");
  submit(req);
  advance(500ms);
  auto during = get(req.id);
  CAF_CHECK_EQUAL(during.status, booking_status::pending);
  CAF_CHECK_GREATER(
    count(outcomes(during, ss::reserve_seats, sa::compensate), so::error), 0u);
  outages->inventory = false;
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "inventory_error");
  CAF_CHECK_EQUAL(outcomes(rec, ss::reserve_seats, sa::execute),
                  outcome_list(cfg.saga.step_retry.max_attempts, so::error));
  CAF_CHECK(!payment_of(req.id));
  CAF_CHECK_EQUAL(seats().held, 0);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(crashed workers are replaced behind the same handles) {
  cfg.faults.payment_latency = 50ms;
  cfg.faults.inventory_latency = 20ms;
  cfg.faults.notification_latency = 20ms;
  boot(40);
  CAF_CHECK_EQUAL(
    crashable_roles(),
    (std::vector<std::string>{"inventory", "payment", "notification"}));
  auto shard = shard_index("lisbon-food", e.inventory.size());
  auto inventory_pool = caf::actor_cast<caf::actor>(e.inventory[shard]);
  auto payments_before = workers_of(e.payment_pool);
  auto shard_before = workers_of(inventory_pool);
  CAF_REQUIRE_EQUAL(payments_before.size(), e.payment_workers);
  CAF_REQUIRE_EQUAL(shard_before.size(), 1u);
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto req = request_for("tok_ok");
    submit(req);
    ids.push_back(req.id);
  }
  // The reserves are answered; the authorizations wait in the workers.
  advance(30ms);
  auto pending = collect_stats(self, e, [this] { sched.run(); });
  CAF_CHECK_EQUAL(pending.in_flight, 8);
  // More work in flight, then the crashes.
  for (int i = 0; i < 4; ++i) {
    auto req = request_for("tok_ok");
    submit(req);
    ids.push_back(req.id);
  }
  sched.run();
  // A call waiting in the shard's mailbox when it dies is lost with it.
  auto queued = self->request(shard_before[0], caf::infinite,
                              snapshot_atom::value);
  // The index wraps around the role's workers.
  CAF_CHECK_EQUAL(crash_worker(sys, e, "payment", e.payment_workers + 1),
                  "payment#1");
  CAF_CHECK_EQUAL(crash_worker(sys, e, "inventory", shard),
                  "inventory#" + std::to_string(shard));
  // Two calls right after the crash: the pool of the shard holds the old
  // and the new worker until the old one's down message; the call routed
  // to the old one is lost with its mailbox and answered with an error.
  std::vector<caf::error> errors;
  size_t answered = 0;
  auto first = self->request(e.inventory[shard], caf::infinite,
                             snapshot_atom::value);
  auto second = self->request(e.inventory[shard], caf::infinite,
                              snapshot_atom::value);
  sched.run();
  for (auto* handle : {&first, &second})
    handle->receive([&](inventory_snapshot&) { ++answered; },
                    [&](caf::error& err) { errors.push_back(err); });
  CAF_CHECK_EQUAL(answered, 1u);
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK(errors[0] == caf::sec::request_receiver_down);
  queued.receive(
    [&](inventory_snapshot&) { CAF_FAIL("the killed shard answered"); },
    [&](caf::error& err) {
      CAF_CHECK(err == caf::sec::request_receiver_down);
    });
  // From inside an actor, as the simulator's driver does.
  std::string from_actor;
  sys.spawn([&](caf::event_based_actor* driver) {
    from_actor = crash_worker(driver->system(), e, "notification", 3);
  });
  sched.run();
  CAF_CHECK_EQUAL(from_actor, "notification#1");
  // To quiescence: the lost replies time out, and the sagas go on.
  run();
  auto payments_after = workers_of(e.payment_pool);
  auto shard_after = workers_of(inventory_pool);
  CAF_CHECK_EQUAL(payments_after.size(), e.payment_workers);
  CAF_CHECK(!contains(payments_after, payments_before[1]));
  CAF_CHECK_EQUAL(shard_after.size(), 1u);
  CAF_CHECK(!contains(shard_after, shard_before[0]));
  CAF_CHECK_EQUAL(workers_of(e.notification_pool).size(),
                  e.notification_workers);
  size_t confirmed = 0;
  size_t timed_out = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto rec = get(ids[i]);
    if (i >= 8) {
      // Their holds were made, but the replies died with the shard: the
      // reserve timed out and its retry found the hold.
      auto reserves = outcomes(rec, ss::reserve_seats, sa::execute);
      CAF_CHECK_EQUAL(reserves, (outcome_list{so::timeout, so::ok}));
    }
    CAF_CHECK(rec.status == booking_status::confirmed
              || rec.status == booking_status::failed);
    confirmed += rec.status == booking_status::confirmed;
    if (rec.status == booking_status::failed) {
      // Only lost authorizations fail a booking: queried, then voided.
      CAF_CHECK_EQUAL(rec.reason, "timeout");
      CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::execute),
                      outcome_list{so::timeout});
      CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::compensate),
                      outcome_list{so::ok});
      CAF_CHECK_EQUAL(state_of(rec.id), payment_state::voided);
      ++timed_out;
    }
  }
  CAF_CHECK_EQUAL(confirmed + timed_out, ids.size());
  // payment#1 held the first eight authorizations of its bookings: the pool
  // sends each booking's calls to one worker, by its id.
  size_t on_crashed = 0;
  for (size_t i = 0; i < 8; ++i)
    on_crashed += shard_index(ids[i], e.payment_workers) == 1;
  CAF_CHECK_EQUAL(timed_out, on_crashed);
  auto st = stats();
  CAF_CHECK_EQUAL(st.in_flight, 0);
  CAF_CHECK_GREATER(st.retries, 0);
  // New bookings still go through every replaced worker.
  for (int i = 0; i < static_cast<int>(e.payment_workers); ++i) {
    auto rec = get(book("tok_ok", 1).id);
    CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
    ids.push_back(rec.id);
  }
  CHECK_INVARIANTS(ids);
}

CAF_TEST(crash_worker rejects unknown roles) {
  boot();
  CAF_CHECK_EQUAL(crash_worker(sys, e, "payment", 0), "payment#0");
  auto threw = false;
  try {
    crash_worker(sys, e, "booking", 0);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CAF_CHECK(threw);
  run();
  CAF_CHECK_EQUAL(get(book("tok_ok").id).status, booking_status::confirmed);
  CHECK_INVARIANTS();
}

CAF_TEST_FIXTURE_SCOPE_END()
