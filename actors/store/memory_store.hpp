// In-memory implementations of the repository interfaces.
//
// They keep everything in standard containers and lose it on exit; the
// durable store replaces them behind the same interfaces.

#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>

#include "actors/store/keyed_table.hpp"
#include "actors/store/repositories.hpp"

namespace booking {

/// Bookings in an ordered map (ordered by id, for cursor pagination).
class memory_booking_repository : public booking_repository {
public:
  caf::expected<booking_record> insert(booking_record rec) override;
  caf::optional<booking_status> status_of(const std::string& id) const override;
  caf::expected<booking_record> apply(const booking_update& upd,
                                      caf::timestamp now) override;
  caf::optional<booking_record> find(const std::string& id) const override;
  std::vector<booking_record> list(const booking_filter& filter) const override;
  bool contains(const std::string& id) const override;
  void erase(const std::string& id) override;
  size_t size() const override;

private:
  /// A record in the set; ordered by its id, which never changes.
  struct stored {
    mutable booking_record rec;
  };

  /// Orders by id, and finds by a bare id without a copy of it.
  struct by_id {
    using is_transparent = void;
    static std::string_view id(const stored& x) {
      return x.rec.id;
    }
    static std::string_view id(std::string_view x) {
      return x;
    }
    template <class A, class B>
    bool operator()(const A& x, const B& y) const {
      return id(x) < id(y);
    }
  };

  std::set<stored, by_id> records_;
};

/// Tours, departures and holds of one inventory shard.
class memory_inventory_repository : public inventory_repository {
public:
  caf::expected<bool> upsert_tour(const tour& t) override;
  std::vector<departure_counts>
  departures_of(const std::string& tour_id) const override;
  caf::expected<departure_counts> reserve(const seat_hold& h) override;
  caf::expected<departure_counts>
  commit(const std::string& booking_id) override;
  caf::optional<departure_counts>
  release(const std::string& booking_id) override;
  caf::optional<seat_hold>
  hold_of(const std::string& booking_id) const override;
  inventory_snapshot snapshot() const override;
  void restore_counts(const departure_counts& c) override;
  void restore_hold(const seat_hold& h) override;
  void forget(const std::string& booking_id) override;

private:
  departure_counts* counts(const std::string& tour_id, const std::string& date);

  std::map<std::string, tour> tours_;
  /// Keyed by tour id, then date.
  std::map<std::string, std::map<std::string, departure_counts>> counts_;
  struct hold_key {
    std::string_view operator()(const seat_hold& h) const {
      return h.booking_id;
    }
  };
  keyed_table<seat_hold, hold_key> holds_;
};

/// Notifications behind a mutex, shared by the notification workers.
class memory_notification_repository : public notification_repository {
public:
  caf::optional<notification_record>
  find(const std::string& booking_id, notification_kind kind) const override;
  claim_result claim(const std::string& booking_id, notification_kind kind,
                     notification_record* sent) override;
  notification_record record_attempt(notification_record rec) override;
  caf::optional<notification_record> get(const std::string& id) const override;
  std::vector<notification_record> all() const override;
  std::vector<notification_record>
  list(const notification_filter& filter) const override;
  bool knows(const std::string& booking_id) const override;
  void restore(notification_record rec) override;
  void forget(const std::string& booking_id) override;

private:
  /// What one booking has: at most one notification of each kind.
  struct booking_notices {
    /// By kind, pointing into `by_id_` (its nodes stay put); null: none.
    std::array<notification_record*, notification_kinds> recs{};
    /// Kinds being delivered right now, one bit each.
    uint8_t claimed = 0;

    bool empty() const;
  };

  mutable std::mutex mtx_;
  std::map<std::string, notification_record> by_id_;
  std::unordered_map<std::string, booking_notices> by_booking_;
};

/// Idempotency keys in a hash map, with their insertion order for expiry.
class memory_idempotency_repository : public idempotency_repository {
public:
  caf::optional<idempotency_entry> find(const std::string& key) const override;
  void insert(idempotency_entry entry) override;
  size_t expire(caf::timestamp cutoff) override;

private:
  std::unordered_map<std::string, idempotency_entry> by_key_;
  /// Keys oldest first (entries are inserted with a growing timestamp).
  std::deque<std::string> order_;
};

} // namespace booking
