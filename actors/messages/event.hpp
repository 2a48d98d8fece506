// Domain events: the one table of event types, and the event itself.
//
// Every fact about an event type lives in one row of `event_table()`: its
// name (the CloudEvents `type` and the routing key on `booking.events`), the
// version of its `dataschema`, which optional `data` members it carries, and
// whether it answers an intake message. The saga tables name the events they
// emit by `event_type`, the codec and the AMQP routing read the rest here.
//
//   auto& row = info(event_type::booking_confirmed);
//   row.name;                           // "booking.confirmed"
//   find_event("payment.declined")->carries_reason; // true

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace booking {

// -- the event table ----------------------------------------------------------

/// Every domain event type the engine emits.
enum class event_type : uint8_t {
  booking_requested,
  booking_confirmed,
  booking_failed,
  booking_cancelled,
  inventory_reserved,
  inventory_released,
  inventory_rejected,
  payment_authorized,
  payment_declined,
  payment_voided,
  payment_captured,
  payment_refunded,
  saga_compensating,
  saga_compensation_failed,
  notification_sent,
};

/// One row of the event table.
struct event_info {
  event_type type;
  /// CloudEvents `type` and routing key on `booking.events`.
  const char* name;
  /// Version of the `data` schema: `dataschema` is `<name>/v<version>`.
  int version;
  /// `data` carries the booking's failure `reason`.
  bool carries_reason;
  /// `data` carries the notification's `kind` and `channel`.
  bool carries_notification;
  /// Also sent to the `reply_to` queue of an intake message, as its outcome.
  bool intake_reply;
};

/// Every event type, one row each, in the order of `event_type`.
const std::vector<event_info>& event_table();

/// The row of `x`. Precondition: `x` is one of the enum's values.
const event_info& info(event_type x);

/// The name of `x`, e.g. `booking.confirmed`; "unknown" for a value past
/// the last one.
std::string to_string(event_type x);

/// The row named `name`, or null if no event type has that name.
const event_info* find_event(const std::string& name);

/// The names of every event type, in table order.
const std::vector<std::string>& event_types();

/// `dataschema` of an event type or any other message type: `<name>/v1`,
/// or the version the event table gives.
std::string dataschema_of(const std::string& type);

// -- the event ----------------------------------------------------------------

/// Something that happened to a booking, as the AMQP bridge publishes it on
/// `booking.events` (routing key = `type`). Emitted by the saga coordinator.
struct domain_event {
  /// UUID; also the AMQP `message_id`, kept when the event is re-sent.
  std::string id;
  /// The name of one row of `event_table()`, e.g. `booking.confirmed`.
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
  /// Not part of the event: where it goes. Empty: booking.events. Else the
  /// `reply_to` queue of the intake message that asked for the booking;
  /// the copy there has the same id as the one on booking.events.
  std::string reply_to;
  /// W3C trace context of the saga's request: the CloudEvents extension
  /// attribute `traceparent` and an AMQP header of the same name.
  std::string traceparent;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, domain_event& x) {
  return f(caf::meta::type_name("domain_event"), x.id, x.type, x.time,
           x.correlation_id, x.booking_id, x.tour_id, x.date, x.seats,
           x.amount_cents, x.currency, x.customer_email, x.status, x.reason,
           x.kind, x.channel, x.reply_to, x.traceparent);
}

} // namespace booking
