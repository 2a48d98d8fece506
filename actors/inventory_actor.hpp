// Inventory: seats per tour and date, with holds, commits and releases.
//
// The wiring spawns N shards; the front desk and the coordinators route
// each tour to one of them by its id (`actors/shard.hpp`), each behind a pool
// of one, so a crashed shard can be replaced behind the same handle. Every
// operation is idempotent per booking id, so a saga may retry it safely. Each
// change is forwarded to the availability read model.

#pragma once

#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/availability_actor.hpp"
#include "actors/faults.hpp"
#include "actors/messages.hpp"
#include "actors/settings.hpp"
#include "actors/store/repositories.hpp"
#include "actors/store/store_actor.hpp"

namespace booking {

/// Interface of one inventory shard.
using inventory_actor = caf::typed_actor<
  // Creates or replaces a tour; true if created.
  caf::replies_to<caf::put_atom, tour>::with<bool>,
  // Holds seats for a booking (fails with sold_out, unknown_tour/date).
  caf::replies_to<reserve_atom, seat_hold>::with<departure_counts>,
  // Turns a booking's hold into sold seats.
  caf::replies_to<commit_atom, std::string>::with<departure_counts>,
  // Frees a booking's seats, held or sold; true if it had any.
  caf::replies_to<release_atom, std::string>::with<bool>,
  // Everything this shard holds.
  caf::replies_to<snapshot_atom>::with<inventory_snapshot>,
  // Forgets a booking whose saga has ended (sent with a durable store,
  // which keeps its hold); the seat counts keep its seats.
  caf::reacts_to<forget_atom, std::string>,
  caf::reacts_to<fresh_atom, std::string>,
  // Sends a reply parked for simulated latency.
  caf::reacts_to<deliver_atom, uint64_t>>;

/// What an inventory shard needs besides its repository.
struct inventory_options {
  availability_actor availability;
  /// Share of reserves, commits and releases that fail transiently.
  double error_rate = 0;
  caf::timespan latency{0};
  uint64_t seed = 1;
  /// While `outages->inventory` is on, every reserve, commit and release
  /// fails transiently, changing nothing; empty: never.
  std::shared_ptr<outage_switches> outages;
  /// The shard this one replaces after a crash, if any: the repository is
  /// not shared between threads, so this one keeps every message queued
  /// until that one is gone.
  caf::actor predecessor;
};

/// Spawns one inventory shard owning `repo`; with a `store`, every change
/// is written there (a new or changed tour is answered once committed).
inventory_actor spawn_inventory(caf::actor_system& sys,
                                std::shared_ptr<inventory_repository> repo,
                                inventory_options opts, store_actor store = {});

} // namespace booking
