// The checks of a scenario that no single key shows: seat counts, a crash
// point inside the run, a fresh store for a process crash, a broker for a
// broker outage, and what deterministic mode rules out. booking-sim installs
// them as `booking_config::check`, so a bad scenario exits 2 naming the key,
// like any bad option.
//
//   booking::booking_config cfg{booking::program::simulator};
//   cfg.check = booking::check_scenario;
//   booking::load_config(cfg, argc, argv);

#pragma once

#include <optional>
#include <string>

#include "config/booking_config.hpp"

namespace booking {

/// The line naming the key at fault in the scenario of `cfg`, or none.
std::optional<std::string> check_scenario(const booking_config& cfg);

} // namespace booking
