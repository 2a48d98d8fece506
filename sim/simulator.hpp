// The saga failure simulator: runs a scenario against the real engine and
// reports what happened and whether every invariant held.
//
// The engine is the one `booking-server` runs, spawned by the same
// `start_engine`; the simulator only plays the clients (a driver actor that
// keeps `sim.concurrency` bookings in flight) and the faults (crashed
// workers, outage windows, a broker outage, a killed process). The verdict
// comes from the invariant checker the tests use.
//
//   booking::booking_config cfg{booking::program::simulator};
//   if (auto rc = booking::early_exit(booking::load_config(cfg, argc, argv)))
//     return *rc;
//   auto report = booking::run_scenario(cfg);
//   booking::write_text(report, std::cout);
//   return report.ok() ? 0 : 1;

#pragma once

#include <functional>

#include "actors/saga/booking_saga.hpp"
#include "config/booking_config.hpp"
#include "sim/report.hpp"

namespace booking {

/// Test hooks of a run.
struct sim_hooks {
  /// Applied to the saga tables before use (tests break one here to prove
  /// the simulator notices).
  std::function<void(saga_tables&)> adjust_tables;
};

/// Runs the scenario of `cfg`, which `load_config` filled for
/// `program::simulator`. In deterministic mode it changes the scheduler
/// setting of `cfg`. Throws `std::runtime_error` if the run cannot start
/// (store, broker, tours).
sim_report run_scenario(booking_config& cfg, const sim_hooks& hooks = {});

/// The bookings a scenario requests, in order: the same seed gives the same
/// requests, ids included (time-ordered UUID v7 text from a fixed epoch).
std::vector<booking_request> scenario_requests(const scenario_settings& sc);

/// The tours of a scenario: `tour-1`..`tour-N`, each with `dates`
/// departures of `capacity` seats.
std::vector<tour> scenario_tours(const scenario_settings& sc);

} // namespace booking
