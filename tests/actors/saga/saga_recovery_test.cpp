#define CAF_SUITE actors.saga_recovery
#include "actors/saga/saga_coordinator.hpp"

#include "actors/shard.hpp"
#include "tests/actors/engine_fixture.hpp"

// Each test sets the participants up as a crashed run left them, then starts
// a coordinator with that run's last checkpoint, as the wiring does at start,
// and checks that the saga ends where the product spec says it must.

using namespace booking;
using namespace booking::testing;

namespace {

// Steps of the booking saga table and of the cancellation saga table.
constexpr auto reserve_row = saga_step::reserve_seats;
constexpr auto authorize_row = saga_step::authorize_payment;
constexpr auto notify_row = saga_step::send_notification;
constexpr auto refund_row = saga_step::refund_payment;

// The coordinator's phases, as stored in a checkpoint.
constexpr uint8_t forward = 0;
constexpr uint8_t query = 1;
constexpr uint8_t compensating = 2;
constexpr uint8_t finishing = 3;

/// A booking shard that holds back writes of a compensating checkpoint until
/// it gets `deliver`, as a busy shard or store would; the rest passes on to
/// the real shards.
using holding_shard_actor = booking_actor::extend<caf::reacts_to<deliver_atom>>;

struct holding_state {
  std::vector<std::function<void()>> held;
  static inline const char* name = "holding_shard";
};

holding_shard_actor::behavior_type
hold_compensating(holding_shard_actor::stateful_pointer<holding_state> self,
                  std::vector<booking_actor> shards) {
  auto held = [](const booking_update& upd) {
    return upd.checkpoint && upd.checkpoint->phase == compensating;
  };
  return {
    [=](create_atom a, booking_record& rec) {
      auto& dest = shard_for(shards, rec.id);
      return self->delegate(dest, a, std::move(rec));
    },
    [=](create_atom a, booking_record& rec, booking_update& upd) {
      auto& dest = shard_for(shards, rec.id);
      return self->delegate(dest, a, std::move(rec), std::move(upd));
    },
    [=](update_atom a, booking_update& upd) -> caf::result<booking_record> {
      auto dest = shard_for(shards, upd.id);
      if (!held(upd))
        return self->delegate(dest, a, std::move(upd));
      auto rp = self->make_response_promise<booking_record>();
      self->state.held.emplace_back(
        [=]() mutable { rp.delegate(dest, a, upd); });
      return rp;
    },
    [=](record_atom a, booking_update& upd) {
      auto dest = shard_for(shards, upd.id);
      if (!held(upd)) {
        self->send(dest, a, std::move(upd));
        return;
      }
      self->state.held.emplace_back([=] { self->send(dest, a, upd); });
    },
    [=](caf::get_atom a, std::string& id) {
      auto& dest = shard_for(shards, id);
      return self->delegate(dest, a, std::move(id));
    },
    [=](caf::get_atom a, saga_atom b, std::string& id) {
      auto& dest = shard_for(shards, id);
      return self->delegate(dest, a, b, std::move(id));
    },
    [=](list_atom a, booking_filter& filter) {
      return self->delegate(shards.front(), a, std::move(filter));
    },
    [=](deliver_atom) {
      for (auto& f : self->state.held)
        f();
      self->state.held.clear();
    },
  };
}

struct recovery_fixture : engine_fixture {
  recovery_fixture() {
    cfg.saga.payment_timeout = std::chrono::seconds(2);
    boot(20);
  }

  template <class T, class Handle, class... Ts>
  T ask(const Handle& dest, Ts&&... xs) {
    auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    run();
    T result;
    handle.receive([&](T& x) { result = std::move(x); },
                   [&](caf::error& err) { CAF_FAIL(describe(err)); });
    return result;
  }

