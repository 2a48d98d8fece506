// Notifications: what to tell a customer, the rendered record and its
// delivery log, and the filter of a listing.

#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "actors/messages/booking.hpp"

namespace booking {

/// Kinds of outcome notification.
enum class notification_kind : uint8_t {
  booking_confirmed,
  booking_failed,
  booking_cancelled,
};

/// How many kinds there are (they count from 0).
constexpr size_t notification_kinds = 3;
static_assert(static_cast<size_t>(notification_kind::booking_cancelled) + 1
                == notification_kinds,
              "notification_kinds must count every notification_kind");

std::string to_string(notification_kind x);

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
  /// The trace context of the saga that sends it.
  trace_context trace;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notification_request& x) {
  return f(caf::meta::type_name("notification_request"), x.booking_id, x.kind,
           x.to, x.customer_name, x.tour_id, x.date, x.seats, x.amount_cents,
           x.currency, x.reason, x.settled, x.correlation_id, x.trace);
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

} // namespace booking
