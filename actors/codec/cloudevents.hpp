// The AMQP bodies and properties of the bridge: CloudEvents 1.0 in JSON
// structured mode (docs/messaging.md). RapidJSON stays inside the codec
// layer; the actors and the AMQP bridges only see the structs below.
//
//   auto body = encode_event(ev, node_id);     // publish on booking.events
//   auto props = properties_for(ev);
//
//   booking_request req;
//   std::vector<field_error> errors;
//   std::string reason;
//   switch (decode_intake(body, props, req, errors, reason)) { ... }
//
// Decoding never fails transiently: a body that does not decode is poison
// (dead-lettered with `reason`, never requeued).

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/timestamp.hpp>

#include "actors/codec/problem.hpp"
#include "actors/messages.hpp"

namespace booking {

// -- message types ------------------------------------------------------------

/// Type and routing key of the intake command.
constexpr const char* intake_type = "booking.create";

/// Type of the reply to an intake message that was not accepted.
constexpr const char* rejected_type = "booking.rejected";

// -- properties ---------------------------------------------------------------

/// `content_type` of every message: a CloudEvent in structured mode.
constexpr const char* cloudevents_content_type = "application/cloudevents+json";

/// `app_id` of every message the engine publishes.
constexpr const char* engine_app_id = "booking-engine";

/// Header naming why a message was dead-lettered.
constexpr const char* error_header = "x-booking-error";

/// The AMQP basic properties the bridge sets or reads.
struct message_properties {
  std::string content_type = cloudevents_content_type;
  /// The event id; on intake, the idempotency key.
  std::string message_id;
  std::string correlation_id;
  /// The event type.
  std::string type;
  /// Seconds since the epoch.
  int64_t timestamp = 0;
  std::string app_id = engine_app_id;
  /// 2 = persistent.
  uint8_t delivery_mode = 2;
  /// Queue the outcome of an intake message goes to; empty = no reply.
  std::string reply_to;
  /// Per-message TTL in milliseconds (retry queue only); empty = none.
  std::string expiration;
  /// Header table, string values only (e.g. `x-booking-error`).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Properties of a published event: persistent, `message_id` = event id,
/// its `correlation_id`, `type` and `timestamp`.
message_properties properties_for(const domain_event& x);

// -- domain events ------------------------------------------------------------

/// True if the codec has a schema for messages of `type`: every event type,
/// `booking.create` (decode only) and `booking.rejected`.
bool has_codec(const std::string& type);

/// True for the event types whose `data` carries `reason` (see the event
/// table).
bool carries_reason(const std::string& type);

/// `source` of the events of a node: `/booking-engine/<node_id>`.
std::string source_of(const std::string& node_id);

/// The CloudEvent of `x`: envelope (`subject` = booking id, `dataschema` =
/// `<type>/v1`) and `data` with the booking's fields, `reason` where the
/// type carries one and `kind`/`channel` on `notification.sent`.
/// Precondition: `has_codec(x.type)`.
std::string encode_event(const domain_event& x, const std::string& node_id);

/// Reads a CloudEvent written by `encode_event`, ignoring unknown fields;
/// `correlation_id` comes from `props`. On failure, returns none and sets
/// `*error` (if given) to why.
std::optional<domain_event> decode_event(const std::string& body,
                                         const message_properties& props = {},
                                         std::string* error = nullptr);

// -- intake -------------------------------------------------------------------

/// How an intake message decoded.
enum class intake_outcome : uint8_t {
  /// A valid booking request.
  ok,
  /// A `booking.create` CloudEvent whose `data` has invalid fields.
  invalid,
  /// Not JSON, not a `booking.create` CloudEvent, or without `data`.
  malformed,
};

std::string to_string(intake_outcome x);

/// Reads a `booking.create` message. `data` is validated exactly like the
/// body of `POST /api/v1/bookings`. On `ok`, `out` has every field but `id`;
/// its `correlation_id` is the message's, else its `message_id`. Otherwise
/// `errors` lists every bad field (`[{"field", "message"}]` as in HTTP; on
/// `malformed`, the envelope attribute at fault) and `reason` says why in
/// one line, for `x-booking-error`.
intake_outcome
decode_intake(const std::string& body, const message_properties& props,
              booking_request& out, std::vector<field_error>& errors,
              std::string& reason);

/// The CloudEvent of a `booking.create` command, for producers and tests:
/// `data` is `request` as the HTTP body (without `id` and
/// `correlation_id`).
std::string encode_intake(const booking_request& request,
                          const std::string& event_id,
                          const std::string& source);

// -- rejections ---------------------------------------------------------------

/// The `booking.rejected` reply to an intake message that did not decode
/// or validate.
struct rejection {
  /// Id of the reply event (UUID), also its `message_id`.
  std::string id;
  caf::timestamp time;
  /// `message_id` of the rejected message.
  std::string message_id;
  std::string correlation_id;
  std::vector<field_error> errors;
};

/// A rejection with a fresh id, stamped now.
rejection make_rejection(std::string message_id, std::string correlation_id,
                         std::vector<field_error> errors);

/// The `booking.rejected` CloudEvent; `data` is `{"message_id", "errors":
/// [{"field", "message"}]}` and `subject` the rejected message's id.
std::string encode_rejected(const rejection& x, const std::string& node_id);

/// Properties of the reply: as for an event, with `type` `booking.rejected`.
message_properties properties_for(const rejection& x);

/// Reads a `booking.rejected` CloudEvent; `correlation_id` from `props`.
std::optional<rejection> decode_rejected(const std::string& body,
                                         const message_properties& props = {},
                                         std::string* error = nullptr);

} // namespace booking
