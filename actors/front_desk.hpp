// The front desk: the booking use case, in one place, for every edge.
//
// The HTTP API and the AMQP intake translate their requests into the
// messages below and talk to nothing else for bookings and tours; neither
// knows how bookings, tours or sagas are sharded. The desk claims an
// idempotency key before a create, routes each request to the shard or
// coordinator that owns it, merges listings across booking shards (cursor
// paging stays exact), and hands "wait for the outcome" to the coordinator
// that runs the saga.
//
//   self->request(desk, caf::infinite, create_atom::value, req, key)
//     .then([](booking_record& rec) { ... }, [](caf::error& e) { ... });
//   self->request(desk, 5s, await_atom::value, id) ...   // then `get` on
//                                                        // request_timeout
//
// Most requests are delegated: the owner answers the requester directly, so
// the desk adds one hop and holds no state.

#pragma once

#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/booking_actor.hpp"
#include "actors/idempotency_actor.hpp"
#include "actors/inventory_actor.hpp"
#include "actors/messages.hpp"
#include "actors/saga/saga_coordinator.hpp"

namespace booking {

/// Interface of the front desk.
using front_desk_actor = caf::typed_actor<
  // Creates a booking and answers with it as stored (pending for a new one).
  // An empty `id` gets a fresh one. With a non-empty idempotency key (second
  // argument), the key is claimed first: a retry with the same key and the
  // same request answers with the booking the first attempt created (in its
  // current status) and creates nothing; the same key with another request
  // fails with key_reused. Otherwise fails like the coordinator's create
  // (invalid_request, unknown_tour, unknown_date, overloaded, store_error).
  caf::replies_to<create_atom, booking_request,
                  std::string>::with<booking_record>,
  // Starts the cancellation of a booking (id, correlation id): answers with
  // it in status cancelling; see the coordinator's cancel.
  caf::replies_to<cancel_atom, std::string, std::string,
                  std::string>::with<booking_record>,
  // Re-drives a compensation_failed booking (id, correlation id): answers
  // with it in the status its saga runs under; see the coordinator's
  // redrive.
  caf::replies_to<redrive_atom, std::string, std::string,
                  std::string>::with<booking_record>,
  // One booking by id (fails with not_found).
  caf::replies_to<caf::get_atom, std::string>::with<booking_record>,
  // How many bookings are in each status.
  caf::replies_to<caf::get_atom, summary_atom>::with<booking_summary>,
  // One page of bookings matching the filter, in id order, across shards;
  // `next_cursor` is set when another page follows.
  caf::replies_to<list_atom, booking_filter>::with<booking_page>,
  // Answers once the booking has its outcome (confirmed, failed, cancelled,
  // compensation_failed). A caller with a deadline puts it on its request
  // and, when it passes, asks for the booking as stored (`get`).
  caf::replies_to<await_atom, std::string>::with<booking_record>,
  // Creates or replaces a tour; true if it was new.
  caf::replies_to<caf::put_atom, tour>::with<bool>,
  // The counters of every saga coordinator, summed.
  caf::replies_to<caf::get_atom>::with<saga_stats>>;

/// The actors the desk routes to.
struct front_desk_peers {
  std::vector<saga_coordinator_actor> coordinators;
  std::vector<booking_actor> bookings;
  std::vector<inventory_actor> inventory;
  idempotency_actor idempotency;
  /// The durable store, if any: it answers listings, since the shards keep
  /// only part of the bookings in memory then.
  store_actor store;
  /// Bookings per status, as the shards count them; may be null (all 0).
  std::shared_ptr<const status_tally> by_status;
};

/// Spawns the front desk.
front_desk_actor spawn_front_desk(caf::actor_system& sys,
                                  front_desk_peers peers);

} // namespace booking
