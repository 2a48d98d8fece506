#define CAF_SUITE actors.saga_tables
#include "actors/saga/saga_coordinator.hpp"

#include <caf/test/unit_test.hpp>

#include "actors/saga/booking_saga.hpp"

#include <stdexcept>

// The versions of the saga tables, and how a checkpoint finds its row in
// the version it names (see docs/upgrades.md).

using namespace booking;

namespace {

// The versions of this release's tables. The store's migration to schema 3
// writes them into every checkpoint an older release left, so they must
// never change: a change to a table is a new version beside this one.
constexpr auto booking_v1 = "b54488f520ef2c8c";
constexpr auto cancellation_v1 = "7d749887148cc7f7";

saga_settings settings() {
  return saga_settings{};
}

saga_checkpoint checkpoint_of(const saga_definition& def, std::string step,
                              std::vector<std::string> undo = {}) {
  saga_checkpoint cp;
  cp.key = "b-1";
  cp.req.id = "b-1";
  cp.version = def.version;
  cp.step = std::move(step);
  cp.to_compensate = std::move(undo);
  return cp;
}

} // namespace

CAF_TEST(the tables of this release keep their versions) {
  auto t = release_tables(settings());
  CAF_REQUIRE_EQUAL(t.booking.size(), 1u);
  CAF_REQUIRE_EQUAL(t.cancellation.size(), 1u);
  CAF_CHECK_EQUAL(version_text(t.booking[0].version), booking_v1);
  CAF_CHECK_EQUAL(version_text(t.cancellation[0].version), cancellation_v1);
  CAF_CHECK_EQUAL(t.booking[0].version, table_version(t.booking[0]));
}

CAF_TEST(configured values do not change a version) {
  auto cfg = settings();
  auto before = table_version(booking_saga(cfg));
  cfg.payment_timeout = std::chrono::seconds(42);
  cfg.inventory_timeout = std::chrono::milliseconds(7);
  cfg.step_retry.max_attempts = 9;
  cfg.compensation_retry.initial_backoff = std::chrono::seconds(3);
  CAF_CHECK_EQUAL(table_version(booking_saga(cfg)), before);
  auto def = booking_saga(cfg);
  def.steps[0].participant = "inventory (renamed in a comment)";
  CAF_CHECK_EQUAL(table_version(def), before);
}

CAF_TEST(every change of structure makes a new version) {
  auto cfg = settings();
  auto v1 = booking_saga(cfg);
  auto base = table_version(v1);
  CAF_CHECK_NOT_EQUAL(table_version(verifying_booking_saga(cfg)), base);
  auto swapped = v1;
  std::swap(swapped.steps[0], swapped.steps[1]);
  CAF_CHECK_NOT_EQUAL(table_version(swapped), base);
  auto no_release = v1;
  no_release.steps[0].compensation = saga_command::none;
  CAF_CHECK_NOT_EQUAL(table_version(no_release), base);
  auto other_query = v1;
  other_query.steps[1].query = saga_command::none;
  CAF_CHECK_NOT_EQUAL(table_version(other_query), base);
  auto moved_pivot = v1;
  moved_pivot.steps[2].pivot = false;
  moved_pivot.steps[1].pivot = true;
  CAF_CHECK_NOT_EQUAL(table_version(moved_pivot), base);
  auto other_status = v1;
  other_status.failure_status = booking_status::compensation_failed;
  CAF_CHECK_NOT_EQUAL(table_version(other_status), base);
  auto renamed = v1;
  renamed.name = "booking2";
  CAF_CHECK_NOT_EQUAL(table_version(renamed), base);
}

CAF_TEST(version texts read back) {
  uint64_t x = 0;
  CAF_CHECK(parse_version(version_text(0x0123456789abcdefULL), x));
  CAF_CHECK_EQUAL(x, 0x0123456789abcdefULL);
  CAF_CHECK_EQUAL(version_text(1), "0000000000000001");
  CAF_CHECK(!parse_version("", x));
  CAF_CHECK(!parse_version("0123456789ABCDEF", x));
  CAF_CHECK(!parse_version("0123456789abcde", x));
  CAF_CHECK(!parse_version("0123456789abcdeg", x));
}

