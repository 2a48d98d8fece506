// Narrow repository interfaces behind which the actors keep their state.
//
// Each call is one state change a saga step makes, so a durable store can
// implement it as one transaction. The in-memory implementations live in
// `memory_store.hpp`. A repository instance is owned by one actor, except
// the notification repository, which the pooled notification workers share
// (as they would share a database); that one must be thread-safe.

#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/optional.hpp>

#include "actors/messages.hpp"

namespace booking {

/// Booking records with their saga history.
class booking_repository {
public:
  virtual ~booking_repository() = default;

  /// Stores a new booking; fails with `duplicate` if the id exists.
  virtual caf::expected<booking_record> insert(booking_record rec) = 0;

  /// Applies a status change and history entries in one step.
  virtual caf::expected<booking_record>
  apply(const booking_update& upd, caf::timestamp now) = 0;

  /// Looks a booking up by id.
  virtual caf::optional<booking_record> find(const std::string& id) const = 0;

  /// Bookings matching `filter`, ordered by id, at most `filter.limit`.
  virtual std::vector<booking_record>
  list(const booking_filter& filter) const = 0;

  /// True if the booking is held here.
  virtual bool contains(const std::string& id) const = 0;

  /// The status of a booking held here.
  virtual caf::optional<booking_status>
  status_of(const std::string& id) const = 0;

  /// Forgets a booking (a durable store still holds it).
  virtual void erase(const std::string& id) = 0;

  /// Bookings held.
  virtual size_t size() const = 0;
};

/// Tours, seat counts per departure and per-booking holds.
class inventory_repository {
public:
  virtual ~inventory_repository() = default;

  /// Creates or replaces a tour. Returns true if it was created. Fails with
  /// `capacity_conflict` if a departure would drop below its taken seats.
  virtual caf::expected<bool> upsert_tour(const tour& t) = 0;

  /// Seat counts of every departure of a tour.
  virtual std::vector<departure_counts>
  departures_of(const std::string& tour_id) const = 0;

  /// Holds seats for a booking; idempotent per booking id.
  virtual caf::expected<departure_counts> reserve(const seat_hold& h) = 0;

  /// Turns a booking's hold into sold seats; idempotent.
  virtual caf::expected<departure_counts> commit(const std::string& booking_id)
    = 0;

  /// Frees a booking's seats, held or sold; none if it had none.
  virtual caf::optional<departure_counts> release(const std::string& booking_id)
    = 0;

  /// The seats of a booking, held or sold, if it has any.
  virtual caf::optional<seat_hold>
  hold_of(const std::string& booking_id) const = 0;

  /// Every departure and hold.
  virtual inventory_snapshot snapshot() const = 0;

  /// Sets the held and sold seats of a departure as an earlier run left
  /// them (the tour must be known).
  virtual void restore_counts(const departure_counts& c) = 0;

  /// Puts back a hold the counts already include, unless one is held.
  virtual void restore_hold(const seat_hold& h) = 0;

  /// Forgets a booking's hold; the counts keep its seats.
  virtual void forget(const std::string& booking_id) = 0;
};

/// Outgoing notifications and their delivery log. Thread-safe.
class notification_repository {
public:
  virtual ~notification_repository() = default;

  /// The notification of `booking_id` and `kind`, if one was recorded.
  virtual caf::optional<notification_record>
  find(const std::string& booking_id, notification_kind kind) const = 0;

  /// Outcome of `claim`.
  enum class claim_result {
    /// The caller may deliver, then must call `record_attempt`.
    claimed,
    /// Delivered before: nothing to do.
    already_sent,
    /// Another worker is delivering it right now.
    busy,
  };

  /// Reserves the delivery of (booking_id, kind) for the caller, so two
  /// workers never deliver the same notification at once. When it was
  /// delivered before and `sent` is set, `*sent` receives that record, read
  /// under the same lock (so a `forget` in between cannot take it away).
  virtual claim_result claim(const std::string& booking_id,
                             notification_kind kind, notification_record* sent)
    = 0;

  /// Records one delivery attempt and releases the claim. Creates the record
  /// on the first attempt and updates status and attempt count on later ones.
  virtual notification_record record_attempt(notification_record rec) = 0;

  /// Looks a notification up by its id.
  virtual caf::optional<notification_record>
  get(const std::string& id) const = 0;

  /// Every notification, ordered by id.
  virtual std::vector<notification_record> all() const = 0;

  /// True if a notification of `booking_id` is held.
  virtual bool knows(const std::string& booking_id) const = 0;

  /// Puts back a notification an earlier run stored, unless one of its
  /// booking and kind is held.
  virtual void restore(notification_record rec) = 0;

  /// Forgets the notifications of a booking (a durable store keeps them).
  virtual void forget(const std::string& booking_id) = 0;

  /// Notifications matching `filter`, ordered by id, at most `filter.limit`.
  virtual std::vector<notification_record>
  list(const notification_filter& filter) const = 0;
};

/// A client's idempotency key and the booking it created.
struct idempotency_entry {
  std::string key;
  /// Hash of the request the key was first used with.
  std::string fingerprint;
  std::string booking_id;
  caf::timestamp created_at;
};

/// Idempotency keys of booking requests, kept for a retention period.
class idempotency_repository {
public:
  virtual ~idempotency_repository() = default;

  /// The entry of `key`, if it is known.
  virtual caf::optional<idempotency_entry>
  find(const std::string& key) const = 0;

  /// Stores a new entry (the key is not known yet).
  virtual void insert(idempotency_entry entry) = 0;

  /// Forgets the entries created before `cutoff`; returns how many.
  virtual size_t expire(caf::timestamp cutoff) = 0;
};

} // namespace booking
