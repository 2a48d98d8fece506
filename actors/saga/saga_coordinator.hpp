// The saga coordinator: runs one saga instance per booking (and one per
// cancellation) over the tables of `booking_saga.hpp`.
//
// The wiring spawns several coordinators and the front desk routes each
// booking by its id (`actors/shard.hpp`), so every message about one booking
// reaches the same one. A coordinator keeps its instances as plain data (no
// actor per saga), issues each step as a request and keeps the row's timeout
// as its own deadline, retries with exponential backoff and jitter, resolves
// uncertain outcomes with the row's query, and compensates completed steps in
// reverse order. Each attempt is recorded in the booking's saga history with
// one update call to the booking actor. A reply that arrives after its attempt
// timed out or was abandoned is ignored: an epoch per attempt guards it.
//
// Why the coordinator keeps the deadlines: CAF 0.17 never cancels a request
// timeout, so a timed request leaves an entry in the actor clock (another
// thread, behind a mutex) until it expires, and then a stale message. Here
// every call goes out untimed; the calls of one timeout expire in the order
// they were issued, so each timeout has a list in that order, an answer
// unlinks its call, and one clock entry (the next due deadline) serves them
// all. The domain events the tables name go one-way to
// `peers.events`, one per transition and in causal order; without a sink none
// is built.

#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/availability_actor.hpp"
#include "actors/backpressure.hpp"
#include "actors/booking_actor.hpp"
#include "actors/event_sink.hpp"
#include "actors/inventory_actor.hpp"
#include "actors/messages.hpp"
#include "actors/notification_actor.hpp"
#include "actors/payment_actor.hpp"
#include "actors/saga/booking_saga.hpp"

namespace booking {

/// Interface of a saga coordinator.
using saga_coordinator_actor = caf::typed_actor<
  // Prices and stores a new booking, starts its saga and answers with the
  // pending booking. Fails with invalid_request, unknown_tour / unknown_date
  // or overloaded. Idempotent per booking id: a create for an id that is
  // known (being stored, in a saga, or stored long ago) starts nothing and
  // answers with the booking as stored, in its current status (a create
  // repeated while the first is being stored gets the first's answer, error
  // included); an id left unknown by a refused create may be tried again.
  // The rest of a repeated request is not compared with the first.
  caf::replies_to<create_atom, booking_request>::with<booking_record>,
  // Answers once the booking has an outcome (confirmed, failed, cancelled,
  // compensation_failed), without waiting for the notification.
  caf::replies_to<await_atom, std::string>::with<booking_record>,
  // Starts the cancellation saga of a confirmed booking (then: the
  // correlation id and the W3C traceparent of the cancel request, which the
  // saga carries) and answers with the booking in status cancelling; a
  // cancelled or cancelling booking is returned as is; any other status
  // fails with wrong_status.
  caf::replies_to<cancel_atom, std::string, std::string,
                  std::string>::with<booking_record>,
  // The same without a trace context.
  caf::replies_to<cancel_atom, std::string, std::string>::with<booking_record>,
  // Re-drives a compensation_failed booking (then: the correlation id and
  // the W3C traceparent of the request, a new trace when it is not valid):
  // the steps that gave up run again, with
  // fresh retry budgets, their attempts numbered on in the history. Answers
  // with the booking in the status its saga runs under (pending, or
  // cancelling) once that is stored. Fails with not_found, wrong_status (any
  // other status, or no record of the steps that gave up) or overloaded.
  caf::replies_to<redrive_atom, std::string, std::string,
                  std::string>::with<booking_record>,
  // Counters and metrics of this coordinator.
  caf::replies_to<caf::get_atom>::with<saga_stats>,
  // Internal: a retry timer fired (saga key, attempt epoch).
  caf::reacts_to<timer_atom, std::string, uint64_t>,
  // Internal: the deadline tick (its generation).
  caf::reacts_to<deadline_atom, uint64_t>>;

/// The actors a coordinator talks to.
struct saga_participants {
  std::vector<booking_actor> bookings;
  std::vector<inventory_actor> inventory;
  availability_actor availability;
  payment_actor payment;
  notification_actor notification;
  /// Receives the domain events of every saga; may be empty (no broker).
  event_sink_actor events;
};

/// How a coordinator runs its sagas.
struct coordinator_options {
  /// Every version of both sagas: new sagas start on the current, resumed
  /// ones on the version their checkpoint names (see `locate`). Stamped by
  /// the coordinator at start.
  saga_tables tables;
  /// The process-wide limits every coordinator shares (sagas in flight,
  /// outbox backlog); empty: a gate of its own, with the default limit.
  std::shared_ptr<backpressure> gate;
  /// Timeout of lookups (pricing, storing the new booking).
  caf::timespan lookup_timeout = std::chrono::seconds(5);
  /// Seed of the backoff jitter.
  uint64_t seed = 1;
  /// A durable store is configured: every saga step carries the saga's
  /// checkpoint, and domain events go into the booking's next update (the
  /// transactional outbox) instead of straight to `peers.events`.
  bool durable = false;
  /// Sagas an earlier run left unfinished; resumed at start, unless their
  /// checkpoint cannot be placed in `tables` (then logged and left alone).
  std::vector<saga_checkpoint> recovered;
  /// Sagas that ended in compensation_failed, parked in the store, to
  /// re-drive at start (`--redrive-all`).
  std::vector<saga_checkpoint> redrive;
};

/// Where a checkpoint stands in a table: its row and the rows to
/// compensate, by index.
struct saga_position {
  const saga_definition* table = nullptr;
  size_t row = 0;
  std::vector<uint8_t> to_compensate;
};

/// Places `cp` in the table of its version, or says in `why` why it
/// cannot: a version this release does not have, or a step or phase its
/// table does not know. Such a saga is suspended: never resumed on another
/// table.
std::optional<saga_position>
locate(const saga_tables& tables, const saga_checkpoint& cp, std::string& why);

/// A saga a checkpoint left that this release cannot resume.
struct suspended_saga {
  std::string key;
  std::string why;
};

/// The checkpoints of `recovered` that `locate` refuses.
std::vector<suspended_saga>
find_suspended(const saga_tables& tables,
               const std::vector<saga_checkpoint>& recovered);

/// Spawns one saga coordinator.
saga_coordinator_actor spawn_saga_coordinator(caf::actor_system& sys,
                                              saga_participants peers,
                                              coordinator_options opts);

} // namespace booking