CAF_TEST(a checkpoint finds its rows by name in its own version) {
  auto cfg = settings();
  saga_tables t;
  t.booking = {booking_saga(cfg), verifying_booking_saga(cfg)};
  t.cancellation = {cancellation_saga(cfg)};
  t.stamp_all();
  auto& v1 = t.booking[0];
  auto& v2 = t.booking[1];
  std::string why;
  // confirm_booking is row 2 of v1 and row 3 of v2.
  auto p1 = locate(t,
                   checkpoint_of(v1, "confirm_booking",
                                 {"reserve_seats", "authorize_payment"}),
                   why);
  CAF_REQUIRE(p1);
  CAF_CHECK_EQUAL(p1->table, &v1);
  CAF_CHECK_EQUAL(p1->row, 2u);
  CAF_CHECK_EQUAL(p1->to_compensate, (std::vector<uint8_t>{0, 1}));
  auto p2 = locate(t, checkpoint_of(v2, "confirm_booking"), why);
  CAF_REQUIRE(p2);
  CAF_CHECK_EQUAL(p2->table, &v2);
  CAF_CHECK_EQUAL(p2->row, 3u);
  // Past the last row.
  auto end = locate(t, checkpoint_of(v1, ""), why);
  CAF_REQUIRE(end);
  CAF_CHECK_EQUAL(end->row, v1.steps.size());
  // The cancellation saga has versions of its own.
  auto c = checkpoint_of(t.cancellation[0], "release_seats");
  c.cancellation = true;
  auto pc = locate(t, c, why);
  CAF_REQUIRE(pc);
  CAF_CHECK_EQUAL(pc->row, 1u);
}

CAF_TEST(a checkpoint that names what its version lacks is refused) {
  auto cfg = settings();
  saga_tables t;
  t.booking = {verifying_booking_saga(cfg)};
  t.cancellation = {cancellation_saga(cfg)};
  t.stamp_all();
  auto v1 = stamp(booking_saga(cfg));
  std::string why;
  // A version this release does not have: never placed in another one.
  CAF_CHECK(!locate(t, checkpoint_of(v1, "reserve_seats"), why));
  CAF_CHECK_EQUAL(why, "this release has no version " + version_text(v1.version)
                         + " of the booking saga");
  // The booking saga's version, asked of the cancellation saga.
  auto c = checkpoint_of(t.booking[0], "refund_payment");
  c.cancellation = true;
  CAF_CHECK(!locate(t, c, why));
  // A step the version does not name.
  CAF_CHECK(!locate(t, checkpoint_of(t.booking[0], "cancel_booking"), why));
  CAF_CHECK_EQUAL(why, "the booking saga's version "
                         + version_text(t.booking[0].version)
                         + " has no step 'cancel_booking'");
  CAF_CHECK(!locate(t, checkpoint_of(t.booking[0], "row 7"), why));
  // A step to compensate that has no compensation.
  CAF_CHECK(!locate(
    t, checkpoint_of(t.booking[0], "confirm_booking", {"verify_payment"}),
    why));
  // find_suspended lists exactly the refused ones.
  auto ok = checkpoint_of(t.booking[0], "reserve_seats");
  ok.key = "b-ok";
  auto old = checkpoint_of(v1, "reserve_seats");
  old.key = "b-old";
  auto found = find_suspended(t, {ok, old});
  CAF_REQUIRE_EQUAL(found.size(), 1u);
  CAF_CHECK_EQUAL(found[0].key, "b-old");
}

CAF_TEST(a table that names a step twice is refused) {
  auto refused = [](auto f) {
    try {
      f();
    } catch (const std::logic_error&) {
      return true;
    }
    return false;
  };
  auto def = booking_saga(settings());
  def.steps.push_back(def.steps[0]);
  CAF_CHECK(refused([&] { stamp(def); }));
  saga_tables t;
  t.booking = {def};
  t.cancellation = {cancellation_saga(settings())};
  CAF_CHECK(refused([&] { t.stamp_all(); }));
  auto unnamed = booking_saga(settings());
  unnamed.steps[1].step = static_cast<saga_step>(200);
  CAF_CHECK(refused([&] { stamp(unnamed); }));
  CAF_CHECK(!refused([] { stamp(booking_saga(settings())); }));
}
