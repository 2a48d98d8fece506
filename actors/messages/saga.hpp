// Sagas: the checkpoint a coordinator writes with each step, the atomic
// change of a booking that carries it, and the coordinators' counters.

#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>
#include <caf/timestamp.hpp>

#include "actors/messages/booking.hpp"
#include "actors/messages/event.hpp"

namespace booking {

/// A step whose retries ran out, and the attempts it has had so far (the
/// history numbers a re-drive's attempts on from there).
struct gave_up_step {
  std::string step;
  int32_t attempts = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gave_up_step& x) {
  return f(caf::meta::type_name("gave_up_step"), x.step, x.attempts);
}

/// The phase of a saga with nothing left to run (`detail::saga_phase`).
inline constexpr uint8_t saga_phase_done = 4;

/// Where a saga instance stands, as the coordinator checkpoints it with each
/// step. Resuming from an older checkpoint is safe: every command and
/// compensation is idempotent per booking id. Rows are named by their step,
/// never by their index, and the checkpoint names its table's version: a
/// saga resumes on the table it started on, or not at all.
struct saga_checkpoint {
  /// Booking id, plus "#cancel" for a cancellation saga.
  std::string key;
  /// The saga is over: its row is deleted.
  bool done = false;
  bool cancellation = false;
  /// The request, payment token included (needed to resume authorizing).
  booking_request req;
  int64_t amount_cents = 0;
  std::string currency;
  /// Version of the saga table the instance runs on (`table_version`).
  uint64_t version = 0;
  /// forward, query, compensating, finishing (the coordinator's phases).
  uint8_t phase = 0;
  /// Step of the current row of the table, by name; empty past the last
  /// row.
  std::string step;
  int32_t attempt = 1;
  /// Steps to compensate, by name, the last one first.
  std::vector<std::string> to_compensate;
  bool compensation_failed = false;
  std::string reason;
  /// The outcome once known (`pending` before).
  booking_status outcome = booking_status::pending;
  /// When the next attempt is due (a retry's backoff); zero: at once.
  caf::timestamp retry_at;
  /// The steps that gave up (compensations of a booking saga, executed
  /// steps of a cancellation), in table order. While a re-drive runs: the
  /// ones it has still to get through.
  std::vector<gave_up_step> gave_up;
  /// The saga is a re-drive of one that ended in compensation_failed.
  bool redrive = false;

  /// A saga that ended in compensation_failed, kept for an operator: it
  /// runs again only when re-driven.
  bool parked() const {
    return !done && phase == saga_phase_done;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, saga_checkpoint& x) {
  return f(caf::meta::type_name("saga_checkpoint"), x.key, x.done,
           x.cancellation, x.req, x.amount_cents, x.currency, x.version,
           x.phase, x.step, x.attempt, x.to_compensate, x.compensation_failed,
           x.reason, x.outcome, x.retry_at, x.gave_up, x.redrive);
}

/// A saga table's version (`saga_checkpoint::version`) as 16 lowercase hex
/// digits, as the store and the metrics write it.
std::string version_text(uint64_t version);

/// Parses `version_text`'s output; false if `text` is not 16 hex digits.
bool parse_version(const std::string& text, uint64_t& version);

/// One change to a booking, applied atomically: the new status (if any),
/// the history entries the saga step produced, the saga's checkpoint and
/// the domain events of the step (the transactional outbox; only filled
/// when a durable store is configured).
struct booking_update {
  std::string id;
  bool has_status = false;
  booking_status status = booking_status::pending;
  std::string reason;
  std::vector<saga_entry> entries;
  caf::optional<saga_checkpoint> checkpoint;
  std::vector<domain_event> events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_update& x) {
  return f(caf::meta::type_name("booking_update"), x.id, x.has_status, x.status,
           x.reason, x.entries, x.checkpoint, x.events);
}

/// Upper bounds, in seconds, of the buckets of the saga duration histogram
/// (ascending; the last bucket, +Inf, is implied).
const std::vector<double>& saga_duration_buckets();

/// Counters of one saga coordinator. Every field adds up across
/// coordinators, so `+=` merges the stats of several.
struct saga_stats {
  int64_t started = 0;
  int64_t in_flight = 0;
  /// Sagas whose last row ran (after their outcome and final rows).
  int64_t completed = 0;
  /// Retries of any call: a step, its query, its compensation or a final row.
  int64_t retries = 0;
  /// Steps undone: one per compensation that succeeded, however many
  /// attempts it took (one that runs out of retries ends the saga in
  /// compensation_failed instead).
  int64_t compensations = 0;
  int64_t uncertain_resolved = 0;
  /// Bookings and cancellations accepted but not yet started.
  int64_t starting = 0;
  /// Sagas by outcome, keyed "status/reason" (reason `none` if empty), e.g.
  /// "confirmed/none" or "failed/sold_out"; counted when the outcome is set,
  /// so before `completed`, which waits for the final rows.
  std::map<std::string, int64_t> completed_by;
  /// Re-drives that reached an outcome, by it (`failed`, `cancelled`,
  /// `compensation_failed`).
  std::map<std::string, int64_t> redrives_by;
  /// `compensations` by the step undone.
  std::map<std::string, int64_t> compensations_by_step;
  /// `retries` by the step of the row retried.
  std::map<std::string, int64_t> retries_by_step;
  /// Sagas running (not those still starting), keyed "saga/version" (the
  /// saga's name, its table's `version_text`); every table the coordinator
  /// has is listed, at 0 if nothing runs on it.
  std::map<std::string, int64_t> in_flight_by_version;
  /// Sagas started or resumed, keyed like `in_flight_by_version`.
  std::map<std::string, int64_t> started_by_version;
  /// Seconds from a saga's start to its outcome: counts per bucket of
  /// `saga_duration_buckets()` (not cumulative), then one for +Inf.
  std::vector<int64_t> duration_counts
    = std::vector<int64_t>(saga_duration_buckets().size() + 1);
  double duration_sum = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, saga_stats& x) {
  return f(caf::meta::type_name("saga_stats"), x.started, x.in_flight,
           x.completed, x.retries, x.compensations, x.uncertain_resolved,
           x.starting, x.completed_by, x.redrives_by, x.compensations_by_step,
           x.retries_by_step, x.in_flight_by_version, x.started_by_version,
           x.duration_counts, x.duration_sum);
}

/// Adds the counters of `y` to `x`, maps key by key and the histogram bucket
/// by bucket.
saga_stats& operator+=(saga_stats& x, const saga_stats& y);

/// Records one saga duration in the histogram of `x`.
void observe_duration(saga_stats& x, double seconds);

} // namespace booking