  /// Stores a pending booking, as the crashed run did before its saga ran.
  booking_request stored(std::string token) {
    auto req = request_for(std::move(token));
    booking_record rec;
    rec.id = req.id;
    rec.tour_id = req.tour_id;
    rec.date = req.date;
    rec.seats = req.seats;
    rec.amount_cents = amount(req);
    rec.currency = "EUR";
    rec.cust = req.cust;
    rec.correlation_id = req.correlation_id;
    ask<booking_record>(shard_for(e.bookings, req.id), create_atom::value, rec);
    return req;
  }

  static int64_t amount(const booking_request& req) {
    return 4500 * req.seats;
  }

  void reserve(const booking_request& req) {
    seat_hold h{req.id, req.tour_id, req.date, req.seats, false};
    ask<departure_counts>(e.inventory_for(req.tour_id), reserve_atom::value, h);
  }

  void authorize(const booking_request& req) {
    payment_request p{req.id, amount(req), "EUR", req.payment_token};
    ask<payment_intent>(e.payment, authorize_atom::value, p);
  }

  void mark(const booking_request& req, booking_status status) {
    booking_update upd;
    upd.id = req.id;
    upd.has_status = true;
    upd.status = status;
    ask<booking_record>(shard_for(e.bookings, req.id), update_atom::value, upd);
  }

  /// A checkpoint of the booking saga (of `table`, by default this
  /// release's), at `step` (none: past the last row).
  saga_checkpoint
  at(const booking_request& req, uint8_t phase, std::optional<saga_step> step,
     std::vector<saga_step> undo = {}, const saga_definition* table = nullptr) {
    auto tables = release_tables(cfg.saga);
    saga_checkpoint cp;
    cp.key = req.id;
    cp.req = req;
    cp.amount_cents = amount(req);
    cp.currency = "EUR";
    cp.version = table ? table->version : tables.booking.back().version;
    cp.phase = phase;
    if (step)
      cp.step = to_string(*step);
    for (auto x : undo)
      cp.to_compensate.push_back(to_string(x));
    return cp;
  }

  /// `at` for the cancellation saga.
  saga_checkpoint cancelling_at(const booking_request& req, uint8_t phase,
                                saga_step step) {
    auto cp = at(req, phase, step);
    cp.key = req.id + "#cancel";
    cp.cancellation = true;
    cp.version = release_tables(cfg.saga).cancellation.back().version;
    return cp;
  }

  /// Starts a coordinator that resumes `checkpoints`; `bookings` replaces
  /// the booking shards, and `durable` makes it checkpoint as it does with
  /// a store.
  void resume(std::vector<saga_checkpoint> checkpoints,
              std::vector<booking_actor> bookings = {}, bool durable = false,
              std::optional<saga_tables> tables = std::nullopt) {
    if (bookings.empty())
      bookings = e.bookings;
    saga_participants peers{bookings,  e.inventory,    e.availability,
                            e.payment, e.notification, {}};
    coordinator_options co;
    co.durable = durable;
    co.tables = tables ? *tables : release_tables(cfg.saga);
    co.recovered = std::move(checkpoints);
    resumed = spawn_saga_coordinator(sys, peers, co);
  }

  size_t notifications_of(const std::string& id) {
    size_t n = 0;
    for (auto& rec : e.notifications->all())
      n += rec.booking_id == id ? 1 : 0;
    return n;
  }

  ~recovery_fixture() {
    if (resumed)
      caf::anon_send_exit(resumed, caf::exit_reason::user_shutdown);
  }

