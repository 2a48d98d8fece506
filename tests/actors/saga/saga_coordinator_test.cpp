#define CAF_SUITE actors.saga_coordinator
#include "actors/saga/saga_coordinator.hpp"

#include <map>
#include <numeric>
#include <set>

#include "tests/actors/engine_fixture.hpp"

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

using ss = saga_step;
using sa = saga_action;
using so = step_outcome;

using outcome_list = std::vector<step_outcome>;

using counts = std::map<std::string, int64_t>;

int64_t samples(const saga_stats& st) {
  return std::accumulate(st.duration_counts.begin(), st.duration_counts.end(),
                         int64_t{0});
}

/// A payment pool whose first authorization answers only after `delay`.
struct slow_state {
  bool first = true;
  uint64_t next = 0;
  std::unordered_map<uint64_t, std::function<void()>> parked;
  static inline const char* name = "slow_payment";
};

payment_actor::behavior_type
slow_first_authorize(payment_actor::stateful_pointer<slow_state> self,
                     payment_actor real, caf::timespan delay) {
  return {
    [=](authorize_atom a, payment_request& req) -> caf::result<payment_intent> {
      if (!self->state.first)
        return self->delegate(real, a, std::move(req));
      self->state.first = false;
      auto rp = self->make_response_promise<payment_intent>();
      self->request(real, caf::infinite, a, std::move(req))
        .then(
          [=](payment_intent& p) mutable {
            auto id = self->state.next++;
            self->state.parked[id] = [rp, p]() mutable { rp.deliver(p); };
            self->delayed_send(self, delay, deliver_atom::value, id);
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
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
    [=](deliver_atom, uint64_t id) {
      auto f = std::move(self->state.parked[id]);
      self->state.parked.erase(id);
      f();
    },
  };
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(saga_tests, engine_fixture)

CAF_TEST(happy path) {
  boot();
  auto pending = book("tok_ok");
  CAF_CHECK_EQUAL(pending.status, booking_status::pending);
  CAF_CHECK_EQUAL(pending.amount_cents, 9000);
  auto rec = get(pending.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(rec.reason, "");
  CAF_REQUIRE_EQUAL(rec.saga.size(), 4u);
  CAF_CHECK_EQUAL(rec.saga[0].step, ss::reserve_seats);
  CAF_CHECK_EQUAL(rec.saga[1].step, ss::authorize_payment);
  CAF_CHECK_EQUAL(rec.saga[2].step, ss::confirm_booking);
  CAF_CHECK_EQUAL(rec.saga[3].step, ss::send_notification);
  for (auto& x : rec.saga) {
    CAF_CHECK_EQUAL(x.outcome, so::ok);
    CAF_CHECK_EQUAL(x.attempt, 1);
    CAF_CHECK_EQUAL(x.error, "");
  }
  auto d = seats();
  CAF_CHECK_EQUAL(d.sold, 2);
  CAF_CHECK_EQUAL(d.held, 0);
  auto p = payment_of(rec.id);
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL(p->state, payment_state::captured);
  CAF_CHECK_EQUAL(p->captured_cents, 9000);
  auto n = e.notifications->find(rec.id, notification_kind::booking_confirmed);
  CAF_REQUIRE(n);
  CAF_CHECK_EQUAL(n->status, "sent");
  CAF_CHECK_EQUAL(n->to, "ana@example.com");
  CAF_CHECK(n->body.find("90.00 EUR") != std::string::npos);
  CAF_CHECK_EQUAL(stats().in_flight, 0);
  CHECK_INVARIANTS({rec.id});
}

CAF_TEST(an id that reads like a cancellation key runs its own saga) {
  // The coordinator names a cancellation saga "<id>#cancel"; a booking id
  // that ends so must still run, and end, as the booking saga it is.
  boot();
  auto req = request_for("tok_ok");
  req.id += "#cancel";
  auto reply = call(e.coordinator_for(req.id), create_atom::value, req);
  CAF_REQUIRE(reply.record);
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(rec.saga.size(), 4u);
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::captured);
  CAF_CHECK_EQUAL(stats().in_flight, 0);
}

CAF_TEST(sold out attempts no payment) {
  boot(1);
  auto rec = get(book("tok_ok", 2).id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "sold_out");
  CAF_CHECK_EQUAL(outcomes(rec, ss::reserve_seats, sa::execute),
                  outcome_list{so::declined});
  CAF_CHECK(entries(rec, ss::authorize_payment, sa::execute).empty());
  CAF_CHECK(!payment_of(rec.id));
  auto n = e.notifications->find(rec.id, notification_kind::booking_failed);
  CAF_REQUIRE(n);
  CAF_CHECK(n->body.find("sold out") != std::string::npos);
  CAF_CHECK(n->body.find("not been charged") != std::string::npos);
  CHECK_INVARIANTS({rec.id});
}

CAF_TEST(payment declined releases the hold) {
  boot();
  auto rec = get(book("tok_decline").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "payment_declined");
  CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::execute),
                  outcome_list{so::declined});
  CAF_CHECK_EQUAL(outcomes(rec, ss::reserve_seats, sa::compensate),
                  outcome_list{so::ok});
  // The declined authorization itself is not voided: nothing to undo.
  CAF_CHECK(entries(rec, ss::authorize_payment, sa::compensate).empty());
  CAF_CHECK_EQUAL(seats().held, 0);
  CHECK_INVARIANTS({rec.id});
}

CAF_TEST(payment timeout queries then voids) {
  boot();
  auto rec = get(book("tok_timeout").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "timeout");
  // One authorization only: an uncertain outcome is never retried blindly.
  CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::execute),
                  outcome_list{so::timeout});
  CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::query),
                  outcome_list{so::ok});
  CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::compensate),
                  outcome_list{so::ok});
  CAF_CHECK_EQUAL(outcomes(rec, ss::reserve_seats, sa::compensate),
                  outcome_list{so::ok});
  auto p = payment_of(rec.id);
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL(p->state, payment_state::voided);
  CAF_CHECK_EQUAL(seats().held, 0);
  CAF_CHECK_EQUAL(stats().uncertain_resolved, 1);
  CHECK_INVARIANTS({rec.id});
}

