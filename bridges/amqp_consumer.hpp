// The intake consumer bridge: a detached actor that owns one AMQP
// connection and turns `booking.create` messages from `booking.intake` into
// bookings.
//
// Delivery contract:
// - manual acks, `amqp.prefetch` unacked messages at most; a message is
//   acked only once its booking is accepted (stored), so a crash before that
//   redelivers it;
// - the front desk creates the booking with `amqp:<message_id>` as its
//   idempotency key (the inbox): a redelivered or
//   re-sent message with the same id and body returns the existing booking
//   and creates nothing; the same id with another body is poison;
// - poison (not a CloudEvent of type booking.create, invalid fields, no
//   message_id, unknown tour or date) is never requeued: it is published to
//   `booking.dlx` / `booking.intake.dlq` with its original properties plus
//   `x-booking-error`, a `booking.rejected` event goes to `reply_to` if set,
//   and the original is acked;
// - a transient failure goes through `booking.intake.retry` with a growing
//   per-message TTL and an `x-booking-retries` count; past
//   `amqp.retry-limit` it is dead-lettered the same way;
// - at `saga.max-in-flight` (or a full outbox) intake pauses: the message
//   stays unacked and is tried again every 50 ms; after
//   `amqp.stall-timeout` of refusals (or of no answer from the engine) the
//   consumer closes its connection without acking, so the broker puts its
//   messages back in the queue, and reconnects with backoff;
// - after a broker-initiated cancel (queue deleted) it re-declares the
//   topology and consumes again; after a connection loss it reconnects with
//   backoff;
// - with `reply_to`, the saga of the new booking sends its outcome event
//   there too, through the outbox. A message the client sent again (same
//   id, not a broker redelivery) gets a copy of the booking's outcome from
//   here; a redelivery gets no reply of its own.

#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/front_desk.hpp"
#include "bridges/amqp_publisher.hpp"
#include "bridges/amqp_settings.hpp"
#include "bridges/bridge_status.hpp"

namespace booking {

/// The actors the intake consumer talks to.
struct intake_peers {
  /// Creates the bookings and awaits their outcomes.
  front_desk_actor desk;
  /// Publishes outcome replies; may be empty (no replies).
  publisher_actor publisher;
};

/// Knobs of the intake consumer.
struct intake_options {
  std::string node_id;
  /// Test hook: an error returned here counts as a transient failure of
  /// the message, before its booking is created.
  std::function<caf::error(const booking_request&)> fault;
};

/// Spawns the intake consumer on its own thread.
caf::actor spawn_intake_consumer(caf::actor_system& sys, amqp_settings cfg,
                                 std::shared_ptr<bridge_status> status,
                                 intake_peers peers, intake_options opts);

/// The outcome event of a booking, as replied to intake messages.
domain_event outcome_event(const booking_record& rec);

} // namespace booking