  saga_coordinator_actor resumed;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(saga_recovery_tests, recovery_fixture)

CAF_TEST(a saga stopped after reserving resumes at the authorization) {
  auto req = stored("tok_ok");
  reserve(req);
  resume({at(req, forward, authorize_row, {reserve_row})});
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::captured);
  CAF_CHECK_EQUAL(seats().sold, req.seats);
  CAF_CHECK_EQUAL(seats().held, 0);
  CAF_CHECK_EQUAL(notifications_of(req.id), 1u);
  CHECK_INVARIANTS();
}

CAF_TEST(an older checkpoint runs a done step again without doing it twice) {
  // The reservation and authorization happened, but the checkpoint that
  // says so was lost with the crash.
  auto req = stored("tok_ok");
  reserve(req);
  authorize(req);
  resume({at(req, forward, reserve_row)});
  run();
  CAF_CHECK_EQUAL(get(req.id).status, booking_status::confirmed);
  CAF_CHECK_EQUAL(seats().sold, req.seats);
  auto p = payment_of(req.id);
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL(p->captured_cents, amount(req));
  CHECK_INVARIANTS();
}

CAF_TEST(a pending retry waits out the rest of its backoff) {
  auto req = stored("tok_ok");
  reserve(req);
  auto cp = at(req, forward, authorize_row, {reserve_row});
  cp.attempt = 2;
  cp.retry_at = caf::make_timestamp() + std::chrono::seconds(30);
  resume({cp});
  sched.run(); // messages only: the retry timer has not fired
  CAF_CHECK_EQUAL(get(req.id).status, booking_status::pending);
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::none);
  CAF_CHECK(sched.trigger_timeout());
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  auto tries = entries(rec, saga_step::authorize_payment, saga_action::execute);
  CAF_REQUIRE_EQUAL(tries.size(), 1u);
  CAF_CHECK_EQUAL(tries[0].attempt, 2);
}

CAF_TEST(a compensating saga undoes what is left and fails) {
  auto req = stored("tok_ok");
  reserve(req);
  authorize(req);
  auto cp = at(req, compensating, authorize_row, {reserve_row, authorize_row});
  cp.reason = "payment_error";
  resume({cp});
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "payment_error");
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::voided);
  CAF_CHECK_EQUAL(seats().held, 0);
  CAF_CHECK_EQUAL(notifications_of(req.id), 1u);
  CHECK_INVARIANTS();
}

CAF_TEST(a compensation with nothing left to undo ends the saga) {
  auto req = stored("tok_decline");
  auto cp = at(req, compensating, authorize_row);
  cp.reason = "payment_declined";
  resume({cp});
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "payment_declined");
  CAF_CHECK_EQUAL(notifications_of(req.id), 1u);
  CHECK_INVARIANTS();
}

CAF_TEST(an uncertain authorization is queried and voided after a crash) {
  // tok_timeout: the gateway authorized, the answer never came; the crash
  // hit while the saga was asking the gateway what happened.
  auto req = stored("tok_timeout");
  reserve(req);
  e.gateway->authorize({req.id, amount(req), "EUR", req.payment_token});
  resume({at(req, query, authorize_row, {reserve_row})});
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "timeout");
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::voided);
  CAF_CHECK_EQUAL(
    entries(rec, saga_step::authorize_payment, saga_action::query).size(), 1u);
  CHECK_INVARIANTS();
}

CAF_TEST(the first compensation waits until its checkpoint is stored) {
  // The void goes to the store from the payment actor, the checkpoint that
  // says the saga is compensating through a booking shard. Had the void
  // committed first and the process died then, the saga would resume at the
  // authorization, which the gateway refuses once voided.
  auto req = stored("tok_timeout");
  reserve(req);
  e.gateway->authorize({req.id, amount(req), "EUR", req.payment_token});
  auto holding = sys.spawn(hold_compensating, e.bookings);
  resume({at(req, query, authorize_row, {reserve_row})}, {holding}, true);
  run();
  CAF_CHECK_NOT_EQUAL(state_of(req.id), payment_state::voided);
  CAF_CHECK_EQUAL(seats().held, req.seats);
  CAF_CHECK_EQUAL(get(req.id).status, booking_status::pending);
  self->send(holding, deliver_atom::value);
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "timeout");
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::voided);
  CAF_CHECK_EQUAL(seats().held, 0);
  CHECK_INVARIANTS();
  caf::anon_send_exit(holding, caf::exit_reason::user_shutdown);
}