CAF_TEST(flaky payment is retried then confirmed) {
  boot();
  auto rec = get(book("tok_flaky").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  auto tries = entries(rec, ss::authorize_payment, sa::execute);
  CAF_REQUIRE_EQUAL(tries.size(), 3u);
  CAF_CHECK_EQUAL(tries[0].outcome, so::error);
  CAF_CHECK_EQUAL(tries[0].attempt, 1);
  CAF_CHECK_NOT_EQUAL(tries[0].error, "");
  CAF_CHECK_EQUAL(tries[1].outcome, so::error);
  CAF_CHECK_EQUAL(tries[1].attempt, 2);
  CAF_CHECK_EQUAL(tries[2].outcome, so::ok);
  CAF_CHECK_EQUAL(tries[2].attempt, 3);
  CAF_CHECK_EQUAL(stats().retries, 2);
  CHECK_INVARIANTS({rec.id});
}

CAF_TEST(retries wait for their backoff) {
  cfg.saga.step_retry.initial_backoff = 1s;
  cfg.saga.step_retry.jitter = 0;
  boot();
  auto req = request_for("tok_flaky");
  submit(req);
  sched.run(); // messages only: the retry timer stays pending
  CAF_CHECK_EQUAL(
    entries(get(req.id), ss::authorize_payment, sa::execute).size(), 1u);
  advance_time(999ms);
  sched.run();
  CAF_CHECK_EQUAL(
    entries(get(req.id), ss::authorize_payment, sa::execute).size(), 1u);
  advance_time(1ms);
  sched.run();
  CAF_CHECK_EQUAL(
    entries(get(req.id), ss::authorize_payment, sa::execute).size(), 2u);
  run();
  CAF_CHECK_EQUAL(get(req.id).status, booking_status::confirmed);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(notification failure keeps the booking confirmed) {
  // The email provider is down for the first two deliveries.
  int failures_left = 2;
  opts.sink = [&](const notification_record&, const trace_context&) {
    return failures_left-- <= 0;
  };
  boot();
  auto rec = get(book("tok_ok").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(outcomes(rec, ss::send_notification, sa::execute),
                  (outcome_list{so::error, so::error, so::ok}));
  auto n = e.notifications->find(rec.id, notification_kind::booking_confirmed);
  CAF_REQUIRE(n);
  CAF_CHECK_EQUAL(n->status, "sent");
  CAF_CHECK_EQUAL(n->attempts, 3);
  CAF_CHECK(entries(rec, ss::reserve_seats, sa::compensate).empty());
  CHECK_INVARIANTS({rec.id});
}

CAF_TEST(notification outage beyond the budget never undoes the booking) {
  cfg.saga.notification_retry.max_attempts = 3;
  opts.sink = [](const notification_record&, const trace_context&) {
    return false;
  };
  boot();
  auto rec = get(book("tok_ok").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(outcomes(rec, ss::send_notification, sa::execute).size(), 3u);
  auto n = e.notifications->find(rec.id, notification_kind::booking_confirmed);
  CAF_REQUIRE(n);
  CAF_CHECK_EQUAL(n->status, "failed");
  CAF_CHECK_EQUAL(stats().in_flight, 0);
  // Only the notification invariant is broken, and the checker says so.
  auto report = check_world({rec.id});
  for (auto& r : report.results)
    CAF_CHECK_EQUAL(r.passed, r.id != 5);
}

CAF_TEST(a compensation fails twice then succeeds) {
  cfg.faults.payment_timeout_rate = 1.0;
  boot();
  auto rec = get(book("tok_refund_fail").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "timeout");
  CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::compensate),
                  (outcome_list{so::error, so::error, so::ok}));
  auto voids = entries(rec, ss::authorize_payment, sa::compensate);
  CAF_CHECK_EQUAL(voids.back().attempt, 3);
  CAF_CHECK_EQUAL(outcomes(rec, ss::reserve_seats, sa::compensate),
                  outcome_list{so::ok});
  CAF_CHECK_EQUAL(state_of(rec.id), payment_state::voided);
  CHECK_INVARIANTS({rec.id});
}

CAF_TEST(a compensation that always fails ends in compensation_failed) {
  cfg.faults.payment_timeout_rate = 1.0;
  cfg.saga.compensation_retry.max_attempts = 2;
  boot();
  auto rec = get(book("tok_refund_fail").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::compensation_failed);
  CAF_CHECK_EQUAL(rec.reason, "timeout");
  CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::compensate),
                  (outcome_list{so::error, so::error}));
  // The other compensations still ran: the seats are free again.
  CAF_CHECK_EQUAL(outcomes(rec, ss::reserve_seats, sa::compensate),
                  outcome_list{so::ok});
  CAF_CHECK_EQUAL(seats().held, 0);
  CAF_CHECK_EQUAL(state_of(rec.id), payment_state::authorized);
  auto st = stats();
  CAF_CHECK_EQUAL(st.in_flight, 0);
  CAF_CHECK_EQUAL(st.completed_by,
                  (counts{{"compensation_failed/timeout", 1}}));
  // The void that ran out of retries is not a compensation; its retry is.
  CAF_CHECK_EQUAL(st.compensations_by_step, (counts{{"reserve_seats", 1}}));
  CAF_CHECK_EQUAL(st.retries_by_step, (counts{{"authorize_payment", 1}}));
  // The customer is told, without the promise that nothing was charged.
  auto n = e.notifications->find(rec.id, notification_kind::booking_failed);
  CAF_REQUIRE(n);
  CAF_CHECK(n->body.find("not been charged") == std::string::npos);
  CHECK_INVARIANTS({rec.id});
}

