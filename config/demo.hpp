// `booking-server --demo N`: runs N bookings with a mix of the test payment
// tokens through the real sagas, cancels some of the confirmed ones, prints
// the outcomes and the invariant check, and tells whether every invariant
// holds.

#pragma once

#include <cstdint>
#include <ostream>

#include <caf/actor_system.hpp>

#include "config/wiring.hpp"

namespace booking {

/// The tours the demo books on (also a starting catalog for a new user).
std::vector<tour> demo_tours();

/// Runs the demo on `e`; returns 0 if every invariant holds, else 1.
int run_demo(caf::actor_system& sys, const engine& e, int32_t bookings,
             uint64_t seed, std::ostream& out);

} // namespace booking
