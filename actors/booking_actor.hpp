// Booking records and their status history.
//
// The wiring spawns several shards; the front desk and the coordinators
// route each booking by its id (`actors/shard.hpp`). The saga coordinator is
// the only writer of a booking's status; readers (HTTP, reports) get copies.
//
// With a durable store, memory holds the bookings whose saga is in flight
// and a bounded cache of finished ones (their saga's checkpoint said done),
// most recently used first; the others live only in the store. A read of
// one of those goes to the store; an update first reads it back (holding
// the shard's other messages, so they keep their order), then applies.
// Without a store every booking stays.

#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "actors/store/repositories.hpp"
#include "actors/store/store_actor.hpp"

namespace booking {

/// Interface of one booking shard.
using booking_actor = caf::typed_actor<
  // Stores a new pending booking.
  caf::replies_to<create_atom, booking_record>::with<booking_record>,
  // Stores a new pending booking with the checkpoint and events of the
  // update (its saga's start) in one transaction; the update's status and
  // entries are not used.
  caf::replies_to<create_atom, booking_record,
                  booking_update>::with<booking_record>,
  // Applies a status change and saga history entries at once; answers with
  // the booking as stored.
  caf::replies_to<update_atom, booking_update>::with<booking_record>,
  // The same without an answer, for history entries nobody waits on.
  caf::reacts_to<record_atom, booking_update>,
  // One booking by id (fails with not_found).
  caf::replies_to<caf::get_atom, std::string>::with<booking_record>,
  // The parked saga of a compensation_failed booking, by booking id: the
  // checkpoint its saga (the booking's or its cancellation's) ended with
  // (fails with not_found).
  caf::replies_to<caf::get_atom, saga_atom, std::string>::with<saga_checkpoint>,
  // Bookings of this shard matching a filter, ordered by id.
  caf::replies_to<list_atom,
                  booking_filter>::with<std::vector<booking_record>>>;

/// Bookings per status over every shard, and with a store over those that
/// left memory too: the shards count each booking they create and each
/// status change they apply (with a store, in the same transactions, so the
/// file's counts start the next run).
class status_tally {
public:
  /// Starts from counts indexed by `booking_status` (as the store loads
  /// them); missing ones are 0.
  void reset(const std::vector<int64_t>& counts);

  void add(booking_status x, int64_t n) {
    counts_[static_cast<size_t>(x)] += n;
  }

  /// Every status, 0 when none.
  booking_summary summary() const;

private:
  std::array<std::atomic<int64_t>, 6> counts_{};
};

/// How many finished bookings a shard keeps, and where it counts the
/// bookings it holds.
struct booking_cache {
  /// Finished bookings kept in memory (with a store only).
  size_t capacity = 0;
  /// Bookings held in memory, summed over every shard; may be null.
  std::shared_ptr<std::atomic<int64_t>> held;
  /// Bookings per status; may be null.
  std::shared_ptr<status_tally> by_status;
};

/// Spawns one booking shard owning `repo`. With a `store`, every change
/// (with the saga checkpoint and the events of an update) is written there
/// and answered once committed, and finished bookings beyond
/// `cache.capacity` leave memory.
booking_actor spawn_booking(caf::actor_system& sys,
                            std::shared_ptr<booking_repository> repo,
                            store_actor store = {}, booking_cache cache = {});

} // namespace booking
