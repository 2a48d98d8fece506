// The availability read model: seats left per tour and date.
//
// It is fed by the inventory shards (tour changes and absolute seat counts)
// and answers queries without touching inventory, so it may lag it by the
// time a message takes. It also prices prospective bookings from its copy of
// the tour catalog.

#pragma once

#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace booking {

/// Interface of the availability read model.
using availability_actor = caf::typed_actor<
  // Feed: a tour was created or replaced.
  caf::reacts_to<caf::put_atom, tour>,
  // Feed: the seat counts of one departure changed.
  caf::reacts_to<departure_counts>,
  // Seats left per date of a tour, dates in [from, to] (empty = open).
  caf::replies_to<caf::get_atom, std::string, std::string,
                  std::string>::with<availability_view>,
  // The tour as last seen.
  caf::replies_to<caf::get_atom, std::string>::with<tour>,
  // Every tour, ordered by id.
  caf::replies_to<list_atom>::with<std::vector<tour>>,
  // Price of `seats` seats on a tour and date; fails if either is unknown.
  caf::replies_to<quote_atom, std::string, std::string, int32_t>::with<quote>>;

/// Spawns the availability read model.
availability_actor spawn_availability(caf::actor_system& sys);

} // namespace booking
