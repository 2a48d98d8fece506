#define CAF_SUITE store.fold
#include "actors/store/store_actor.hpp"

#include <caf/test/unit_test.hpp>

using namespace booking;

namespace {

booking_record booking_in(std::string id, booking_status status) {
  booking_record b;
  b.id = std::move(id);
  b.status = status;
  return b;
}

saga_checkpoint checkpoint(std::string key, std::string step,
                           bool done = false) {
  saga_checkpoint cp;
  cp.key = std::move(key);
  cp.step = std::move(step);
  cp.done = done;
  return cp;
}

seat_hold hold(std::string id, bool sold) {
  return {std::move(id), "t", "2026-12-01", 2, sold};
}

domain_event event(std::string id) {
  domain_event ev;
  ev.id = std::move(id);
  return ev;
}

} // namespace

CAF_TEST(one batch passes through unchanged) {
  std::vector<store_batch> batches(1);
  batches[0].bookings = {booking_in("a", booking_status::pending),
                         booking_in("a", booking_status::confirmed)};
  auto out = fold(batches);
  CAF_CHECK_EQUAL(out.bookings.size(), 2u);
}

CAF_TEST(the last version of a row wins) {
  std::vector<store_batch> batches(3);
  batches[0].bookings = {booking_in("a", booking_status::pending),
                         booking_in("b", booking_status::pending)};
  batches[1].bookings = {booking_in("a", booking_status::confirmed)};
  batches[2].bookings = {booking_in("a", booking_status::cancelling)};
  batches[0].holds = {hold("a", false)};
  batches[1].holds = {hold("a", true)};
  batches[0].sagas = {checkpoint("a", "reserve_seats")};
  batches[2].sagas = {checkpoint("a", "send_notification")};
  auto out = fold(batches);
  CAF_REQUIRE_EQUAL(out.bookings.size(), 2u);
  CAF_CHECK_EQUAL(out.bookings[0].id, "a");
  CAF_CHECK_EQUAL(out.bookings[0].status, booking_status::cancelling);
  CAF_CHECK_EQUAL(out.bookings[1].id, "b");
  CAF_CHECK_EQUAL(out.bookings[1].status, booking_status::pending);
  CAF_REQUIRE_EQUAL(out.holds.size(), 1u);
  CAF_CHECK_EQUAL(out.holds[0].booking_id, "a");
  CAF_CHECK_EQUAL(out.holds[0].sold, true);
  CAF_REQUIRE_EQUAL(out.sagas.size(), 1u);
  CAF_CHECK_EQUAL(out.sagas[0].key, "a");
  CAF_CHECK_EQUAL(out.sagas[0].step, "send_notification");
}

CAF_TEST(a row written then deleted is only deleted and the other way round) {
  std::vector<store_batch> batches(2);
  batches[0].sagas = {checkpoint("a", "authorize_payment"),
                      checkpoint("b", "confirm_booking", true)};
  batches[1].sagas = {checkpoint("a", "confirm_booking", true),
                      checkpoint("b", "reserve_seats")};
  batches[0].holds = {hold("a", false)};
  batches[0].released = {"b"};
  batches[1].released = {"a"};
  batches[1].holds = {hold("b", false)};
  auto out = fold(batches);
  CAF_REQUIRE_EQUAL(out.sagas.size(), 2u);
  CAF_CHECK_EQUAL(out.sagas[0].key, "a");
  CAF_CHECK(out.sagas[0].done);
  CAF_CHECK_EQUAL(out.sagas[1].key, "b");
  CAF_CHECK(!out.sagas[1].done);
  CAF_CHECK_EQUAL(out.sagas[1].step, "reserve_seats");
  CAF_REQUIRE_EQUAL(out.released.size(), 1u);
  CAF_CHECK_EQUAL(out.released[0], "a");
  CAF_REQUIRE_EQUAL(out.holds.size(), 1u);
  CAF_CHECK_EQUAL(out.holds[0].booking_id, "b");
}

CAF_TEST(appended rows keep every entry in order) {
  std::vector<store_batch> batches(2);
  batches[0].events = {event("e1"), event("e2")};
  batches[1].events = {event("e3")};
  batches[0].history = {{"a", {}}, {"b", {}}};
  batches[1].history = {{"a", {}}};
  batches[0].published = {7};
  batches[1].published = {3};
  batches[0].keys = {{"k", "first", "a", {}}};
  batches[1].keys = {{"k", "second", "b", {}}, {"j", "x", "c", {}}};
  batches[1].keys_expire_before = caf::timestamp{caf::timespan{42}};
  auto out = fold(batches);
  CAF_REQUIRE_EQUAL(out.events.size(), 3u);
  CAF_CHECK_EQUAL(out.events[0].id, "e1");
  CAF_CHECK_EQUAL(out.events[2].id, "e3");
  CAF_REQUIRE_EQUAL(out.history.size(), 3u);
  CAF_CHECK_EQUAL(out.history[1].booking_id, "b");
  CAF_CHECK_EQUAL(out.published, std::vector<int64_t>({7, 3}));
  CAF_REQUIRE_EQUAL(out.keys.size(), 2u);
  CAF_CHECK_EQUAL(out.keys[0].fingerprint, "first");
  CAF_CHECK_EQUAL(out.keys[1].key, "j");
  CAF_CHECK_EQUAL(out.keys_expire_before.time_since_epoch().count(), 42);
}
