// The engine's error codes, carried inside `caf::error` between actors.
//
// Handlers return these instead of throwing; the HTTP and AMQP edges map
// them onto status codes and dead-letter reasons in one place each.

#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace booking {

/// Error codes of the booking engine (category atom `booking`).
enum class booking_errc : uint8_t {
  /// Not enough seats left at the departure.
  sold_out = 1,
  /// The tour does not exist.
  unknown_tour,
  /// The tour has no departure on that date.
  unknown_date,
  /// The card was declined.
  payment_declined,
  /// The gateway failed transiently; a retry may succeed.
  payment_error,
  /// The payment is in a state that forbids the operation.
  payment_conflict,
  /// Inventory failed transiently; a retry may succeed.
  inventory_error,
  /// Delivery of a notification failed transiently.
  notification_error,
  /// No record with that id.
  not_found,
  /// The record exists but its status forbids the operation.
  wrong_status,
  /// A capacity change would drop below the seats already taken.
  capacity_conflict,
  /// Too many sagas in flight; retry later.
  overloaded,
  /// The id is already taken.
  duplicate,
  /// A field of the request is invalid (the context names it).
  invalid_request,
  /// The durable store cannot be opened or written; nothing was stored.
  store_error,
  /// An idempotency key was used before with a different request.
  key_reused,
};

/// Category atom of `booking_errc`.
constexpr caf::atom_value booking_error_category = caf::atom("booking");

std::string to_string(booking_errc x);

/// Wraps a code into a `caf::error` (found by ADL, so handlers may return
/// the enum).
caf::error make_error(booking_errc x);

/// Wraps a code with a short context text.
caf::error make_error(booking_errc x, std::string detail);

/// True if `e` carries the code `x`.
bool is(const caf::error& e, booking_errc x);

/// A short human text for any error, without internals.
std::string describe(const caf::error& e);

} // namespace booking