CAF_TEST(the cancellation saga refunds releases and notifies) {
  boot();
  auto id = book("tok_ok").id;
  CAF_REQUIRE_EQUAL(get(id).status, booking_status::confirmed);
  auto handle = self->request(e.coordinator_for(id), caf::infinite,
                              cancel_atom::value, id,
                              std::string{"req-cancel"});
  sched.run_once(); // the coordinator asks the booking shard
  sched.run();
  booking_record reply;
  handle.receive([&](booking_record& x) { reply = x; },
                 [&](caf::error& err) { CAF_FAIL(describe(err)); });
  CAF_CHECK_EQUAL(reply.status, booking_status::cancelling);
  run();
  auto rec = get(id);
  CAF_CHECK_EQUAL(rec.status, booking_status::cancelled);
  for (auto step : {ss::refund_payment, ss::release_seats, ss::cancel_booking})
    CAF_CHECK_EQUAL(outcomes(rec, step, sa::execute), outcome_list{so::ok});
  CAF_CHECK_EQUAL(rec.saga.back().step, ss::send_notification);
  auto p = payment_of(id);
  CAF_CHECK_EQUAL(p->state, payment_state::refunded);
  CAF_CHECK_EQUAL(p->refunded_cents, 9000);
  CAF_CHECK_EQUAL(seats().sold, 0);
  CAF_CHECK(e.notifications->find(id, notification_kind::booking_cancelled));
  // Cancelling again is a no-op that returns the booking as it is.
  auto again = call(e.coordinator_for(id), cancel_atom::value, id,
                    std::string{"req-again"});
  CAF_REQUIRE(again.record);
  CAF_CHECK_EQUAL(again.record->status, booking_status::cancelled);
  auto st = stats();
  CAF_CHECK_EQUAL(st.started, 2);
  CAF_CHECK_EQUAL(st.completed_by,
                  (counts{{"cancelled/none", 1}, {"confirmed/none", 1}}));
  CAF_CHECK_EQUAL(samples(st), 2);
  CHECK_INVARIANTS({id});
}

CAF_TEST(only confirmed bookings can be cancelled) {
  boot();
  auto id = book("tok_decline").id;
  auto reply = call(e.coordinator_for(id), cancel_atom::value, id,
                    std::string{"req"});
  CAF_CHECK(!reply.record);
  CAF_CHECK(is(reply.error, booking_errc::wrong_status));
  auto unknown = call(e.coordinator_for("nope"), cancel_atom::value,
                      std::string{"nope"}, std::string{"req"});
  CAF_CHECK(is(unknown.error, booking_errc::not_found));
  CHECK_INVARIANTS({id});
}

