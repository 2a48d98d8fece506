// Bookings: the request that enters the engine, the record the booking
// actor keeps with its saga history, and the filter and page of a listing.

#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace booking {

// -- vocabulary ---------------------------------------------------------------

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
  /// Only in `verifying_booking_saga`, a later release's table that the
  /// simulator's upgrade scenario and the tests run.
  verify_payment,
};

/// What a saga history entry did.
enum class saga_action : uint8_t { execute, compensate, query };

/// How an attempt ended.
enum class step_outcome : uint8_t { ok, declined, error, timeout };

std::string to_string(booking_status x);
std::string to_string(saga_step x);
std::string to_string(saga_action x);
std::string to_string(step_outcome x);

/// True for the statuses a booking never leaves on its own.
bool is_terminal(booking_status x);

// -- messages -----------------------------------------------------------------

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
/// A W3C trace context (`traceparent`) in binary: every saga keeps one,
/// and the text would cost a heap block each (see `saga_instance`).
struct trace_context {
  uint64_t trace_hi = 0;
  uint64_t trace_lo = 0;
  uint64_t parent = 0;
  uint8_t flags = 0;

  /// No trace id: no context.
  bool empty() const {
    return trace_hi == 0 && trace_lo == 0;
  }

  /// The `traceparent` text, `00-<trace id>-<parent id>-<flags>`; empty if
  /// there is no context.
  std::string text() const;

  /// The trace id, 32 lowercase hex digits; empty if there is no context.
  std::string trace_id() const;

  /// The context of a valid `traceparent` (see `valid_traceparent`); an
  /// empty one otherwise.
  static trace_context parse(const std::string& x);

  /// A new context: a random trace id and parent id, sampled.
  static trace_context make();

  /// The context of `x` if it is valid, else a new one.
  static trace_context parse_or_make(const std::string& x);

  friend bool operator==(const trace_context& x, const trace_context& y) {
    return x.trace_hi == y.trace_hi && x.trace_lo == y.trace_lo
           && x.parent == y.parent && x.flags == y.flags;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trace_context& x) {
  return f(caf::meta::type_name("trace_context"), x.trace_hi, x.trace_lo,
           x.parent, x.flags);
}

/// True if `x` is a W3C `traceparent` this engine honours: version 00,
/// lowercase hex, a trace id and a parent id that are not all zero.
bool valid_traceparent(const std::string& x);

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
  /// The queue of an AMQP intake message's `reply_to`: the booking saga
  /// sends its outcome event there too, through the outbox. Empty for
  /// bookings taken over HTTP.
  std::string reply_to;
  /// Trace context of the request that started the saga; it travels into
  /// every event of the saga. Empty: none (a saga started in process).
  trace_context trace;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_request& x) {
  return f(caf::meta::type_name("booking_request"), x.id, x.tour_id, x.date,
           x.seats, x.cust, x.payment_token, x.correlation_id, x.reply_to,
           x.trace);
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

/// One page of a booking listing, in id order.
struct booking_page {
  std::vector<booking_record> items;
  /// Id of the last item when another page follows; empty on the last page.
  std::string next_cursor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_page& x) {
  return f(caf::meta::type_name("booking_page"), x.items, x.next_cursor);
}

/// How many bookings are in each status.
struct booking_summary {
  /// Every status by name (`to_string`), 0 when none.
  std::map<std::string, int64_t> by_status;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_summary& x) {
  return f(caf::meta::type_name("booking_summary"), x.by_status);
}

/// Stable hash of everything a booking request asks for (not its id nor its
/// correlation id), so that an idempotency key can tell a retry from another
/// request.
std::string fingerprint(const booking_request& req);

/// A fresh booking id: UUID version 7 text, whose first 48 bits are the
/// Unix time in milliseconds and the rest random. Ids made later sort
/// later, so the store appends new rows at the end of its tables instead of
/// at random places, and listing by id lists by age.
std::string new_booking_id();

} // namespace booking