CAF_TEST(a confirmed booking whose notification was not sent gets one) {
  auto req = stored("tok_ok");
  reserve(req);
  authorize(req);
  ask<payment_intent>(e.payment, capture_atom::value, req.id);
  ask<departure_counts>(e.inventory_for(req.tour_id), commit_atom::value,
                        req.id);
  mark(req, booking_status::confirmed);
  auto cp = at(req, forward, notify_row, {reserve_row, authorize_row});
  cp.outcome = booking_status::confirmed;
  resume({cp, cp}); // a duplicate checkpoint changes nothing
  run();
  CAF_CHECK_EQUAL(get(req.id).status, booking_status::confirmed);
  CAF_CHECK_EQUAL(notifications_of(req.id), 1u);
  CAF_CHECK_EQUAL(entries(get(req.id), saga_step::confirm_booking,
                          saga_action::execute)
                    .size(),
                  0u);
  CHECK_INVARIANTS();
}

CAF_TEST(a failed outcome being finished only runs the final rows) {
  auto req = stored("tok_decline");
  mark(req, booking_status::failed);
  auto cp = at(req, finishing, reserve_row);
  cp.outcome = booking_status::failed;
  cp.reason = "payment_declined";
  resume({cp});
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(notifications_of(req.id), 1u);
  CAF_CHECK(
    entries(rec, saga_step::reserve_seats, saga_action::execute).empty());
  CHECK_INVARIANTS();
}

CAF_TEST(an interrupted cancellation refunds and releases) {
  auto confirmed = book("tok_ok");
  auto req = request_for("tok_ok");
  req.id = confirmed.id;
  req.correlation_id = confirmed.correlation_id;
  mark(req, booking_status::cancelling);
  auto cp = cancelling_at(req, forward, refund_row);
  resume({cp});
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::cancelled);
  CAF_CHECK_EQUAL(state_of(req.id), payment_state::refunded);
  CAF_CHECK_EQUAL(seats().sold, 0);
  CAF_CHECK_EQUAL(notifications_of(req.id), 2u); // confirmed, cancelled
  CHECK_INVARIANTS();
}

// -- upgrades -----------------------------------------------------------------

namespace {

/// This release's tables plus a later version of the booking saga, which
/// inserts `verify_payment` before the pivot (as `release_tables` would list
/// them once that version ships).
saga_tables upgraded(const saga_settings& cfg) {
  auto t = release_tables(cfg);
  t.booking.push_back(stamp(verifying_booking_saga(cfg)));
  return t;
}

/// The same release without the first version of the booking saga (it was
/// removed too early, or this is a downgrade).
saga_tables without_v1(const saga_settings& cfg) {
  auto t = upgraded(cfg);
  t.booking.erase(t.booking.begin());
  return t;
}

} // namespace

