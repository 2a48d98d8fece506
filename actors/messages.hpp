// The typed messages the engine's actors exchange.
//
// Every struct here is a plain value with an `inspect` overload, so CAF can
// print and serialize it. They are registered once, in
// `register_message_types`, which the config calls. The atoms that name the
// commands are declared here too, once each.

#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>
#include <caf/timestamp.hpp>

namespace booking {

// -- atoms --------------------------------------------------------------------

using create_atom = caf::atom_constant<caf::atom("create")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using await_atom = caf::atom_constant<caf::atom("await")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using record_atom = caf::atom_constant<caf::atom("record")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using quote_atom = caf::atom_constant<caf::atom("quote")>;
using authorize_atom = caf::atom_constant<caf::atom("authorize")>;
using capture_atom = caf::atom_constant<caf::atom("capture")>;
using void_atom = caf::atom_constant<caf::atom("void")>;
using refund_atom = caf::atom_constant<caf::atom("refund")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using send_atom = caf::atom_constant<caf::atom("send")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using timer_atom = caf::atom_constant<caf::atom("timer")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using claim_atom = caf::atom_constant<caf::atom("claim")>;

// -- enums --------------------------------------------------------------------

/// Lifecycle of a booking.
enum class booking_status : uint8_t {
  pending,
  confirmed,
  failed,
  cancelling,
  cancelled,
  compensation_failed,
};

/// Steps of both sagas, as named in the saga history.
enum class saga_step : uint8_t {
  reserve_seats,
  authorize_payment,
  confirm_booking,
  send_notification,
  refund_payment,
  release_seats,
  cancel_booking,
};

/// What a saga history entry did.
enum class saga_action : uint8_t { execute, compensate, query };

/// How an attempt ended.
enum class step_outcome : uint8_t { ok, declined, error, timeout };

/// Kinds of outcome notification.
enum class notification_kind : uint8_t {
  booking_confirmed,
  booking_failed,
  booking_cancelled,
};

/// State of a payment at the gateway.
enum class payment_state : uint8_t {
  none,
  authorized,
  captured,
  voided,
  refunded,
  declined,
};

std::string to_string(booking_status x);
std::string to_string(saga_step x);
std::string to_string(saga_action x);
std::string to_string(step_outcome x);
std::string to_string(notification_kind x);
std::string to_string(payment_state x);

/// True for the statuses a booking never leaves on its own.
bool is_terminal(booking_status x);

// -- bookings -----------------------------------------------------------------

/// The customer of a booking.
struct customer {
  std::string name;
  std::string email;
  std::string phone;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, customer& x) {
  return f(caf::meta::type_name("customer"), x.name, x.email, x.phone);
}

/// A request to book seats, as it enters the engine.
struct booking_request {
  /// Chosen by the caller (see `new_booking_id`); routes the booking.
  std::string id;
  std::string tour_id;
  std::string date;
  int32_t seats = 0;
  customer cust;
  /// Opaque payment token; never logged nor returned.
  std::string payment_token;
  std::string correlation_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_request& x) {
  return f(caf::meta::type_name("booking_request"), x.id, x.tour_id, x.date,
           x.seats, x.cust, x.payment_token, x.correlation_id);
}

/// One attempt in a saga history.
struct saga_entry {
  saga_step step = saga_step::reserve_seats;
  saga_action action = saga_action::execute;
  step_outcome outcome = step_outcome::ok;
  int32_t attempt = 1;
  caf::timestamp at;
  /// Empty when the outcome is `ok`.
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, saga_entry& x) {
  return f(caf::meta::type_name("saga_entry"), x.step, x.action, x.outcome,
           x.attempt, x.at, x.error);
}

/// A booking as the booking actor stores it.
struct booking_record {
  std::string id;
  booking_status status = booking_status::pending;
  /// Machine-readable failure reason; empty unless failed.
  std::string reason;
  std::string tour_id;
  std::string date;
  int32_t seats = 0;
  int64_t amount_cents = 0;
  std::string currency;
  customer cust;
  std::string correlation_id;
  caf::timestamp created_at;
  caf::timestamp updated_at;
  std::vector<saga_entry> saga;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_record& x) {
  return f(caf::meta::type_name("booking_record"), x.id, x.status, x.reason,
           x.tour_id, x.date, x.seats, x.amount_cents, x.currency, x.cust,
           x.correlation_id, x.created_at, x.updated_at, x.saga);
}

/// Filter for listing bookings; empty fields match everything.
struct booking_filter {
  std::string status;
  std::string tour_id;
  std::string email;
  /// Exclusive lower bound of the id order (the cursor).
  std::string after_id;
  int32_t limit = 50;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_filter& x) {
  return f(caf::meta::type_name("booking_filter"), x.status, x.tour_id, x.email,
           x.after_id, x.limit);
}

// -- tours and inventory ------------------------------------------------------

/// A dated departure with its seat count.
struct departure {
  std::string date;
  int32_t capacity = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, departure& x) {
  return f(caf::meta::type_name("departure"), x.date, x.capacity);
}

/// A tour and its departures.
struct tour {
  std::string id;
  std::string name;
  int64_t price_cents = 0;
  std::string currency;
  std::vector<departure> departures;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tour& x) {
  return f(caf::meta::type_name("tour"), x.id, x.name, x.price_cents,
           x.currency, x.departures);
}

/// Seats of one booking at one departure: a hold, or seats sold.
struct seat_hold {
  std::string booking_id;
  std::string tour_id;
  std::string date;
  int32_t seats = 0;
  /// False while held, true once committed (sold).
  bool sold = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, seat_hold& x) {
  return f(caf::meta::type_name("seat_hold"), x.booking_id, x.tour_id, x.date,
           x.seats, x.sold);
}

/// Seat counts of one departure; also the event inventory sends to the
/// availability read model (absolute values, so replays are harmless).
struct departure_counts {
  std::string tour_id;
  std::string date;
  int32_t capacity = 0;
  int32_t held = 0;
  int32_t sold = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, departure_counts& x) {
  return f(caf::meta::type_name("departure_counts"), x.tour_id, x.date,
           x.capacity, x.held, x.sold);
}

/// Everything one inventory shard holds, for checks and reports.
struct inventory_snapshot {
  std::vector<departure_counts> departures;
  std::vector<seat_hold> holds;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inventory_snapshot& x) {
  return f(caf::meta::type_name("inventory_snapshot"), x.departures, x.holds);
}

/// Price of a prospective booking, from the availability read model.
struct quote {
  int64_t amount_cents = 0;
  std::string currency;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quote& x) {
  return f(caf::meta::type_name("quote"), x.amount_cents, x.currency);
}

/// Seats left per date of one tour.
struct availability_view {
  std::string tour_id;
  std::vector<departure_counts> dates;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, availability_view& x) {
  return f(caf::meta::type_name("availability_view"), x.tour_id, x.dates);
}

// -- payments -----------------------------------------------------------------

/// An authorization request; `booking_id` is the idempotency key.
struct payment_request {
  std::string booking_id;
  int64_t amount_cents = 0;
  std::string currency;
  std::string token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_request& x) {
  return f(caf::meta::type_name("payment_request"), x.booking_id,
           x.amount_cents, x.currency, x.token);
}

/// The gateway's record of one booking's payment.
struct payment_intent {
  std::string booking_id;
  payment_state state = payment_state::none;
  int64_t authorized_cents = 0;
  int64_t captured_cents = 0;
  int64_t refunded_cents = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_intent& x) {
  return f(caf::meta::type_name("payment_intent"), x.booking_id, x.state,
           x.authorized_cents, x.captured_cents, x.refunded_cents);
}

// -- notifications ------------------------------------------------------------

/// A request to notify a customer of a booking's outcome.
struct notification_request {
  std::string booking_id;
  notification_kind kind = notification_kind::booking_confirmed;
  std::string to;
  std::string customer_name;
  std::string tour_id;
  std::string date;
  int32_t seats = 0;
  int64_t amount_cents = 0;
  std::string currency;
  std::string reason;
  /// False if a compensation failed, so money may still be reserved.
  bool settled = true;
  std::string correlation_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification_request& x) {
  return f(caf::meta::type_name("notification_request"), x.booking_id, x.kind,
           x.to, x.customer_name, x.tour_id, x.date, x.seats, x.amount_cents,
           x.currency, x.reason, x.settled, x.correlation_id);
}

/// A rendered notification and its delivery log.
struct notification_record {
  std::string id;
  std::string booking_id;
  notification_kind kind = notification_kind::booking_confirmed;
  std::string channel = "email";
  std::string to;
  std::string subject;
  std::string body;
  /// "sent" or "failed".
  std::string status;
  int32_t attempts = 0;
  caf::timestamp created_at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification_record& x) {
  return f(caf::meta::type_name("notification_record"), x.id, x.booking_id,
           x.kind, x.channel, x.to, x.subject, x.body, x.status, x.attempts,
           x.created_at);
}

/// Filter for listing notifications; empty fields match everything.
struct notification_filter {
  std::string booking_id;
  /// Matches the recipient (`to`).
  std::string email;
  /// Exclusive lower bound of the id order (the cursor).
  std::string after_id;
  int32_t limit = 50;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification_filter& x) {
  return f(caf::meta::type_name("notification_filter"), x.booking_id, x.email,
           x.after_id, x.limit);
}

// -- domain events ------------------------------------------------------------

/// Something that happened to a booking, as the AMQP bridge publishes it on
/// `booking.events` (routing key = `type`). Emitted by the saga coordinator.
struct domain_event {
  /// UUID; also the AMQP `message_id`, kept when the event is re-sent.
  std::string id;
  /// One of `event_types()`, e.g. `booking.confirmed`.
  std::string type;
  caf::timestamp time;
  /// Of the request that caused the event (create, cancel or intake).
  std::string correlation_id;
  std::string booking_id;
  std::string tour_id;
  std::string date;
  int32_t seats = 0;
  int64_t amount_cents = 0;
  std::string currency;
  std::string customer_email;
  /// The booking's status when the event was emitted.
  std::string status;
  /// Set on booking.failed, payment.declined, inventory.rejected and
  /// saga.compensation_failed.
  std::string reason;
  /// notification.sent only: the notification kind and channel.
  std::string kind;
  std::string channel;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, domain_event& x) {
  return f(caf::meta::type_name("domain_event"), x.id, x.type, x.time,
           x.correlation_id, x.booking_id, x.tour_id, x.date, x.seats,
           x.amount_cents, x.currency, x.customer_email, x.status, x.reason,
           x.kind, x.channel);
}

// -- saga checkpoints ---------------------------------------------------------

/// Where a saga instance stands, as the coordinator checkpoints it with each
/// step. Resuming from an older checkpoint is safe: every command and
/// compensation is idempotent per booking id.
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
  /// forward, query, compensating, finishing (the coordinator's phases).
  uint8_t phase = 0;
  /// Current row of the saga table.
  int32_t row = 0;
  int32_t attempt = 1;
  /// Rows to compensate, the last one first.
  std::vector<uint8_t> to_compensate;
  bool compensation_failed = false;
  std::string reason;
  /// The outcome once known (`pending` before).
  booking_status outcome = booking_status::pending;
  /// When the next attempt is due (a retry's backoff); zero: at once.
  caf::timestamp retry_at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, saga_checkpoint& x) {
  return f(caf::meta::type_name("saga_checkpoint"), x.key, x.done,
           x.cancellation, x.req, x.amount_cents, x.currency, x.phase, x.row,
           x.attempt, x.to_compensate, x.compensation_failed, x.reason,
           x.outcome, x.retry_at);
}

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

/// Every domain event type the engine emits.
const std::vector<std::string>& event_types();

// -- sagas --------------------------------------------------------------------

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
  /// `compensations` by the step undone.
  std::map<std::string, int64_t> compensations_by_step;
  /// `retries` by the step of the row retried.
  std::map<std::string, int64_t> retries_by_step;
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
           x.starting, x.completed_by, x.compensations_by_step,
           x.retries_by_step, x.duration_counts, x.duration_sum);
}

/// Adds the counters of `y` to `x`, maps key by key and the histogram bucket
/// by bucket.
saga_stats& operator+=(saga_stats& x, const saga_stats& y);

/// Records one saga duration in the histogram of `x`.
void observe_duration(saga_stats& x, double seconds);

/// Registers every message type above with CAF.
void register_message_types(caf::actor_system_config& cfg);

/// A fresh booking id: UUID version 7 text, whose first 48 bits are the
/// Unix time in milliseconds and the rest random. Ids made later sort
/// later, so the store appends new rows at the end of its tables instead of
/// at random places, and listing by id lists by age.
std::string new_booking_id();

} // namespace booking
