#include "actors/booking_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"

namespace booking {

namespace {

struct booking_state {
  std::shared_ptr<booking_repository> repo;
  store_actor store;
  static inline const char* name = "booking";
};

using booking_pointer = booking_actor::stateful_pointer<booking_state>;

/// `rec` without its history (which the store keeps row by row).
booking_record without_history(const booking_record& rec) {
  booking_record row;
  row.id = rec.id;
  row.status = rec.status;
  row.reason = rec.reason;
  row.tour_id = rec.tour_id;
  row.date = rec.date;
  row.seats = rec.seats;
  row.amount_cents = rec.amount_cents;
  row.currency = rec.currency;
  row.cust = rec.cust;
  row.correlation_id = rec.correlation_id;
  row.created_at = rec.created_at;
  row.updated_at = rec.updated_at;
  return row;
}

/// The rows a change of `rec` writes: the booking row when it is new or its
/// status changed (an entry alone only moves `updated_at`, which loading
/// takes from the last entry), the new history entries, the checkpoint and
/// the outbox events.
store_batch changes(const booking_pointer self, const booking_record& rec,
                    const booking_update* upd, bool fresh) {
  store_batch b;
  if (!self->state.store)
    return b;
  if (fresh || !upd || upd->has_status)
    b.bookings.push_back(without_history(rec));
  // A new booking's history is all new; an update adds its entries.
  auto& entries = fresh || !upd ? rec.saga : upd->entries;
  for (auto& e : entries)
    b.history.push_back(history_row{rec.id, e});
  if (upd) {
    if (upd->checkpoint)
      b.sagas.push_back(*upd->checkpoint);
    b.events = upd->events;
  }
  return b;
}

caf::result<booking_record> create(booking_pointer self, booking_record& rec,
                                   const booking_update* first) {
  auto stored = self->state.repo->insert(std::move(rec));
  if (!stored)
    return std::move(stored.error());
  auto b = changes(self, *stored, first, true);
  return persist_then_reply(self, self->state.store, std::move(b),
                            std::move(stored));
}

booking_actor::behavior_type
booking_impl(booking_pointer self, std::shared_ptr<booking_repository> repo,
             store_actor store) {
  self->state.repo = std::move(repo);
  self->state.store = std::move(store);
  return {
    [=](create_atom, booking_record& rec) -> caf::result<booking_record> {
      return create(self, rec, nullptr);
    },
    [=](create_atom, booking_record& rec, const booking_update& first)
      -> caf::result<booking_record> { return create(self, rec, &first); },
    [=](update_atom, const booking_update& upd) -> caf::result<booking_record> {
      auto rec = self->state.repo->apply(upd, caf::make_timestamp());
      if (!rec)
        return std::move(rec.error());
      auto b = changes(self, *rec, &upd, false);
      return persist_then_reply(self, self->state.store, std::move(b),
                                std::move(rec));
    },
    [=](record_atom, const booking_update& upd) {
      auto rec = self->state.repo->apply(upd, caf::make_timestamp());
      if (!rec) {
        log_line(log_level::error, "booking update failed",
                 {{"booking_id", upd.id}, {"error", describe(rec.error())}});
        return;
      }
      persist_later(self, self->state.store, changes(self, *rec, &upd, false));
    },
    [=](caf::get_atom, const std::string& id) -> caf::result<booking_record> {
      if (auto rec = self->state.repo->find(id))
        return std::move(*rec);
      return make_error(booking_errc::not_found, id);
    },
    [=](list_atom, const booking_filter& filter) {
      return self->state.repo->list(filter);
    },
  };
}

} // namespace

booking_actor spawn_booking(caf::actor_system& sys,
                            std::shared_ptr<booking_repository> repo,
                            store_actor store) {
  return sys.spawn(booking_impl, std::move(repo), std::move(store));
}

} // namespace booking