CAF_TEST(two bookings race for the last seat) {
  boot(1);
  auto a = request_for("tok_ok", 1);
  auto b = request_for("tok_ok", 1);
  submit(a);
  submit(b);
  run();
  auto ra = get(a.id);
  auto rb = get(b.id);
  auto confirmed = (ra.status == booking_status::confirmed)
                   + (rb.status == booking_status::confirmed);
  CAF_CHECK_EQUAL(confirmed, 1);
  auto& loser = ra.status == booking_status::confirmed ? rb : ra;
  CAF_CHECK_EQUAL(loser.status, booking_status::failed);
  CAF_CHECK_EQUAL(loser.reason, "sold_out");
  CAF_CHECK_EQUAL(seats().sold, 1);
  CHECK_INVARIANTS({a.id, b.id});
}

CAF_TEST(a late reply after a timeout is ignored) {
  opts.wrap_payment = [](caf::actor_system& sys, payment_actor real) {
    return sys.spawn(slow_first_authorize, real, caf::timespan{10s});
  };
  boot();
  auto req = request_for("tok_ok");
  submit(req);
  sched.run();
  advance_time(5s); // the authorization's timeout
  sched.run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "timeout");
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::voided);
  auto history = rec.saga.size();
  advance_time(5s); // now the authorization's answer arrives
  run();
  rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.saga.size(), history);
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::voided);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a short deadline fires before a longer one issued earlier) {
  // The reservation (10 s deadline) goes out first and is answered after
  // 1 s; the authorization it leads to has a 2 s deadline and never gets an
  // answer. It must time out at 3 s, not when the reservation's would have.
  cfg.saga.inventory_timeout = 10s;
  cfg.saga.payment_timeout = 2s;
  cfg.saga.step_retry.max_attempts = 1;
  cfg.faults.inventory_latency = 1s;
  cfg.faults.payment_timeout_rate = 1.0;
  boot();
  auto req = request_for("tok_ok");
  submit(req);
  auto authorize_timeouts = [&] {
    return outcomes(get(req.id), ss::authorize_payment, sa::execute);
  };
  sched.run();
  advance_time(1s); // the reservation's answer
  sched.run();
  CAF_CHECK_EQUAL(outcomes(get(req.id), ss::reserve_seats, sa::execute),
                  outcome_list{so::ok});
  advance_time(1999ms);
  sched.run();
  CAF_CHECK_EQUAL(authorize_timeouts(), outcome_list{});
  advance_time(1ms);
  sched.run();
  CAF_CHECK_EQUAL(authorize_timeouts(), outcome_list{so::timeout});
}

CAF_TEST(a lost payment answer is released as a timeout) {
  // The coordinator asks untimed and keeps its own deadline; a payment
  // worker that lost the answer still answers, late, so the coordinator
  // does not keep the request's handler for good.
  cfg.faults.payment_timeout_rate = 1.0;
  boot();
  payment_request pay{new_booking_id(), 9000, "EUR", "tok_ok"};
  auto before = self->mailbox().size(); // what booting left there
  auto handle = self->request(e.payment, caf::infinite, authorize_atom::value,
                              pay);
  sched.run();
  advance_time(59s);
  sched.run();
  CAF_CHECK_EQUAL(self->mailbox().size(), before); // nothing yet
  advance_time(1s);
  sched.run();
  // (A requirement: receiving below would wait for good otherwise.)
  CAF_REQUIRE_EQUAL(self->mailbox().size(), before + 1);
  caf::error err;
  handle.receive([](payment_intent&) { CAF_FAIL("the answer was lost"); },
                 [&](caf::error& x) { err = std::move(x); });
  CAF_CHECK_EQUAL(err, caf::make_error(caf::sec::request_timeout));
  CAF_CHECK_EQUAL(state_of(pay.booking_id), payment_state::authorized);
}

