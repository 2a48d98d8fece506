#define CAF_SUITE actors.saga_redrive
#include "actors/saga/saga_coordinator.hpp"

#include <memory>

#include "tests/actors/engine_fixture.hpp"

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

using event_log = std::shared_ptr<std::vector<domain_event>>;

event_sink_actor::behavior_type recorder(event_sink_actor::pointer,
                                         event_log log) {
  return {[=](domain_event& ev) { log->push_back(std::move(ev)); }};
}

struct redrive_fixture : engine_fixture {
  event_log log = std::make_shared<std::vector<domain_event>>();
  std::shared_ptr<outage_switches> outages
    = std::make_shared<outage_switches>();

  redrive_fixture() {
    opts.events = sys.spawn(recorder, log);
    opts.outages = outages;
    // Voids and refunds of `tok_refund_fail` fail twice, then succeed: two
    // attempts give up, and a re-drive's first attempt succeeds.
    cfg.saga.compensation_retry.max_attempts = 2;
  }

  /// Books `token` and runs until idle; returns the booking's id.
  std::string book_id(std::string token) {
    auto req = request_for(std::move(token));
    auto reply = call(e.coordinator_for(req.id), create_atom::value, req);
    CAF_REQUIRE(reply.record);
    run();
    return req.id;
  }

  /// Re-drives `id` with correlation id `cid`; the answer, then runs until
  /// idle.
  booking_reply redrive(const std::string& id, const std::string& cid) {
    auto reply = call(e.coordinator_for(id), redrive_atom::value, id, cid,
                      std::string{});
    run();
    return reply;
  }

  std::vector<std::string> types_of(const std::string& id) {
    std::vector<std::string> result;
    for (auto& ev : *log)
      if (ev.booking_id == id)
        result.push_back(ev.type);
    return result;
  }

  /// Notifications sent for booking `id` (events, one per delivery).
  size_t notifications_of(const std::string& id) {
    size_t n = 0;
    for (auto& ev : *log)
      n += ev.booking_id == id && ev.type == "notification.sent" ? 1 : 0;
    return n;
  }

