// What the durable store writes and what it hands back at start.
//
// The actors keep their working state in the in-memory repositories; every
// state change they make is also described as rows in a `store_batch`, and
// the actor answers only once the store actor has committed that batch. At
// start the store loads everything back into a `stored_state`.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "actors/messages.hpp"
#include "actors/store/repositories.hpp"

namespace booking {

/// One saga history entry of one booking, appended to its history.
struct history_row {
  std::string booking_id;
  saga_entry entry;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_row& x) {
  return f(caf::meta::type_name("history_row"), x.booking_id, x.entry);
}

/// A payment as the simulated gateway keeps it: the token and the count of
/// transient failures it already gave decide how it answers later calls.
struct payment_row {
  payment_intent intent;
  std::string token;
  int32_t failed_authorizations = 0;
  int32_t failed_reversals = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_row& x) {
  return f(caf::meta::type_name("payment_row"), x.intent, x.token,
           x.failed_authorizations, x.failed_reversals);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, idempotency_entry& x) {
  return f(caf::meta::type_name("idempotency_entry"), x.key, x.fingerprint,
           x.booking_id, x.created_at);
}

/// An event in the outbox: published, then deleted once the broker confirms.
struct outbox_row {
  /// Position in the outbox (publishing order); assigned by the store.
  int64_t seq = 0;
  domain_event event;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbox_row& x) {
  return f(caf::meta::type_name("outbox_row"), x.seq, x.event);
}

/// Rows to write in one transaction. Applied in the order of the members.
struct store_batch {
  /// Inserted or replaced (the history goes to `history`).
  std::vector<booking_record> bookings;
  /// Appended to the bookings' histories.
  std::vector<history_row> history;
  /// Inserted or replaced; deleted when `done`.
  std::vector<saga_checkpoint> sagas;
  /// Appended to the outbox (their `seq` is ignored).
  std::vector<domain_event> events;
  /// Inserted or replaced.
  std::vector<tour> tours;
  /// Held and sold seats of departures (written after `tours`).
  std::vector<departure_counts> counts;
  /// Inserted or replaced (keyed by booking id).
  std::vector<seat_hold> holds;
  /// Booking ids whose holds are deleted.
  std::vector<std::string> released;
  /// Inserted or replaced (keyed by booking id).
  std::vector<payment_row> payments;
  /// Inserted or replaced (keyed by notification id).
  std::vector<notification_record> notifications;
  /// Inserted (keyed by key).
  std::vector<idempotency_entry> keys;
  /// Keys created before this time are deleted (zero: none).
  caf::timestamp keys_expire_before;
  /// Outbox entries the broker confirmed: deleted.
  std::vector<int64_t> published;
  /// Changes of the number of bookings per status, indexed by
  /// `booking_status` (empty: none), added to the stored counts.
  std::vector<int64_t> status_deltas;

  bool empty() const {
    return bookings.empty() && history.empty() && sagas.empty()
           && events.empty() && tours.empty() && counts.empty() && holds.empty()
           && released.empty() && payments.empty() && notifications.empty()
           && keys.empty() && published.empty() && status_deltas.empty()
           && keys_expire_before.time_since_epoch().count() == 0;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_batch& x) {
  return f(caf::meta::type_name("store_batch"), x.bookings, x.history, x.sagas,
           x.events, x.tours, x.counts, x.holds, x.released, x.payments,
           x.notifications, x.keys, x.keys_expire_before, x.published,
           x.status_deltas);
}

/// What the store holds, as loaded at start (see `load_scope`): the
/// bookings, holds, payments and notifications of unfinished sagas, or
/// of every booking.
struct stored_state {
  /// With their histories, ordered by id.
  std::vector<booking_record> bookings;
  /// Sagas that had not ended.
  std::vector<saga_checkpoint> sagas;
  /// Unconfirmed events (their rows stay in the table until published).
  int64_t outbox_events = 0;
  std::vector<tour> tours;
  /// Seat counts of every departure (of every hold, loaded or not).
  std::vector<departure_counts> counts;
  std::vector<seat_hold> holds;
  std::vector<payment_row> payments;
  std::vector<notification_record> notifications;
  std::vector<idempotency_entry> keys;
  /// Bookings per status, indexed by `booking_status`, over the whole file.
  std::vector<int64_t> status_counts;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stored_state& x) {
  return f(caf::meta::type_name("stored_state"), x.bookings, x.sagas,
           x.outbox_events, x.tours, x.counts, x.holds, x.payments,
           x.notifications, x.keys, x.status_counts);
}

/// What the participants keep of one booking, as the store holds it: read
/// back when a booking that left memory is worked on again.
struct booking_parts {
  /// None or one.
  std::vector<seat_hold> holds;
  /// None or one.
  std::vector<payment_row> payments;
  std::vector<notification_record> notifications;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_parts& x) {
  return f(caf::meta::type_name("booking_parts"), x.holds, x.payments,
           x.notifications);
}

} // namespace booking
