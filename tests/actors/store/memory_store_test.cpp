#define CAF_SUITE store.memory
#include "actors/store/memory_store.hpp"

#include <caf/test/unit_test.hpp>

using namespace booking;

namespace {

using claim = notification_repository::claim_result;

constexpr auto confirmed = notification_kind::booking_confirmed;

notification_record attempt(const std::string& booking_id,
                            const std::string& status) {
  notification_record rec;
  rec.id = "ntf-" + booking_id + "-confirmed";
  rec.booking_id = booking_id;
  rec.kind = confirmed;
  rec.status = status;
  rec.subject = "subject of " + booking_id;
  return rec;
}

} // namespace

CAF_TEST(a claim of a notification sent before hands back its record) {
  memory_notification_repository repo;
  CAF_REQUIRE(repo.claim("b1", confirmed, nullptr) == claim::claimed);
  repo.record_attempt(attempt("b1", "sent"));
  notification_record sent;
  CAF_REQUIRE(repo.claim("b1", confirmed, &sent) == claim::already_sent);
  CAF_CHECK_EQUAL(sent.id, "ntf-b1-confirmed");
  CAF_CHECK_EQUAL(sent.subject, "subject of b1");
  CAF_CHECK_EQUAL(sent.attempts, 1);
  // Without a place for the record the answer is the same.
  CAF_CHECK(repo.claim("b1", confirmed, nullptr) == claim::already_sent);
}

CAF_TEST(a delivery under way is busy and a failed one claimable again) {
  memory_notification_repository repo;
  CAF_REQUIRE(repo.claim("b2", confirmed, nullptr) == claim::claimed);
  notification_record untouched;
  CAF_CHECK(repo.claim("b2", confirmed, &untouched) == claim::busy);
  CAF_CHECK(untouched.id.empty());
  repo.record_attempt(attempt("b2", "failed"));
  CAF_CHECK(repo.claim("b2", confirmed, &untouched) == claim::claimed);
  CAF_CHECK(untouched.id.empty());
  auto rec = repo.record_attempt(attempt("b2", "sent"));
  CAF_CHECK_EQUAL(rec.attempts, 2);
  CAF_CHECK_EQUAL(rec.status, "sent");
}

CAF_TEST(a forgotten booking has no notification to hand back) {
  memory_notification_repository repo;
  CAF_REQUIRE(repo.claim("b3", confirmed, nullptr) == claim::claimed);
  repo.record_attempt(attempt("b3", "sent"));
  repo.forget("b3");
  CAF_CHECK(!repo.find("b3", confirmed));
  notification_record sent;
  // Memory no longer knows it was sent (the store does): a new claim.
  CAF_CHECK(repo.claim("b3", confirmed, &sent) == claim::claimed);
  CAF_CHECK(sent.id.empty());
}