CAF_TEST(sagas checkpointed on v1 at every phase finish on v1 after v2 came) {
  auto v1 = release_tables(cfg.saga).booking.back();
  struct case_t {
    const char* name;
    booking_request req;
    booking_status expected;
  };
  std::vector<case_t> cases;
  std::vector<saga_checkpoint> cps;
  // forward, at the authorization: reserved.
  {
    auto req = stored("tok_ok");
    reserve(req);
    cps.push_back(at(req, forward, authorize_row, {reserve_row}));
    cases.push_back({"forward/authorize", req, booking_status::confirmed});
  }
  // forward, at the pivot (row 2 in v1, row 3 in v2): reserved, authorized.
  {
    auto req = stored("tok_ok");
    reserve(req);
    authorize(req);
    cps.push_back(at(req, forward, saga_step::confirm_booking,
                     {reserve_row, authorize_row}));
    cases.push_back({"forward/confirm", req, booking_status::confirmed});
  }
  // query of an authorization that timed out (and took effect): the
  // step fails with `timeout` whatever the answer, and is voided.
  {
    auto req = stored("tok_ok");
    reserve(req);
    authorize(req);
    cps.push_back(at(req, query, authorize_row, {reserve_row}));
    cases.push_back({"query/authorize", req, booking_status::failed});
  }
  // compensating after a failed confirmation.
  {
    auto req = stored("tok_ok");
    reserve(req);
    authorize(req);
    auto cp = at(req, compensating, saga_step::confirm_booking,
                 {reserve_row, authorize_row});
    cp.reason = "payment_error";
    cps.push_back(cp);
    cases.push_back({"compensating", req, booking_status::failed});
  }
  // finishing a failed outcome.
  {
    auto req = stored("tok_decline");
    mark(req, booking_status::failed);
    auto cp = at(req, finishing, reserve_row);
    cp.outcome = booking_status::failed;
    cp.reason = "payment_declined";
    cps.push_back(cp);
    cases.push_back({"finishing", req, booking_status::failed});
  }
  // forward past the pivot: confirmed, the notification left.
  {
    auto req = stored("tok_ok");
    reserve(req);
    authorize(req);
    ask<payment_intent>(e.payment, capture_atom::value, req.id);
    ask<departure_counts>(e.inventory_for(req.tour_id), commit_atom::value,
                          req.id);
    mark(req, booking_status::confirmed);
    auto cp = at(req, forward, notify_row, {reserve_row, authorize_row});
    cp.outcome = booking_status::confirmed;
    cps.push_back(cp);
    cases.push_back({"forward/notify", req, booking_status::confirmed});
  }
  // done: only the checkpoint's deletion was lost.
  {
    auto req = stored("tok_ok");
    reserve(req);
    authorize(req);
    ask<payment_intent>(e.payment, capture_atom::value, req.id);
    ask<departure_counts>(e.inventory_for(req.tour_id), commit_atom::value,
                          req.id);
    mark(req, booking_status::confirmed);
    notification_request note;
    note.booking_id = req.id;
    note.kind = notification_kind::booking_confirmed;
    note.to = req.cust.email;
    ask<bool>(e.notification, send_atom::value, note);
    auto cp = at(req, 4, std::nullopt, {reserve_row, authorize_row});
    cp.outcome = booking_status::confirmed;
    cps.push_back(cp);
    cases.push_back({"done", req, booking_status::confirmed});
  }
  for (auto& cp : cps)
    CAF_REQUIRE_EQUAL(cp.version, v1.version);
  resume(cps, {}, false, upgraded(cfg.saga));
  run();
  for (auto& c : cases) {
    CAF_MESSAGE(c.name);
    auto rec = get(c.req.id);
    CAF_CHECK_EQUAL(rec.status, c.expected);
    // On v1: no step of v2 ran, and no v1 step ran on a v2 row index.
    CAF_CHECK(
      entries(rec, saga_step::verify_payment, saga_action::execute).empty());
    if (c.expected == booking_status::confirmed) {
      CAF_CHECK_EQUAL(state_of(c.req.id), payment_state::captured);
      CAF_CHECK_EQUAL(entries(rec, saga_step::confirm_booking,
                              saga_action::compensate)
                        .size(),
                      0u);
    }
    CAF_CHECK_EQUAL(notifications_of(c.req.id), 1u);
  }
  CAF_CHECK_EQUAL(state_of(cases[2].req.id), payment_state::voided);
  CAF_CHECK_EQUAL(state_of(cases[3].req.id), payment_state::voided);
  // A new saga starts on the current version: v2 runs its new step.
  auto req = request_for("tok_ok");
  auto created = ask<booking_record>(resumed, create_atom::value, req);
  CAF_CHECK_EQUAL(created.status, booking_status::pending);
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(outcomes(rec, saga_step::verify_payment,
                           saga_action::execute),
                  (std::vector<step_outcome>{step_outcome::ok}));
  // Both versions are listed, and nothing runs on either any more.
  auto st = ask<saga_stats>(resumed, caf::get_atom::value);
  auto v2 = stamp(verifying_booking_saga(cfg.saga));
  CAF_CHECK_EQUAL(
    st.in_flight_by_version,
    (std::map<std::string, int64_t>{
      {"booking/" + version_text(v1.version), 0},
      {"booking/" + version_text(v2.version), 0},
      {"cancellation/"
         + version_text(release_tables(cfg.saga).cancellation[0].version),
       0}}));
  CHECK_INVARIANTS();
}