  /// The attempts of one step and action, in order.
  static std::vector<int32_t> attempts(const booking_record& rec,
                                       saga_step step, saga_action action) {
    std::vector<int32_t> result;
    for (auto& x : entries(rec, step, action))
      result.push_back(x.attempt);
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(saga_redrive_tests, redrive_fixture)

CAF_TEST(a redrive runs the compensation that gave up and the booking fails) {
  cfg.faults.payment_timeout_rate = 1.0; // authorized, never answered
  boot();
  auto id = book_id("tok_refund_fail");
  auto stuck = get(id);
  CAF_REQUIRE_EQUAL(stuck.status, booking_status::compensation_failed);
  CAF_REQUIRE_EQUAL(attempts(stuck, saga_step::authorize_payment,
                             saga_action::compensate),
                    (std::vector<int32_t>{1, 2}));
  CAF_CHECK_EQUAL(state_of(id), payment_state::authorized);
  auto sent_before = notifications_of(id);
  CAF_CHECK_EQUAL(sent_before, 1u);
  auto reply = redrive(id, "req-redrive");
  CAF_REQUIRE(reply.record);
  // Answered once the booking is back in the status its saga runs under.
  CAF_CHECK_EQUAL(reply.record->status, booking_status::pending);
  auto rec = get(id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(rec.reason, "timeout");
  // Exactly the step that gave up ran again, its attempts numbered on.
  CAF_CHECK_EQUAL(attempts(rec, saga_step::authorize_payment,
                           saga_action::compensate),
                  (std::vector<int32_t>{1, 2, 3}));
  CAF_CHECK_EQUAL(attempts(rec, saga_step::reserve_seats,
                           saga_action::compensate),
                  (std::vector<int32_t>{1}));
  CAF_CHECK_EQUAL(state_of(id), payment_state::voided);
  // booking_failed went out with compensation_failed: not again.
  CAF_CHECK_EQUAL(notifications_of(id), sent_before);
  auto types = types_of(id);
  CAF_CHECK_EQUAL(std::count(types.begin(), types.end(), "payment.voided"), 1);
  CAF_CHECK_EQUAL(types.back(), "booking.failed");
  for (auto& ev : *log)
    if (ev.booking_id == id && ev.type == "booking.failed")
      CAF_CHECK_EQUAL(ev.correlation_id, "req-redrive");
  auto st = stats();
  CAF_CHECK_EQUAL(st.redrives_by,
                  (std::map<std::string, int64_t>{{"failed", 1}}));
  CAF_CHECK_EQUAL(st.in_flight, 0);
  CHECK_INVARIANTS({id});
}

CAF_TEST(a redrive that gives up again leaves compensation_failed) {
  cfg.faults.payment_timeout_rate = 1.0;
  boot();
  auto id = book_id("tok_refund_fail");
  CAF_REQUIRE_EQUAL(get(id).status, booking_status::compensation_failed);
  // The provider is still down: every void fails.
  outages->payment = true;
  auto reply = redrive(id, "req-1");
  CAF_REQUIRE(reply.record);
  auto rec = get(id);
  CAF_CHECK_EQUAL(rec.status, booking_status::compensation_failed);
  CAF_CHECK_EQUAL(attempts(rec, saga_step::authorize_payment,
                           saga_action::compensate),
                  (std::vector<int32_t>{1, 2, 3, 4}));
  // The seats were released the first time: not again.
  CAF_CHECK_EQUAL(attempts(rec, saga_step::reserve_seats,
                           saga_action::compensate),
                  (std::vector<int32_t>{1}));
  // Again, with the provider back: attempts go on from 4.
  outages->payment = false;
  reply = redrive(id, "req-2");
  CAF_REQUIRE(reply.record);
  rec = get(id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK_EQUAL(attempts(rec, saga_step::authorize_payment,
                           saga_action::compensate),
                  (std::vector<int32_t>{1, 2, 3, 4, 5}));
  CAF_CHECK_EQUAL(notifications_of(id), 1u);
  CAF_CHECK_EQUAL(stats().redrives_by,
                  (std::map<std::string, int64_t>{{"compensation_failed", 1},
                                                  {"failed", 1}}));
  CHECK_INVARIANTS({id});
}

CAF_TEST(a redriven cancellation refunds and then goes on to cancelled) {
  boot();
  auto id = book_id("tok_refund_fail");
  CAF_REQUIRE_EQUAL(get(id).status, booking_status::confirmed);
  auto cancel = call(e.coordinator_for(id), cancel_atom::value, id,
                     std::string{"req-cancel"});
  CAF_REQUIRE(cancel.record);
  run();
  auto stuck = get(id);
  CAF_REQUIRE_EQUAL(stuck.status, booking_status::compensation_failed);
  CAF_CHECK(
    entries(stuck, saga_step::release_seats, saga_action::execute).empty());
  CAF_CHECK_EQUAL(notifications_of(id), 1u); // the confirmation
  auto reply = redrive(id, "req-redrive");
  CAF_REQUIRE(reply.record);
  CAF_CHECK_EQUAL(reply.record->status, booking_status::cancelling);
  auto rec = get(id);
  CAF_CHECK_EQUAL(rec.status, booking_status::cancelled);
  // The refund's failure was the stuck cancellation's reason, not this one's.
  CAF_CHECK_EQUAL(rec.reason, "");
  CAF_CHECK_EQUAL(attempts(rec, saga_step::refund_payment,
                           saga_action::execute),
                  (std::vector<int32_t>{1, 2, 3}));
  CAF_CHECK_EQUAL(attempts(rec, saga_step::release_seats, saga_action::execute),
                  (std::vector<int32_t>{1}));
  CAF_CHECK_EQUAL(state_of(id), payment_state::refunded);
  // The cancellation notice, never sent before: once.
  CAF_CHECK_EQUAL(notifications_of(id), 2u);
  CAF_CHECK_EQUAL(stats().redrives_by,
                  (std::map<std::string, int64_t>{{"cancelled", 1}}));
  CHECK_INVARIANTS({id});
}

CAF_TEST(only a compensation_failed booking is redriven) {
  boot();
  auto id = book_id("tok_ok");
  CAF_REQUIRE_EQUAL(get(id).status, booking_status::confirmed);
  auto reply = redrive(id, "req-1");
  CAF_REQUIRE(reply.error);
  CAF_CHECK(is(reply.error, booking_errc::wrong_status));
  auto unknown = redrive("no-such-booking", "req-2");
  CAF_REQUIRE(unknown.error);
  CAF_CHECK(is(unknown.error, booking_errc::not_found));
  CAF_CHECK_EQUAL(get(id).status, booking_status::confirmed);
  CAF_CHECK(stats().redrives_by.empty());
  CHECK_INVARIANTS({id});
}

CAF_TEST(a second redrive while one runs is refused) {
  cfg.faults.payment_timeout_rate = 1.0;
  boot();
  auto id = book_id("tok_refund_fail");
  CAF_REQUIRE_EQUAL(get(id).status, booking_status::compensation_failed);
  // The first re-drive's void is on its way; nothing has run yet.
  auto first = self->request(e.coordinator_for(id), caf::infinite,
                             redrive_atom::value, id, std::string{"req-1"},
                             std::string{});
  sched.run();
  auto second = call(e.coordinator_for(id), redrive_atom::value, id,
                     std::string{"req-2"}, std::string{});
  CAF_REQUIRE(second.error);
  CAF_CHECK(is(second.error, booking_errc::wrong_status));
  first.receive(
    [](booking_record& rec) {
      CAF_CHECK_EQUAL(rec.status, booking_status::pending);
    },
    [](caf::error& err) { CAF_FAIL("first re-drive failed: " << err); });
  run();
  CAF_CHECK_EQUAL(get(id).status, booking_status::failed);
  CHECK_INVARIANTS({id});
}

CAF_TEST_FIXTURE_SCOPE_END()
