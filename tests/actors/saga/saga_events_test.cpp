#define CAF_SUITE actors.saga_events
#include "actors/saga/saga_coordinator.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>

#include "tests/actors/engine_fixture.hpp"
#include "tests/uuid_text.hpp"

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

using type_list = std::vector<std::string>;

using event_log = std::shared_ptr<std::vector<domain_event>>;

/// A sink that appends every event to a vector the test reads.
event_sink_actor::behavior_type recorder(event_sink_actor::pointer,
                                         event_log log) {
  return {[=](domain_event& ev) { log->push_back(std::move(ev)); }};
}

/// A payment pool whose captures always fail with a technical error.
payment_actor::behavior_type failing_capture(payment_actor::pointer self,
                                             payment_actor real) {
  return {
    [=](authorize_atom a, payment_request& req) {
      return self->delegate(real, a, std::move(req));
    },
    [=](capture_atom, std::string&) -> caf::result<payment_intent> {
      return make_error(booking_errc::payment_error, "capture");
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
    [](deliver_atom, uint64_t) {}, // the workers' own timer; unused here
  };
}

const type_list confirmed_sequence{
  "booking.requested", "inventory.reserved", "payment.authorized",
  "payment.captured",  "booking.confirmed",  "notification.sent",
};

struct events_fixture : engine_fixture {
  event_log log = std::make_shared<std::vector<domain_event>>();

  events_fixture() {
    opts.events = sys.spawn(recorder, log);
  }

  /// The events of one booking, in the order the sink received them.
  std::vector<domain_event> events_of(const std::string& id) {
    std::vector<domain_event> result;
    for (auto& ev : *log)
      if (ev.booking_id == id)
        result.push_back(ev);
    return result;
  }

  static type_list types(const std::vector<domain_event>& evs) {
    type_list result;
    for (auto& ev : evs)
      result.push_back(ev.type);
    return result;
  }

  type_list types_of(const std::string& id) {
    return types(events_of(id));
  }

  /// The one event of `type` of booking `id`.
  domain_event event(const std::string& id, const std::string& type) {
    std::vector<domain_event> found;
    for (auto& ev : events_of(id))
      if (ev.type == type)
        found.push_back(ev);
    CAF_REQUIRE_EQUAL(found.size(), 1u);
    return found.front();
  }

  /// Books `req` and runs the engine until idle.
  void book_request(const booking_request& req) {
    auto reply = call(e.coordinator_for(req.id), create_atom::value, req);
    CAF_REQUIRE(reply.record);
    run();
  }

  /// Cancels booking `id` with correlation id `cid`, runs until idle.
  booking_record cancel(const std::string& id, const std::string& cid) {
    auto reply = call(e.coordinator_for(id), cancel_atom::value, id, cid);
    CAF_REQUIRE(reply.record);
    run();
    return get(id);
  }

  /// Checks what every event of a booking carries: a fresh UUID, a known
  /// type, the booking's fields, and a time that never goes back.
  void check_common(const std::vector<domain_event>& evs,
                    const booking_request& req) {
    auto& known = event_types();
    std::set<std::string> ids;
    caf::timestamp last{};
    for (auto& ev : evs) {
      CAF_CHECK(is_uuid(ev.id, '7'));
      ids.insert(ev.id);
      CAF_CHECK(std::find(known.begin(), known.end(), ev.type) != known.end());
      CAF_CHECK_EQUAL(ev.booking_id, req.id);
      CAF_CHECK_EQUAL(ev.tour_id, req.tour_id);
      CAF_CHECK_EQUAL(ev.date, req.date);
      CAF_CHECK_EQUAL(ev.seats, req.seats);
      CAF_CHECK_EQUAL(ev.amount_cents, 4500 * req.seats);
      CAF_CHECK_EQUAL(ev.currency, "EUR");
      CAF_CHECK_EQUAL(ev.customer_email, req.cust.email);
      CAF_CHECK(ev.time >= last);
      CAF_CHECK(ev.time.time_since_epoch().count() > 0);
      last = ev.time;
      auto notification = ev.type == "notification.sent";
      CAF_CHECK_EQUAL(ev.channel, notification ? "email" : "");
      CAF_CHECK_EQUAL(ev.kind.empty(), !notification);
    }
    CAF_CHECK_EQUAL(ids.size(), evs.size());
  }

  /// Checks correlation ids, statuses and reasons of `evs` one by one.
  void check_fields(const std::vector<domain_event>& evs,
                    const std::string& correlation_id,
                    const type_list& statuses, const type_list& reasons) {
    CAF_REQUIRE_EQUAL(evs.size(), statuses.size());
    CAF_REQUIRE_EQUAL(evs.size(), reasons.size());
    for (size_t i = 0; i < evs.size(); ++i) {
      CAF_MESSAGE("event " << i << ": " << evs[i].type);
      CAF_CHECK_EQUAL(evs[i].correlation_id, correlation_id);
      CAF_CHECK_EQUAL(evs[i].status, statuses[i]);
      CAF_CHECK_EQUAL(evs[i].reason, reasons[i]);
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(saga_events_tests, events_fixture)

CAF_TEST(a confirmed booking emits its six events in order) {
  boot();
  auto req = request_for("tok_ok");
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::confirmed);
  auto evs = events_of(req.id);
  CAF_CHECK_EQUAL(types(evs), confirmed_sequence);
  check_common(evs, req);
  check_fields(evs, req.correlation_id,
               {"pending", "pending", "pending", "pending", "confirmed",
                "confirmed"},
               {"", "", "", "", "", ""});
  auto sent = event(req.id, "notification.sent");
  CAF_CHECK_EQUAL(sent.kind, "booking_confirmed");
  CAF_CHECK_EQUAL(sent.channel, "email");
  CAF_CHECK_EQUAL(log->size(), evs.size());
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a declined payment emits the compensation events) {
  boot();
  auto req = request_for("tok_decline");
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::failed);
  auto evs = events_of(req.id);
  CAF_CHECK_EQUAL(types(evs),
                  (type_list{"booking.requested", "inventory.reserved",
                             "payment.declined", "saga.compensating",
                             "inventory.released", "booking.failed",
                             "notification.sent"}));
  check_common(evs, req);
  check_fields(evs, req.correlation_id,
               {"pending", "pending", "pending", "pending", "pending", "failed",
                "failed"},
               {"", "", "payment_declined", "", "", "payment_declined", ""});
  CAF_CHECK_EQUAL(event(req.id, "notification.sent").kind, "booking_failed");
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a payment timeout voids and fails with reason timeout) {
  boot();
  auto req = request_for("tok_timeout");
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::failed);
  auto evs = events_of(req.id);
  // The status query is no event: the gateway's authorization is only ever
  // reported as voided.
  CAF_CHECK_EQUAL(types(evs),
                  (type_list{"booking.requested", "inventory.reserved",
                             "saga.compensating", "payment.voided",
                             "inventory.released", "booking.failed",
                             "notification.sent"}));
  check_common(evs, req);
  check_fields(evs, req.correlation_id,
               {"pending", "pending", "pending", "pending", "pending", "failed",
                "failed"},
               {"", "", "", "", "", "timeout", ""});
  CAF_CHECK_EQUAL(event(req.id, "notification.sent").kind, "booking_failed");
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a sold out booking is rejected without compensation) {
  boot(1);
  auto req = request_for("tok_ok", 2);
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::failed);
  auto evs = events_of(req.id);
  CAF_CHECK_EQUAL(types(evs),
                  (type_list{"booking.requested", "inventory.rejected",
                             "booking.failed", "notification.sent"}));
  check_common(evs, req);
  check_fields(evs, req.correlation_id,
               {"pending", "pending", "failed", "failed"},
               {"", "sold_out", "sold_out", ""});
  CAF_CHECK_EQUAL(event(req.id, "notification.sent").kind, "booking_failed");
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a cancellation emits its events with the cancel correlation id) {
  boot();
  auto req = request_for("tok_ok");
  book_request(req);
  auto rec = cancel(req.id, "req-cancel");
  CAF_REQUIRE_EQUAL(rec.status, booking_status::cancelled);
  auto evs = events_of(req.id);
  auto expected = confirmed_sequence;
  for (auto x : {"payment.refunded", "inventory.released", "booking.cancelled",
                 "notification.sent"})
    expected.emplace_back(x);
  CAF_CHECK_EQUAL(types(evs), expected);
  check_common(evs, req);
  CAF_REQUIRE_EQUAL(evs.size(), 10u);
  std::vector<domain_event> booking_part(evs.begin(), evs.begin() + 6);
  std::vector<domain_event> cancel_part(evs.begin() + 6, evs.end());
  check_fields(booking_part, req.correlation_id,
               {"pending", "pending", "pending", "pending", "confirmed",
                "confirmed"},
               {"", "", "", "", "", ""});
  check_fields(cancel_part, "req-cancel",
               {"cancelling", "cancelling", "cancelled", "cancelled"},
               {"", "", "", ""});
  CAF_CHECK_EQUAL(evs[5].kind, "booking_confirmed");
  CAF_CHECK_EQUAL(evs[9].kind, "booking_cancelled");
  // Cancelling again changes nothing and emits nothing.
  CAF_CHECK_EQUAL(cancel(req.id, "req-again").status,
                  booking_status::cancelled);
  CAF_CHECK_EQUAL(events_of(req.id).size(), 10u);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(an intake booking sends its outcome to reply_to as the same event) {
  boot();
  auto req = request_for("tok_ok");
  req.reply_to = "amq.gen-client";
  book_request(req);
  auto rec = cancel(req.id, "req-cancel");
  CAF_REQUIRE_EQUAL(rec.status, booking_status::cancelled);
  auto evs = events_of(req.id);
  // The booking's events, with the outcome twice: on booking.events, then
  // the copy for the reply queue. The cancellation sends no reply.
  CAF_REQUIRE_EQUAL(evs.size(), 11u);
  CAF_CHECK_EQUAL(evs[4].type, "booking.confirmed");
  CAF_CHECK_EQUAL(evs[4].reply_to, "");
  CAF_CHECK_EQUAL(evs[5].type, "booking.confirmed");
  CAF_CHECK_EQUAL(evs[5].reply_to, "amq.gen-client");
  CAF_CHECK_EQUAL(evs[5].id, evs[4].id);
  CAF_CHECK_EQUAL(evs[5].correlation_id, evs[4].correlation_id);
  size_t replies = 0;
  for (auto& ev : evs)
    replies += ev.reply_to.empty() ? 0 : 1;
  CAF_CHECK_EQUAL(replies, 1u);
  CAF_CHECK_EQUAL(evs.back().type, "notification.sent");
}

CAF_TEST(retries emit nothing extra) {
  boot();
  auto req = request_for("tok_flaky");
  book_request(req);
  auto rec = get(req.id);
  CAF_REQUIRE_EQUAL(rec.status, booking_status::confirmed);
  CAF_REQUIRE_EQUAL(
    entries(rec, saga_step::authorize_payment, saga_action::execute).size(),
    3u);
  auto evs = events_of(req.id);
  CAF_CHECK_EQUAL(types(evs), confirmed_sequence);
  check_common(evs, req);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(notification retries emit one notification event) {
  int failures_left = 2;
  opts.sink = [&](const notification_record&, const trace_context&) {
    return failures_left-- <= 0;
  };
  boot();
  auto req = request_for("tok_ok");
  book_request(req);
  CAF_CHECK_EQUAL(types_of(req.id), confirmed_sequence);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a notification that never gets through emits no notification event) {
  cfg.saga.notification_retry.max_attempts = 2;
  opts.sink = [](const notification_record&, const trace_context&) {
    return false;
  };
  boot();
  auto req = request_for("tok_ok");
  book_request(req);
  CAF_CHECK_EQUAL(types_of(req.id),
                  (type_list{"booking.requested", "inventory.reserved",
                             "payment.authorized", "payment.captured",
                             "booking.confirmed"}));
  // Only the notification invariant is broken, and the checker says so.
  auto report = check_world({req.id});
  for (auto& r : report.results)
    CAF_CHECK_EQUAL(r.passed, r.id != 5);
}

CAF_TEST(payment errors beyond the budget void and fail with payment_error) {
  cfg.saga.step_retry.max_attempts = 2; // tok_flaky fails twice
  boot();
  auto req = request_for("tok_flaky");
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::failed);
  auto evs = events_of(req.id);
  CAF_CHECK_EQUAL(types(evs),
                  (type_list{"booking.requested", "inventory.reserved",
                             "saga.compensating", "payment.voided",
                             "inventory.released", "booking.failed",
                             "notification.sent"}));
  check_common(evs, req);
  check_fields(evs, req.correlation_id,
               {"pending", "pending", "pending", "pending", "pending", "failed",
                "failed"},
               {"", "", "", "", "", "payment_error", ""});
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a confirm that fails for good is refunded voided and released) {
  cfg.saga.compensation_retry.max_attempts = 2; // the confirm step's budget
  opts.wrap_payment = [](caf::actor_system& sys, payment_actor real) {
    return sys.spawn(failing_capture, real);
  };
  boot();
  auto req = request_for("tok_ok");
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::failed);
  auto evs = events_of(req.id);
  // The confirm may have captured, so it is undone first: its refund voids
  // the bare authorization here, then the authorization's own void.
  CAF_CHECK_EQUAL(
    types(evs),
    (type_list{"booking.requested", "inventory.reserved", "payment.authorized",
               "saga.compensating", "payment.refunded", "payment.voided",
               "inventory.released", "booking.failed", "notification.sent"}));
  check_common(evs, req);
  check_fields(evs, req.correlation_id,
               {"pending", "pending", "pending", "pending", "pending",
                "pending", "pending", "failed", "failed"},
               {"", "", "", "", "", "", "", "payment_error", ""});
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::voided);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a compensation that runs out of retries emits compensation_failed) {
  cfg.faults.payment_timeout_rate = 1.0;
  cfg.saga.compensation_retry.max_attempts = 2;
  boot();
  auto req = request_for("tok_refund_fail");
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::compensation_failed);
  auto evs = events_of(req.id);
  // The void never succeeds (no payment.voided); the release still runs.
  CAF_CHECK_EQUAL(types(evs),
                  (type_list{"booking.requested", "inventory.reserved",
                             "saga.compensating", "inventory.released",
                             "saga.compensation_failed", "notification.sent"}));
  check_common(evs, req);
  check_fields(evs, req.correlation_id,
               {"pending", "pending", "pending", "pending",
                "compensation_failed", "compensation_failed"},
               {"", "", "", "", "timeout", ""});
  CAF_CHECK_EQUAL(event(req.id, "notification.sent").kind, "booking_failed");
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(inventory errors beyond the budget end in compensation_failed) {
  // Reserve and release both keep failing.
  cfg.faults.inventory_error_rate = 1.0;
  cfg.saga.step_retry.max_attempts = 2;
  cfg.saga.compensation_retry.max_attempts = 2;
  boot();
  auto req = request_for("tok_ok");
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::compensation_failed);
  auto evs = events_of(req.id);
  CAF_CHECK_EQUAL(types(evs),
                  (type_list{"booking.requested", "saga.compensating",
                             "saga.compensation_failed", "notification.sent"}));
  check_common(evs, req);
  check_fields(evs, req.correlation_id,
               {"pending", "pending", "compensation_failed",
                "compensation_failed"},
               {"", "", "inventory_error", ""});
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a cancellation that cannot refund emits compensation_failed) {
  cfg.saga.compensation_retry.max_attempts = 2; // refunds fail twice
  boot();
  auto req = request_for("tok_refund_fail");
  book_request(req);
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::confirmed);
  auto rec = cancel(req.id, "req-cancel");
  CAF_REQUIRE_EQUAL(rec.status, booking_status::compensation_failed);
  auto evs = events_of(req.id);
  CAF_REQUIRE_EQUAL(evs.size(), 7u);
  auto seen = types(evs);
  CAF_CHECK_EQUAL(type_list(seen.begin(), seen.begin() + 6),
                  confirmed_sequence);
  // No cancellation notification: the booking stood; an operator takes over.
  auto& last = evs.back();
  CAF_CHECK_EQUAL(last.type, "saga.compensation_failed");
  CAF_CHECK_EQUAL(last.correlation_id, "req-cancel");
  CAF_CHECK_EQUAL(last.status, "compensation_failed");
  CAF_CHECK_EQUAL(last.reason, "payment_error");
  check_common(evs, req);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(duplicate creates emit one booking requested) {
  cfg.saga.step_retry.initial_backoff = 1s;
  cfg.saga.step_retry.jitter = 0;
  boot();
  auto req = request_for("tok_flaky");
  // Repetitions while the first is being stored...
  for (int i = 0; i < 5; ++i) {
    auto again = req;
    again.correlation_id = "req-" + std::to_string(i);
    submit(again);
  }
  sched.run(); // the first authorization failed; its retry waits
  for (int i = 0; i < 5; ++i)
    self->receive([](booking_record&) {},
                  [](caf::error& err) { CAF_FAIL(describe(err)); });
  // ... while its saga runs ...
  auto again = req;
  again.correlation_id = "req-running";
  CAF_REQUIRE(
    call(e.coordinator_for(req.id), create_atom::value, again).record);
  run();
  CAF_REQUIRE_EQUAL(get(req.id).status, booking_status::confirmed);
  // ... and after it ended.
  again.correlation_id = "req-after";
  CAF_REQUIRE(
    call(e.coordinator_for(req.id), create_atom::value, again).record);
  run();
  auto evs = events_of(req.id);
  CAF_CHECK_EQUAL(types(evs), confirmed_sequence);
  // Every event carries the first create's correlation id.
  for (auto& ev : evs)
    CAF_CHECK_EQUAL(ev.correlation_id, "req-0");
  CAF_CHECK_EQUAL(log->size(), evs.size());
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(refused creates emit nothing) {
  boot();
  auto req = request_for("tok_ok");
  req.tour_id = "nowhere";
  CAF_CHECK(is(call(e.coordinator_for(req.id), create_atom::value, req).error,
               booking_errc::unknown_tour));
  auto bad = request_for("tok_ok", 0);
  CAF_CHECK(is(call(e.coordinator_for(bad.id), create_atom::value, bad).error,
               booking_errc::invalid_request));
  run();
  CAF_CHECK(log->empty());
  CHECK_INVARIANTS();
}

CAF_TEST(events of concurrent bookings keep each booking in order) {
  boot(1);
  auto a = request_for("tok_ok", 1);
  auto b = request_for("tok_ok", 1);
  submit(a);
  submit(b);
  run();
  auto ra = get(a.id);
  auto winner = ra.status == booking_status::confirmed ? a : b;
  auto loser = ra.status == booking_status::confirmed ? b : a;
  CAF_CHECK_EQUAL(types_of(winner.id), confirmed_sequence);
  CAF_CHECK_EQUAL(types_of(loser.id),
                  (type_list{"booking.requested", "inventory.rejected",
                             "booking.failed", "notification.sent"}));
  check_common(events_of(winner.id), winner);
  check_common(events_of(loser.id), loser);
  // All ids are unique across bookings too.
  std::set<std::string> ids;
  for (auto& ev : *log)
    ids.insert(ev.id);
  CAF_CHECK_EQUAL(ids.size(), log->size());
  CAF_CHECK_EQUAL(log->size(), 10u);
  CHECK_INVARIANTS({a.id, b.id});
}

CAF_TEST(no sink means no events) {
  opts.events = event_sink_actor{}; // as without a broker
  boot();
  auto ok = request_for("tok_ok");
  book_request(ok);
  auto declined = request_for("tok_decline");
  book_request(declined);
  CAF_CHECK_EQUAL(get(ok.id).status, booking_status::confirmed);
  CAF_CHECK_EQUAL(cancel(ok.id, "req-cancel").status,
                  booking_status::cancelled);
  CAF_CHECK_EQUAL(get(declined.id).status, booking_status::failed);
  CAF_CHECK(log->empty());
  CHECK_INVARIANTS({ok.id, declined.id});
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(the saga tables name every event type and only those) {
  saga_settings cfg;
  std::set<std::string> named;
  auto add = [&](const std::optional<event_type>& x) {
    if (x)
      named.insert(to_string(*x));
  };
  for (auto& def : {booking_saga(cfg), cancellation_saga(cfg)}) {
    add(def.event_on_start);
    add(def.event_on_compensating);
    for (auto& x : def.outcome_events)
      add(x.type);
    for (auto& row : def.steps) {
      add(row.event_on_success);
      add(row.event_on_decline);
      add(row.event_on_compensation);
    }
  }
  auto& known = event_types();
  CAF_CHECK_EQUAL(named, std::set<std::string>(known.begin(), known.end()));
}