CAF_TEST(a version listed before the current one resumes but starts nothing) {
  // The first step of a rolling upgrade: v2 is known, v1 still current.
  auto tables = release_tables(cfg.saga);
  auto v2 = stamp(verifying_booking_saga(cfg.saga));
  tables.booking.insert(tables.booking.begin(), v2);
  auto req = stored("tok_ok");
  reserve(req);
  authorize(req);
  auto cp = at(req, forward, saga_step::verify_payment,
               {reserve_row, authorize_row}, &v2);
  resume({cp}, {}, false, tables);
  run();
  auto rec = get(req.id);
  CAF_CHECK_EQUAL(rec.status, booking_status::confirmed);
  CAF_CHECK_EQUAL(outcomes(rec, saga_step::verify_payment,
                           saga_action::execute),
                  (std::vector<step_outcome>{step_outcome::ok}));
  auto fresh = request_for("tok_ok");
  ask<booking_record>(resumed, create_atom::value, fresh);
  run();
  auto other = get(fresh.id);
  CAF_CHECK_EQUAL(other.status, booking_status::confirmed);
  CAF_CHECK(
    entries(other, saga_step::verify_payment, saga_action::execute).empty());
  CHECK_INVARIANTS();
}

CAF_TEST(a v1 checkpoint on a binary without v1 is left as it is) {
  // Confirmed, its notification not yet sent: were it resumed on v2, the
  // index of its row would name another step.
  auto confirmed = stored("tok_ok");
  reserve(confirmed);
  authorize(confirmed);
  ask<payment_intent>(e.payment, capture_atom::value, confirmed.id);
  ask<departure_counts>(e.inventory_for(confirmed.tour_id), commit_atom::value,
                        confirmed.id);
  mark(confirmed, booking_status::confirmed);
  auto cp1 = at(confirmed, forward, notify_row, {reserve_row, authorize_row});
  cp1.outcome = booking_status::confirmed;
  // Compensating: resumed on the wrong table, it would undo other steps.
  auto failing = stored("tok_ok");
  reserve(failing);
  authorize(failing);
  auto cp2 = at(failing, compensating, authorize_row,
                {reserve_row, authorize_row});
  cp2.reason = "payment_error";
  auto before = seats();
  resume({cp1, cp2}, {}, false, without_v1(cfg.saga));
  run();
  // Nothing ran: statuses, payments, seats and notifications as they were.
  CAF_CHECK_EQUAL(get(confirmed.id).status, booking_status::confirmed);
  CAF_CHECK_EQUAL(get(failing.id).status, booking_status::pending);
  CAF_CHECK_EQUAL(state_of(confirmed.id), payment_state::captured);
  CAF_CHECK_EQUAL(state_of(failing.id), payment_state::authorized);
  auto after = seats();
  CAF_CHECK_EQUAL(after.held, before.held);
  CAF_CHECK_EQUAL(after.sold, before.sold);
  CAF_CHECK_EQUAL(notifications_of(confirmed.id), 0u);
  CAF_CHECK_EQUAL(notifications_of(failing.id), 0u);
  CAF_CHECK(get(failing.id).saga.empty());
  auto st = ask<saga_stats>(resumed, caf::get_atom::value);
  CAF_CHECK_EQUAL(st.in_flight, 0);
  CAF_CHECK_EQUAL(st.started, 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