CAF_TEST(await answers with the outcome) {
  boot();
  auto req = request_for("tok_ok");
  submit(req);
  auto handle = self->request(e.coordinator_for(req.id), caf::infinite,
                              await_atom::value, req.id);
  run();
  booking_record rec;
  handle.receive([&](booking_record& x) { rec = x; },
                 [&](caf::error& err) { CAF_FAIL(describe(err)); });
  CAF_CHECK_EQUAL(rec.id, req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(unknown tours are refused without a booking) {
  boot();
  auto req = request_for("tok_ok");
  req.tour_id = "nowhere";
  auto reply = call(e.coordinator_for(req.id), create_atom::value, req);
  CAF_CHECK(is(reply.error, booking_errc::unknown_tour));
  req.tour_id = "lisbon-food";
  req.date = "2030-01-01";
  reply = call(e.coordinator_for(req.id), create_atom::value, req);
  CAF_CHECK(is(reply.error, booking_errc::unknown_date));
  CAF_CHECK(collect_world(self, e, pump()).bookings.empty());
  CHECK_INVARIANTS();
}

CAF_TEST(the in - flight limit refuses new sagas) {
  cfg.saga.max_in_flight = 2;
  cfg.workers.saga_coordinators = 1;
  boot();
  std::vector<booking_request> reqs;
  for (int i = 0; i < 3; ++i) {
    reqs.push_back(request_for("tok_timeout", 1));
    submit(reqs.back());
  }
  sched.run();
  std::vector<caf::error> errors;
  for (int i = 0; i < 3; ++i)
    self->receive([](booking_record&) {},
                  [&](caf::error& err) { errors.push_back(err); });
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK(is(errors[0], booking_errc::overloaded));
  run();
  CHECK_INVARIANTS({reqs[0].id, reqs[1].id});
}

CAF_TEST(coordinators share one exact in - flight limit) {
  cfg.saga.max_in_flight = 3;
  cfg.workers.saga_coordinators = 4;
  boot(100);
  for (int round = 0; round < 2; ++round) {
    std::vector<booking_request> reqs;
    std::set<size_t> coordinators;
    for (int i = 0; i < 12; ++i) {
      reqs.push_back(request_for("tok_timeout", 1));
      coordinators.insert(shard_index(reqs.back().id, 4));
      submit(reqs.back());
    }
    CAF_REQUIRE_GREATER(coordinators.size(), 1u);
    sched.run(); // messages only: the timed-out authorizations wait
    size_t admitted = 0;
    std::vector<caf::error> errors;
    for (int i = 0; i < 12; ++i)
      self->receive([&](booking_record&) { ++admitted; },
                    [&](caf::error& err) { errors.push_back(err); });
    CAF_CHECK_EQUAL(admitted, 3u);
    CAF_CHECK_EQUAL(e.gate->in_flight(), 3u);
    for (auto& err : errors) {
      CAF_CHECK(is(err, booking_errc::overloaded));
      CAF_CHECK_EQUAL(describe(err), "overloaded: max-in-flight");
    }
    run();
    // Every place is given back once the sagas end.
    CAF_CHECK_EQUAL(e.gate->in_flight(), 0u);
  }
  CHECK_INVARIANTS();
}

CAF_TEST(the backpressure gate counts places and names its cause) {
  backpressure gate{2, 10};
  CAF_CHECK(!gate.cause());
  CAF_CHECK(!gate.try_enter());
  CAF_CHECK(!gate.try_enter());
  CAF_CHECK(gate.try_enter() == overload_cause::max_in_flight);
  CAF_CHECK(gate.cause() == overload_cause::max_in_flight);
  // A resumed saga takes its place whatever the limit.
  gate.enter();
  CAF_CHECK_EQUAL(gate.in_flight(), 3u);
  gate.leave();
  gate.leave();
  CAF_CHECK(!gate.cause());
  gate.outbox_backlog = 10;
  CAF_CHECK(gate.try_enter() == overload_cause::outbox_backlog);
  CAF_CHECK_EQUAL(gate.in_flight(), 1u); // the refused one took nothing
  CAF_CHECK_EQUAL(to_string(*gate.cause()), std::string{"outbox-backlog"});
  gate.outbox_backlog = 9;
  CAF_CHECK(!gate.cause());
  // The lag is the age of the oldest unconfirmed event, 0 without one.
  auto now = caf::make_timestamp();
  CAF_CHECK_EQUAL(gate.outbox_lag(now), 0.0);
  gate.oldest_unconfirmed
    = (now - std::chrono::seconds(3)).time_since_epoch().count();
  CAF_CHECK_EQUAL(gate.outbox_lag(now), 3.0);
  gate.outbox_backlog = 0;
  CAF_CHECK_EQUAL(gate.outbox_lag(now), 0.0);
  // Without a backlog bound only the in-flight limit counts.
  backpressure unbounded{1, 0};
  unbounded.outbox_backlog = 1'000'000;
  CAF_CHECK(!unbounded.try_enter());
}

CAF_TEST(invalid seat counts are refused without a booking) {
  boot();
  for (int32_t seats : {0, -3}) {
    auto req = request_for("tok_ok", seats);
    auto reply = call(e.coordinator_for(req.id), create_atom::value, req);
    CAF_CHECK(is(reply.error, booking_errc::invalid_request));
  }
  CAF_CHECK(collect_world(self, e, pump()).bookings.empty());
  CHECK_INVARIANTS();
}

CAF_TEST(concurrent cancels both answer cancelling) {
  boot();
  auto id = book("tok_ok").id;
  auto& coordinator = e.coordinator_for(id);
  auto first = self->request(coordinator, caf::infinite, cancel_atom::value, id,
                             std::string{"c1"});
  auto second = self->request(coordinator, caf::infinite, cancel_atom::value,
                              id, std::string{"c2"});
  sched.run();
  for (auto* h : {&first, &second})
    h->receive(
      [&](booking_record& rec) {
        CAF_CHECK_EQUAL(rec.status, booking_status::cancelling);
      },
      [&](caf::error& err) { CAF_FAIL(describe(err)); });
  run();
  CAF_CHECK_EQUAL(get(id).status, booking_status::cancelled);
  CAF_CHECK_EQUAL(outcomes(get(id), ss::refund_payment, sa::execute).size(),
                  1u);
  CHECK_INVARIANTS({id});
}

CAF_TEST(await after a cancellation answers cancelled) {
  // The confirmation email keeps failing, so the booking saga is still
  // retrying it when the cancellation ends.
  bool outage = true;
  opts.sink = [&](const notification_record& n, const trace_context&) {
    return !outage || n.kind != notification_kind::booking_confirmed;
  };
  boot();
  auto req = request_for("tok_ok");
  auto created = call(e.coordinator_for(req.id), create_atom::value, req);
  CAF_REQUIRE(created.record);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::confirmed);
  auto cancelled = call(e.coordinator_for(req.id), cancel_atom::value, req.id,
                        std::string{"c"});
  CAF_REQUIRE(cancelled.record);
  CAF_CHECK_EQUAL(get(req.id).status, booking_status::cancelled);
  auto awaited = call(e.coordinator_for(req.id), await_atom::value, req.id);
  CAF_REQUIRE(awaited.record);
  CAF_CHECK_EQUAL(awaited.record->status, booking_status::cancelled);
  outage = false;
  run();
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(availability follows inventory and tour replacements) {
  boot();
  auto id = book("tok_ok").id;
  auto view = [&] {
    availability_view v;
    auto h = self->request(e.availability, caf::infinite, caf::get_atom::value,
                           std::string{"lisbon-food"}, std::string{},
                           std::string{});
    run();
    h.receive([&](availability_view& x) { v = x; },
              [&](caf::error& err) { CAF_FAIL(describe(err)); });
    return v;
  };
  auto v = view();
  CAF_REQUIRE_EQUAL(v.dates.size(), 1u);
  CAF_CHECK_EQUAL(v.dates[0].sold, 2);
  tour t{"lisbon-food",
         "Lisbon Food Walk",
         4500,
         "EUR",
         {{"2026-12-01", 10}, {"2026-12-02", 5}}};
  load_tours(self, e, {t}, pump());
  v = view();
  CAF_REQUIRE_EQUAL(v.dates.size(), 2u);
  CAF_CHECK_EQUAL(v.dates[0].sold, 2);
  CAF_CHECK_EQUAL(v.dates[1].date, "2026-12-02");
  CAF_CHECK_EQUAL(v.dates[1].capacity, 5);
  t.departures = {{"2026-12-02", 5}, {"2026-12-01", 10}};
  t.departures.pop_back(); // drop the booked date: refused, nothing changes
  auto refused = self->request(e.inventory_for(t.id), caf::infinite,
                               caf::put_atom::value, t);
  run();
  refused.receive([](bool) { CAF_FAIL("replace accepted"); },
                  [](caf::error& err) {
                    CAF_CHECK(is(err, booking_errc::capacity_conflict));
                  });
  CAF_CHECK_EQUAL(view().dates.size(), 2u);
  t.departures = {{"2026-12-01", 10}}; // drop the empty date
  load_tours(self, e, {t}, pump());
  v = view();
  CAF_REQUIRE_EQUAL(v.dates.size(), 1u);
  CAF_CHECK_EQUAL(v.dates[0].date, "2026-12-01");
  CHECK_INVARIANTS({id});
}

CAF_TEST(concurrent duplicate creates make one booking) {
  boot();
  auto req = request_for("tok_ok");
  for (int i = 0; i < 20; ++i) {
    auto again = req;
    again.correlation_id = "req-" + std::to_string(i);
    submit(again);
  }
  sched.run();
  std::vector<booking_record> replies;
  for (int i = 0; i < 20; ++i)
    self->receive([&](booking_record& rec) { replies.push_back(rec); },
                  [&](caf::error& err) { CAF_FAIL(describe(err)); });
  CAF_REQUIRE_EQUAL(replies.size(), 20u);
  for (auto& rec : replies) {
    CAF_CHECK_EQUAL(rec.id, req.id);
    CAF_CHECK_EQUAL(rec.status, booking_status::pending);
    CAF_CHECK_EQUAL(rec.correlation_id, "req-0"); // the first create's
  }
  run();
  CAF_CHECK_EQUAL(collect_world(self, e, pump()).bookings.size(), 1u);
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(outcomes(rec, ss::authorize_payment, sa::execute),
                  outcome_list{so::ok});
  CAF_CHECK_EQUAL(seats().sold, 2);
  auto st = stats();
  CAF_CHECK_EQUAL(st.started, 1);
  CAF_CHECK_EQUAL(st.completed_by, (counts{{"confirmed/none", 1}}));
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a duplicate create while the saga runs answers with the booking) {
  cfg.saga.step_retry.initial_backoff = 1s;
  cfg.saga.step_retry.jitter = 0;
  boot();
  auto req = request_for("tok_flaky");
  submit(req);
  sched.run(); // the first authorization failed; its retry waits
  self->receive([](booking_record&) {},
                [](caf::error& err) { CAF_FAIL(describe(err)); });
  auto again = req;
  again.correlation_id = "req-retry";
  auto reply = call(e.coordinator_for(req.id), create_atom::value, again);
  CAF_REQUIRE(reply.record);
  CAF_CHECK_EQUAL(reply.record->status, booking_status::pending);
  CAF_CHECK_EQUAL(outcomes(*reply.record, ss::authorize_payment, sa::execute),
                  outcome_list{so::error});
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(entries(rec, ss::reserve_seats, sa::execute).size(), 1u);
  CAF_CHECK_EQUAL(stats().started, 1);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a duplicate create after the saga answers with the outcome) {
  boot();
  auto req = request_for("tok_ok");
  auto first = call(e.coordinator_for(req.id), create_atom::value, req);
  CAF_REQUIRE(first.record);
  run();
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::confirmed);
  // The retry reaches the booking shard, which already has the id; an await
  // sent meanwhile waits for the same answer.
  auto again = req;
  again.correlation_id = "req-retry";
  auto& coordinator = e.coordinator_for(req.id);
  auto created = self->request(coordinator, caf::infinite, create_atom::value,
                               again);
  auto awaited = self->request(coordinator, caf::infinite, await_atom::value,
                               req.id);
  sched.run();
  auto is_the_booking = [&](booking_record& rec) {
    CAF_CHECK_EQUAL(rec.id, req.id);
    CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
    CAF_CHECK_EQUAL(rec.correlation_id, req.correlation_id);
  };
  auto no_error = [](caf::error& err) { CAF_FAIL(describe(err)); };
  created.receive(is_the_booking, no_error);
  awaited.receive(is_the_booking, no_error);
  run();
  auto st = stats();
  CAF_CHECK_EQUAL(st.started, 1);
  CAF_CHECK_EQUAL(st.starting, 0);
  CAF_CHECK_EQUAL(st.completed_by, (counts{{"confirmed/none", 1}}));
  CAF_CHECK_EQUAL(outcomes(get(req.id), ss::authorize_payment, sa::execute),
                  outcome_list{so::ok});
  CAF_CHECK_EQUAL(e.notifications->all().size(), 1u);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a duplicate create is never refused as overloaded) {
  cfg.saga.max_in_flight = 1;
  cfg.workers.saga_coordinators = 1;
  boot();
  auto done = request_for("tok_ok");
  CAF_REQUIRE(
    call(e.coordinator_for(done.id), create_atom::value, done).record);
  run();
  auto busy = request_for("tok_timeout", 1);
  submit(busy);
  sched.run(); // its authorization waits for a timeout: the limit is reached
  self->receive([](booking_record&) {},
                [](caf::error& err) { CAF_FAIL(describe(err)); });
  auto fresh = request_for("tok_ok");
  auto refused = call(e.coordinator_for(fresh.id), create_atom::value, fresh);
  CAF_CHECK(is(refused.error, booking_errc::overloaded));
  auto finished = call(e.coordinator_for(done.id), create_atom::value, done);
  CAF_REQUIRE(finished.record);
  CAF_CHECK_EQUAL(finished.record->status, booking_status::confirmed);
  auto running = call(e.coordinator_for(busy.id), create_atom::value, busy);
  CAF_REQUIRE(running.record);
  CAF_CHECK_EQUAL(running.record->status, booking_status::pending);
  run();
  CAF_CHECK_EQUAL(stats().started, 2);
  CHECK_INVARIANTS({done.id, busy.id});
}

CAF_TEST(a create refused for an unknown tour can be tried again) {
  boot();
  auto req = request_for("tok_ok");
  req.tour_id = "porto-wine";
  for (int i = 0; i < 3; ++i)
    submit(req); // the repetitions share the first one's error
  sched.run();
  for (int i = 0; i < 3; ++i)
    self->receive([](booking_record&) { CAF_FAIL("booked an unknown tour"); },
                  [](caf::error& err) {
                    CAF_CHECK(is(err, booking_errc::unknown_tour));
                  });
  CAF_CHECK(collect_world(self, e, pump()).bookings.empty());
  tour t{"porto-wine", "Porto Wine Cellars", 3000, "EUR", {{"2026-12-01", 4}}};
  load_tours(self, e, {t}, pump());
  auto reply = call(e.coordinator_for(req.id), create_atom::value, req);
  CAF_REQUIRE(reply.record);
  CAF_CHECK_EQUAL(reply.record->status, booking_status::pending);
  CAF_CHECK_EQUAL(reply.record->amount_cents, 6000);
  run();
  CAF_CHECK_EQUAL(get(req.id).status, booking_status::confirmed);
  CAF_CHECK_EQUAL(stats().started, 1);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(stats count a confirmed saga by outcome and duration) {
  boot();
  auto id = book("tok_ok").id;
  auto st = stats();
  CAF_CHECK_EQUAL(st.completed, 1);
  CAF_CHECK_EQUAL(st.completed_by, (counts{{"confirmed/none", 1}}));
  CAF_CHECK(st.compensations_by_step.empty());
  CAF_CHECK(st.retries_by_step.empty());
  CAF_REQUIRE_EQUAL(st.duration_counts.size(),
                    saga_duration_buckets().size() + 1);
  // Only messages ran, so the simulated clock stood still: 0 s.
  CAF_CHECK_EQUAL(samples(st), 1);
  CAF_CHECK_EQUAL(st.duration_counts[0], 1);
  CAF_CHECK_EQUAL(st.duration_sum, 0.0);
  CHECK_INVARIANTS({id});
}

CAF_TEST(stats count a declined payment and its compensation) {
  boot();
  auto id = book("tok_decline").id;
  auto st = stats();
  CAF_CHECK_EQUAL(st.completed_by, (counts{{"failed/payment_declined", 1}}));
  CAF_CHECK_EQUAL(st.compensations, 1);
  CAF_CHECK_EQUAL(st.compensations_by_step, (counts{{"reserve_seats", 1}}));
  CAF_CHECK(st.retries_by_step.empty());
  CAF_CHECK_EQUAL(samples(st), 1);
  CHECK_INVARIANTS({id});
}

CAF_TEST(stats count retries by step) {
  boot();
  auto id = book("tok_flaky").id;
  auto st = stats();
  CAF_CHECK_EQUAL(st.retries, 2);
  CAF_CHECK_EQUAL(st.retries_by_step, (counts{{"authorize_payment", 2}}));
  CAF_CHECK_EQUAL(st.completed_by, (counts{{"confirmed/none", 1}}));
  CAF_CHECK(st.compensations_by_step.empty());
  CHECK_INVARIANTS({id});
}

CAF_TEST(saga durations follow the actor clock) {
  cfg.saga.step_retry.initial_backoff = 1s;
  cfg.saga.step_retry.jitter = 0;
  boot();
  auto req = request_for("tok_flaky");
  submit(req);
  sched.run();
  advance_time(1s); // the first retry
  sched.run();
  advance_time(2s); // the second one, which succeeds
  sched.run();
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::confirmed);
  auto st = stats();
  CAF_CHECK_EQUAL(st.duration_sum, 3.0);
  CAF_CHECK_EQUAL(samples(st), 1);
  CAF_CHECK_EQUAL(st.duration_counts[9], 1); // (2.5 s, 5 s]
  run();
  CHECK_INVARIANTS({req.id});
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(saga stats add up) {
  auto& bounds = saga_duration_buckets();
  CAF_REQUIRE_EQUAL(bounds.size(), 12u);
  saga_stats a;
  observe_duration(a, 0.005); // bounds are inclusive
  observe_duration(a, 30);
  observe_duration(a, 31);
  CAF_CHECK_EQUAL(a.duration_counts, (std::vector<int64_t>{1, 0, 0, 0, 0, 0, 0,
                                                           0, 0, 0, 0, 1, 1}));
  a.started = 3;
  a.completed_by["confirmed/none"] = 2;
  a.retries_by_step["authorize_payment"] = 1;
  saga_stats b;
  observe_duration(b, 0.2);
  b.started = 1;
  b.completed_by["confirmed/none"] = 1;
  b.completed_by["failed/sold_out"] = 1;
  b.compensations_by_step["reserve_seats"] = 4;
  saga_stats total;
  total += a;
  total += b;
  CAF_CHECK_EQUAL(total.started, 4);
  CAF_CHECK_EQUAL(total.completed_by,
                  (counts{{"confirmed/none", 3}, {"failed/sold_out", 1}}));
  CAF_CHECK_EQUAL(total.retries_by_step, (counts{{"authorize_payment", 1}}));
  CAF_CHECK_EQUAL(total.compensations_by_step, (counts{{"reserve_seats", 4}}));
  CAF_CHECK_EQUAL(
    total.duration_counts,
    (std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1}));
  CAF_CHECK_EQUAL(total.duration_sum, 0.005 + 30 + 31 + 0.2);
  // The maps print (and so travel) like every other field.
  auto text = caf::deep_to_string(total);
  CAF_CHECK(text.find("failed/sold_out") != std::string::npos);
}
