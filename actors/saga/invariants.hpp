// The invariant checker: the product's invariants over a snapshot of the
// whole engine.
//
// Tests, the stress test, `booking-server --demo` and the simulator all use
// this one checker. It is a pure function of the snapshot, so a test can feed
// it a deliberately broken world.
//
//   auto world = collect_world(...);          // see config/wiring.hpp
//   auto report = check_invariants(world);
//   if (!report.ok()) std::cerr << report.to_text();

#pragma once

#include <string>
#include <vector>

#include "actors/messages.hpp"

namespace booking {

/// Everything the invariants talk about, read at one moment.
struct world_snapshot {
  std::vector<booking_record> bookings;
  std::vector<inventory_snapshot> inventory;
  std::vector<payment_intent> payments;
  std::vector<notification_record> notifications;
  /// Sagas still running.
  int64_t sagas_in_flight = 0;
  /// True if the engine had gone idle (no saga running, no work queued).
  bool quiescent = true;
  /// Ids of bookings the engine acknowledged to a client (202/201, acked).
  std::vector<std::string> acknowledged;
};

/// The verdict on one invariant.
struct invariant_result {
  /// Number in the product spec, 1 to 6.
  int id = 0;
  std::string name;
  bool passed = true;
  /// Bookings (or departures, as tour/date) that break it.
  std::vector<std::string> offenders;
  /// The first few problems, in words.
  std::vector<std::string> details;
};

/// The verdict on every invariant.
struct invariant_report {
  std::vector<invariant_result> results;

  /// True if every invariant holds.
  bool ok() const;

  /// A readable table, one line per invariant plus details of failures.
  std::string to_text() const;
};

/// Checks the six invariants of the product spec against `world`.
invariant_report check_invariants(const world_snapshot& world);

} // namespace booking
