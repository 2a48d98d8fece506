// The booking and cancellation sagas as data.
//
// A saga is a table of steps. Each row names the participant, the command
// that executes the step, the command that compensates it, the command that
// resolves an uncertain outcome, its timeout and its retry policy. The saga
// coordinator runs any such table; adding a step means adding a row (and, for
// a new kind of call, one case in the coordinator's command dispatch).
//
// Example: the booking saga's second row is
//   {authorize_payment, "payment", authorize_payment, void_payment,
//    query_payment, payment timeout, step retry policy, ...,
//    payment_authorized, payment_declined, payment_voided}
// so a timeout runs `query_payment`, never a second authorization, and the
// row's domain events (rows of the event table, `messages/event.hpp`) say
// what its command and compensation did.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "actors/settings.hpp"

namespace booking {

/// A call the coordinator knows how to make.
enum class saga_command : uint8_t {
  /// Nothing to call; succeeds at once (the row only changes the status).
  none,
  reserve_seats,
  release_seats,
  authorize_payment,
  void_payment,
  query_payment,
  /// Capture the payment, then commit the held seats.
  capture_and_commit,
  refund_payment,
  /// Send the notification that matches the booking's outcome.
  notify,
};

/// One row of a saga table.
struct saga_step_def {
  saga_step step = saga_step::reserve_seats;
  /// Who takes part, for docs and logs.
  std::string participant;
  saga_command command = saga_command::none;
  /// Undoes a completed step; `none` if nothing needs undoing.
  saga_command compensation = saga_command::none;
  /// Resolves a timeout instead of retrying; `none` to retry.
  saga_command query = saga_command::none;
  /// Timeout of one call.
  caf::timespan timeout{0};
  /// Retries of the command and of the query.
  retry_policy retry;
  /// Retries of the compensation (until it succeeds or the budget ends).
  retry_policy compensation_retry;
  /// Reason a booking fails with when this step's retries run out.
  std::string error_reason;
  /// Status the booking takes when this step succeeds (`pending` = none).
  booking_status on_success = booking_status::pending;
  /// After this row succeeds the outcome stands: later rows never undo it.
  bool pivot = false;
  /// Runs after the outcome is known, on success and failure alike.
  bool final = false;
  /// Domain event once the command succeeded (none: no event); sent before
  /// the status change of `on_success`, so it carries the status before it.
  std::optional<event_type> event_on_success;
  /// Domain event when the command is declined (a business "no"), with the
  /// reason; retries and technical failures emit nothing.
  std::optional<event_type> event_on_decline;
  /// Domain event once the compensation succeeded.
  std::optional<event_type> event_on_compensation;
};

/// The domain event a saga emits when the booking takes `status`.
struct outcome_event {
  booking_status status = booking_status::pending;
  event_type type = event_type::booking_confirmed;
};

/// A saga: its steps and the status a failure ends in.
struct saga_definition {
  std::string name;
  /// Identifies the table's structure (see `table_version`); set by
  /// `stamp`, checkpoints carry it.
  uint64_t version = 0;
  std::vector<saga_step_def> steps;
  /// Status once a failure before the pivot has been compensated.
  booking_status failure_status = booking_status::failed;
  /// The booking's status while the saga runs, before its outcome.
  booking_status running_status = booking_status::pending;
  /// Domain event when the saga starts (none: no event).
  std::optional<event_type> event_on_start;
  /// Domain event when a failure starts compensating completed steps.
  std::optional<event_type> event_on_compensating;
  /// Domain event per outcome, carrying the booking's reason; an outcome
  /// without a row here emits nothing.
  std::vector<outcome_event> outcome_events;
};

/// Reserve seats, authorize payment, confirm (pivot), notify.
saga_definition booking_saga(const saga_settings& cfg);

/// Refund, release seats, mark cancelled (pivot), notify.
saga_definition cancellation_saga(const saga_settings& cfg);

/// The booking saga as a later release might change it: a payment check
/// (`verify_payment`, a status query) inserted before the pivot. Not one of
/// this release's tables: the simulator's `upgrade` scenario and the tests
/// add it, to upgrade with sagas in flight on the booking saga above.
saga_definition verifying_booking_saga(const saga_settings& cfg);

/// Index of the row for `step`, or the table size if absent.
size_t find_step(const saga_definition& def, saga_step step);

/// Index of the row whose step is named `name` (as `to_string` writes
/// it), or the table size if absent.
size_t find_step_named(const saga_definition& def, const std::string& name);

// -- versions -----------------------------------------------------------------

/// The text a table's version is the hash of: its name, its rows in order
/// (step, command, compensation, query, status on success, pivot, final,
/// failure reason, events) and its saga-wide statuses and events. Configured
/// values (timeouts, retry policies) and the participant, a comment, are left
/// out: a config change never makes a new version. Frozen: a change to this
/// text changes every version, and old checkpoints would be suspended.
std::string table_structure(const saga_definition& def);

/// 64-bit FNV-1a of `table_structure(def)`.
uint64_t table_version(const saga_definition& def);

/// Sets `def.version` from its rows; call after any change to them. Throws
/// `std::logic_error` if two rows name the same step (a checkpoint could
/// not tell them apart).
saga_definition stamp(saga_definition def);

/// Every saga table a release runs. New sagas start on the current version
/// of their saga, the last one listed; a saga resumed from a checkpoint
/// runs on the version it started with, so a release that changes a table
/// keeps the other versions (in `release_tables`) until no checkpoint names
/// them. Listing a new version before the current one ships it for
/// resuming only (the first step of a rolling upgrade, docs/upgrades.md).
struct saga_tables {
  /// Versions of the booking saga, the current one last; never empty.
  std::vector<saga_definition> booking;
  /// Versions of the cancellation saga, the current one last; never empty.
  std::vector<saga_definition> cancellation;

  /// The version new sagas start on.
  const saga_definition& current(bool cancellation_saga) const;

  /// The table of `version`, or null if this release does not have it.
  const saga_definition* find(bool cancellation_saga, uint64_t version) const;

  /// Stamps every table (after a test or the simulator changed one); throws
  /// like `stamp`.
  void stamp_all();
};

/// The tables of this release, stamped.
saga_tables release_tables(const saga_settings& cfg);

} // namespace booking
