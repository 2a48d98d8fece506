// The publisher bridge: a detached actor that owns one AMQP connection and
// publishes every domain event to `booking.events` (and intake outcome
// replies to their `reply_to` queue).
//
// Delivery contract (at least once, in order per connection):
// - every message is persistent, published with `mandatory` (returned ones
//   are counted) and kept in the outbox until the broker confirms it;
// - confirms are pipelined: up to `amqp.confirm-window` messages are
//   unconfirmed at once;
// - after a connection loss, everything unconfirmed is re-sent first, in its
//   original order, with its original message id, so duplicates carry the
//   same event id;
// - while the broker sends `connection.blocked`, nothing is published and the
//   outbox keeps growing;
// - on exit it keeps publishing for a few seconds to flush the outbox.
// With a durable store, the events come from its outbox table, a window at a
// time, and the publisher reports each confirmed row back, so the store
// deletes it and sends more; a crash re-publishes what was not confirmed
// (same message id). Without one, the queue is in memory (bounded by the
// backpressure on new sagas) and a crash loses what it holds. Either way
// `backpressure::outbox_backlog` counts what is not confirmed yet.

#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/backpressure.hpp"
#include "actors/messages.hpp"
#include "actors/store/store_actor.hpp"
#include "bridges/amqp_settings.hpp"
#include "bridges/bridge_status.hpp"

namespace booking {

using reply_atom = caf::atom_constant<caf::atom("reply")>;

/// Interface of the publisher bridge; a superset of `event_sink_actor` and
/// of `outbox_sink_actor`.
using publisher_actor = caf::typed_actor<
  // Publishes a domain event on booking.events.
  caf::reacts_to<domain_event>,
  // Publishes committed outbox events of the durable store, in order.
  caf::reacts_to<std::vector<outbox_row>>,
  // Publishes an event to the default exchange with routing key = reply_to.
  caf::reacts_to<reply_atom, std::string, domain_event>>;

/// Spawns the publisher bridge on its own thread. `node_id` names this
/// process in the events' `source`; `gate` holds the outbox backlog;
/// `store` (may be empty) hears which of its outbox rows were confirmed.
publisher_actor spawn_publisher(caf::actor_system& sys, amqp_settings cfg,
                                std::shared_ptr<bridge_status> status,
                                std::shared_ptr<backpressure> gate,
                                store_actor store, std::string node_id);

} // namespace booking
