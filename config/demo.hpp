// `booking-server --demo N`: runs N bookings with a mix of the test payment
// tokens through the real sagas, cancels some of the confirmed ones, prints
// the outcomes and the invariant check, and tells whether every invariant
// holds.

#pragma once

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "config/wiring.hpp"

namespace booking {

/// The tours the demo books on (also a starting catalog for a new user).
std::vector<tour> demo_tours();

/// The `index`-th of a stream of random bookings over `tours`: 1 to
/// `max_seats` seats, mostly `tok_ok` plus every test token, ids and
/// correlation ids that name `label`.
booking_request random_booking(std::mt19937_64& gen,
                               const std::vector<tour>& tours, int32_t index,
                               int32_t max_seats, const std::string& label);

/// Runs the demo on `e`; returns 0 if every invariant holds, else 1.
int run_demo(caf::actor_system& sys, const engine& e, int32_t bookings,
             uint64_t seed, std::ostream& out);

} // namespace booking
