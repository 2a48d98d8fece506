#define CAF_SUITE actors.invariants
#include "actors/saga/invariants.hpp"

#include "tests/actors/engine_fixture.hpp"

using namespace booking;
using namespace booking::testing;

namespace {

booking_record make_booking(std::string id, booking_status status) {
  booking_record b;
  b.id = std::move(id);
  b.status = status;
  b.tour_id = "t";
  b.date = "2026-12-01";
  b.seats = 2;
  b.amount_cents = 100;
  return b;
}

notification_record note(const std::string& id, notification_kind kind) {
  notification_record n;
  n.id = "n-" + id + to_string(kind);
  n.booking_id = id;
  n.kind = kind;
  n.status = "sent";
  return n;
}

/// A consistent world: one confirmed booking, one failed one.
world_snapshot good_world() {
  world_snapshot w;
  w.bookings = {make_booking("a", booking_status::confirmed),
                make_booking("b", booking_status::failed)};
  inventory_snapshot inv;
  inv.departures = {{"t", "2026-12-01", 10, 0, 2}};
  inv.holds = {{"a", "t", "2026-12-01", 2, true}};
  w.inventory = {inv};
  w.payments = {{"a", payment_state::captured, 100, 100, 0},
                {"b", payment_state::voided, 100, 0, 0}};
  w.notifications = {note("a", notification_kind::booking_confirmed),
                     note("b", notification_kind::booking_failed)};
  w.acknowledged = {"a", "b"};
  return w;
}

std::vector<int> failing(const invariant_report& r) {
  std::vector<int> ids;
  for (auto& x : r.results)
    if (!x.passed)
      ids.push_back(x.id);
  return ids;
}

using ids = std::vector<int>;

} // namespace

CAF_TEST(a consistent world passes) {
  auto r = check_invariants(good_world());
  CAF_CHECK(r.ok());
  CAF_CHECK_EQUAL(r.results.size(), 6u);
}

CAF_TEST(overbooking breaks invariant 1) {
  auto w = good_world();
  w.inventory[0].departures[0].capacity = 1;
  CAF_CHECK_EQUAL(failing(check_invariants(w)), ids{1});
}

CAF_TEST(held seats after quiescence break invariant 1) {
  auto w = good_world();
  w.inventory[0].departures[0].held = 3;
  w.inventory[0].holds.push_back({"x", "t", "2026-12-01", 3, false});
  CAF_CHECK_EQUAL(failing(check_invariants(w)), ids{1});
  w.quiescent = false; // while running, holds are fine
  w.sagas_in_flight = 1;
  CAF_CHECK(check_invariants(w).ok());
}

CAF_TEST(a confirmed booking without its capture breaks invariant 2) {
  auto w = good_world();
  w.payments[0].state = payment_state::authorized;
  auto r = check_invariants(w);
  CAF_CHECK_EQUAL(failing(r), ids{2});
  CAF_CHECK_EQUAL(r.results[1].offenders, std::vector<std::string>{"a"});
}

CAF_TEST(a failed booking with money or seats breaks invariant 3) {
  auto w = good_world();
  w.payments[1].state = payment_state::authorized;
  CAF_CHECK_EQUAL(failing(check_invariants(w)), ids{3});
  w = good_world();
  w.payments[1] = {"b", payment_state::refunded, 100, 100, 50};
  CAF_CHECK_EQUAL(failing(check_invariants(w)), ids{3});
}

CAF_TEST(a pending booking after quiescence breaks invariant 4) {
  auto w = good_world();
  w.bookings.push_back(make_booking("c", booking_status::pending));
  w.acknowledged.push_back("c");
  CAF_CHECK_EQUAL(failing(check_invariants(w)), ids{4});
}

CAF_TEST(missing or duplicate notifications break invariant 5) {
  auto w = good_world();
  w.notifications.pop_back();
  CAF_CHECK_EQUAL(failing(check_invariants(w)), ids{5});
  w = good_world();
  w.notifications.push_back(note("a", notification_kind::booking_confirmed));
  CAF_CHECK_EQUAL(failing(check_invariants(w)), ids{5});
  w = good_world();
  w.notifications.push_back(note("a", notification_kind::booking_failed));
  CAF_CHECK_EQUAL(failing(check_invariants(w)), ids{5});
}

CAF_TEST(a lost acknowledged booking breaks invariant 6) {
  auto w = good_world();
  w.acknowledged.push_back("lost");
  auto r = check_invariants(w);
  CAF_CHECK_EQUAL(failing(r), ids{6});
  CAF_CHECK_EQUAL(r.results[5].offenders, std::vector<std::string>{"lost"});
}

CAF_TEST_FIXTURE_SCOPE(broken_saga_tests, engine_fixture)

CAF_TEST(the checker catches a saga that skips the release compensation) {
  opts.adjust_tables = [](saga_tables& t) {
    auto& def = t.booking.back();
    def.steps[find_step(def, saga_step::reserve_seats)].compensation
      = saga_command::none;
  };
  boot();
  auto rec = get(book("tok_decline").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  auto report = check_world({rec.id});
  CAF_CHECK(!report.ok());
  CAF_CHECK_EQUAL(failing(report), (ids{1, 3}));
  CAF_CHECK_EQUAL(report.results[2].offenders,
                  std::vector<std::string>{rec.id});
}

CAF_TEST(the same booking passes with the real saga) {
  boot();
  auto rec = get(book("tok_decline").id);
  CAF_CHECK_EQUAL(rec.status, booking_status::failed);
  CAF_CHECK(check_world({rec.id}).ok());
}

CAF_TEST_FIXTURE_SCOPE_END()
