#include "actors/booking_actor.hpp"

#include <list>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"

namespace booking {

namespace {

/// Finished bookings held in memory, least recently used last.
class finished_list {
public:
  /// Puts `id` first.
  void use(const std::string& id) {
    auto i = where_.find(id);
    if (i != where_.end()) {
      order_.splice(order_.begin(), order_, i->second);
      return;
    }
    order_.push_front(id);
    where_.emplace(id, order_.begin());
  }

  /// Moves `id` to the front if it is listed.
  void touch(const std::string& id) {
    if (auto i = where_.find(id); i != where_.end())
      order_.splice(order_.begin(), order_, i->second);
  }

  /// Takes `id` off the list (its booking is in flight again).
  void remove(const std::string& id) {
    if (auto i = where_.find(id); i != where_.end()) {
      order_.erase(i->second);
      where_.erase(i);
    }
  }

  size_t size() const {
    return where_.size();
  }

  /// Takes the least recently used id off the list.
  std::string pop() {
    auto id = std::move(order_.back());
    order_.pop_back();
    where_.erase(id);
    return id;
  }

private:
  std::list<std::string> order_;
  std::unordered_map<std::string, std::list<std::string>::iterator> where_;
};

struct booking_state {
  std::shared_ptr<booking_repository> repo;
  store_actor store;
  booking_cache cache;
  finished_list finished;
  /// Without a store: the parked sagas of compensation_failed bookings, by
  /// booking id (with one, the store keeps them).
  std::unordered_map<std::string, saga_checkpoint> parked;
  static inline const char* name = "booking";
};

using booking_pointer = booking_actor::stateful_pointer<booking_state>;

using booking_promise = caf::typed_response_promise<booking_record>;

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

/// Counts booking `rec`'s move from status `from` (none: it is new) to its
/// own, in the tally and, with a store, in batch `b`.
void count_status(booking_pointer self, store_batch& b,
                  caf::optional<booking_status> from,
                  const booking_record& rec) {
  if (from && *from == rec.status)
    return;
  if (auto& tally = self->state.cache.by_status) {
    if (from)
      tally->add(*from, -1);
    tally->add(rec.status, 1);
  }
  if (!self->state.store)
    return;
  b.status_deltas.resize(6);
  if (from)
    --b.status_deltas[static_cast<size_t>(*from)];
  ++b.status_deltas[static_cast<size_t>(rec.status)];
}

/// Runs `f` after a change of the bookings held: with a store, a booking
/// whose saga just ended joins the finished ones, one whose saga runs
/// leaves them, and the least recently used beyond the capacity leave
/// memory (the store holds them). Keeps the shared count up to date.
template <class F>
auto held_change(booking_pointer self, F f) {
  auto& st = self->state;
  auto before = static_cast<int64_t>(st.repo->size());
  auto result = f();
  if (st.store)
    while (st.finished.size() > st.cache.capacity)
      st.repo->erase(st.finished.pop());
  if (st.cache.held)
    *st.cache.held += static_cast<int64_t>(st.repo->size()) - before;
  return result;
}

/// Notes whether the saga of `upd`'s booking goes on or has ended (a
/// parked saga has ended until it is re-driven).
void note_saga(booking_pointer self, const booking_update& upd) {
  if (!upd.checkpoint)
    return;
  auto& st = self->state;
  auto& cp = *upd.checkpoint;
  if (!st.store) {
    if (cp.parked())
      st.parked[upd.id] = cp;
    else
      st.parked.erase(upd.id);
  }
  if (cp.done || cp.parked())
    st.finished.use(upd.id);
  else
    st.finished.remove(upd.id);
}

/// Runs `f` once booking `id` is in memory: at once if it is there or there
/// is no store, else after reading it back from the store. Until then the
/// shard takes no other message, so they all see the booking as `f` left
/// it. A booking the store does not know either runs `f` all the same
/// (which then reports it missing).
template <class F>
void with_booking(booking_pointer self, const std::string& id, F f) {
  auto& st = self->state;
  if (!st.store || st.repo->contains(id)) {
    f();
    return;
  }
  self->request(st.store, caf::infinite, caf::get_atom::value, id)
    .await(
      [self, f](booking_record& rec) mutable {
        held_change(self, [&] {
          auto id = rec.id;
          if (self->state.repo->insert(std::move(rec)))
            self->state.finished.use(id);
          return true;
        });
        f();
      },
      [f](caf::error&) mutable { f(); });
}

/// Applies `upd` and answers `rp` (if valid) once the change is stored.
void update(booking_pointer self, const booking_update& upd,
            booking_promise rp) {
  auto& st = self->state;
  caf::optional<booking_status> before;
  if (upd.has_status)
    before = st.repo->status_of(upd.id);
  auto rec = held_change(self, [&] {
    auto result = st.repo->apply(upd, caf::make_timestamp());
    if (result)
      note_saga(self, upd);
    return result;
  });
  if (!rec) {
    if (rp.pending())
      rp.deliver(std::move(rec.error()));
    else
      log_line(log_level::error, "booking update failed",
               {{"booking_id", upd.id},
                upd.checkpoint ? log_trace(upd.checkpoint->req.trace)
                               : log_field{nullptr, {}},
                {"error", describe(rec.error())}});
    return;
  }
  auto b = changes(self, *rec, &upd, false);
  if (before)
    count_status(self, b, before, *rec);
  if (!rp.pending()) {
    persist_later(self, st.store, std::move(b));
    return;
  }
  if (!st.store || b.empty()) {
    rp.deliver(std::move(*rec));
    return;
  }
  self->request(st.store, caf::infinite, persist_atom::value, std::move(b))
    .then([rp, rec](bool) mutable { rp.deliver(std::move(*rec)); },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
}

caf::result<booking_record> create(booking_pointer self, booking_record& rec,
                                   const booking_update* first) {
  // A new booking's saga is in flight: it is not one of the finished.
  auto stored = held_change(self, [&] {
    return self->state.repo->insert(std::move(rec));
  });
  if (!stored)
    return std::move(stored.error());
  auto b = changes(self, *stored, first, true);
  count_status(self, b, caf::none, *stored);
  return persist_then_reply(self, self->state.store, std::move(b),
                            std::move(stored));
}

booking_actor::behavior_type
booking_impl(booking_pointer self, std::shared_ptr<booking_repository> repo,
             store_actor store, booking_cache cache) {
  self->state.repo = std::move(repo);
  self->state.store = std::move(store);
  self->state.cache = std::move(cache);
  if (self->state.cache.held)
    *self->state.cache.held += static_cast<int64_t>(self->state.repo->size());
  return {
    [=](create_atom, booking_record& rec) -> caf::result<booking_record> {
      return create(self, rec, nullptr);
    },
    [=](create_atom, booking_record& rec, const booking_update& first)
      -> caf::result<booking_record> { return create(self, rec, &first); },
    [=](update_atom, booking_update& upd) -> caf::result<booking_record> {
      auto rp = self->make_response_promise<booking_record>();
      with_booking(self, upd.id, [=] { update(self, upd, rp); });
      return rp;
    },
    [=](record_atom, booking_update& upd) {
      with_booking(self, upd.id, [=] { update(self, upd, {}); });
    },
    [=](caf::get_atom, const std::string& id) -> caf::result<booking_record> {
      auto& st = self->state;
      if (auto rec = st.repo->find(id)) {
        st.finished.touch(id);
        return std::move(*rec);
      }
      if (st.store)
        return self->delegate(st.store, caf::get_atom::value, id);
      return make_error(booking_errc::not_found, id);
    },
    [=](caf::get_atom, saga_atom,
        const std::string& id) -> caf::result<saga_checkpoint> {
      auto& st = self->state;
      if (st.store)
        return self->delegate(st.store, caf::get_atom::value, saga_atom::value,
                              id);
      if (auto i = st.parked.find(id); i != st.parked.end())
        return i->second;
      return make_error(booking_errc::not_found, id);
    },
    [=](list_atom, const booking_filter& filter) {
      return self->state.repo->list(filter);
    },
  };
}

} // namespace

void status_tally::reset(const std::vector<int64_t>& counts) {
  for (size_t i = 0; i < counts_.size(); ++i)
    counts_[i] = i < counts.size() ? counts[i] : 0;
}

booking_summary status_tally::summary() const {
  booking_summary result;
  for (size_t i = 0; i < counts_.size(); ++i)
    result.by_status[to_string(static_cast<booking_status>(i))] = counts_[i];
  return result;
}

booking_actor spawn_booking(caf::actor_system& sys,
                            std::shared_ptr<booking_repository> repo,
                            store_actor store, booking_cache cache) {
  return sys.spawn(booking_impl, std::move(repo), std::move(store),
                   std::move(cache));
}

} // namespace booking
