#include "actors/inventory_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/faults.hpp"
#include "actors/store/read_back.hpp"

namespace booking {

namespace {

struct inventory_state {
  std::shared_ptr<inventory_repository> repo;
  store_actor store;
  inventory_options opts;
  fault_dice dice{1};
  delayed_replies delayed;
  /// Holds being read back from the store.
  read_back loads;
  /// The shard this one replaces, until it is gone.
  caf::actor_addr predecessor;
  static inline const char* name = "inventory";
};

using inventory_pointer = inventory_actor::stateful_pointer<inventory_state>;

/// True until the shard this one replaces is gone: messages wait queued.
bool waiting(inventory_pointer self) {
  return static_cast<bool>(self->state.predecessor);
}

// Injected faults fail before any effect, like a lost database connection.
// An outage fails every call and rolls nothing.
bool injected_failure(inventory_pointer self) {
  auto& st = self->state;
  if (st.opts.outages
      && st.opts.outages->inventory.load(std::memory_order_relaxed))
    return true;
  return st.dice.roll(st.opts.error_rate);
}

void publish(inventory_pointer self, const departure_counts& c) {
  self->send(self->state.opts.availability, c);
}

/// Sends `changes` to the store and answers (after the simulated latency)
/// without waiting for the commit (see `persist_later` on why that is safe).
template <class T>
caf::result<T>
reply(inventory_pointer self, caf::expected<T> x, store_batch changes = {}) {
  auto& st = self->state;
  persist_later(self, st.store, std::move(changes));
  return st.delayed.reply(self, st.opts.latency, std::move(x));
}

/// The hold of `booking_id` as it is now, and the counts of its departure,
/// to be written.
store_batch hold_changes(inventory_pointer self, const std::string& id,
                         const departure_counts& c) {
  store_batch b;
  if (!self->state.store)
    return b;
  if (auto h = self->state.repo->hold_of(id))
    b.holds.push_back(std::move(*h));
  else
    b.released.push_back(id);
  b.counts.push_back(c);
  return b;
}

/// An answer and the changes to store with it.
template <class T>
using outcome = std::pair<caf::expected<T>, store_batch>;

/// Runs `f` once the hold of `booking_id` is in memory (see `read_back`),
/// sends the changes it returns to the store and answers with its value.
/// An injected failure is decided at once, so the faults keep the order of
/// the calls, and fails before anything is read or changed.
template <class T, class F>
caf::result<T>
on_booking(inventory_pointer self, const std::string& booking_id, F f) {
  auto& st = self->state;
  if (injected_failure(self))
    return reply<T>(self,
                    make_error(booking_errc::inventory_error, "injected"));
  if (!st.store) {
    auto [x, b] = f();
    return reply(self, std::move(x), std::move(b));
  }
  auto rp = self->make_response_promise<T>();
  auto restore = [self](booking_parts& parts) {
    for (auto& h : parts.holds)
      self->state.repo->restore_hold(h);
  };
  st.loads.run(self, st.store, booking_id,
               static_cast<bool>(st.repo->hold_of(booking_id)), restore,
               [self, rp, f]() mutable {
                 auto& st = self->state;
                 auto [x, b] = f();
                 persist_later(self, st.store, std::move(b));
                 st.delayed.reply_to(self, st.opts.latency, rp, std::move(x));
               });
  return rp;
}

inventory_actor::behavior_type
inventory_impl(inventory_pointer self,
               std::shared_ptr<inventory_repository> repo, store_actor store,
               inventory_options opts) {
  self->state.repo = std::move(repo);
  self->state.store = std::move(store);
  self->state.dice = fault_dice{opts.seed};
  self->state.opts = std::move(opts);
  if (auto& pred = self->state.opts.predecessor) {
    // A restart: the crashed shard may still be finishing its last message
    // on another thread. Its down message releases what queued up here.
    self->state.predecessor = pred.address();
    self->monitor(pred);
    pred = nullptr;
    self->set_down_handler([=](caf::down_msg& dm) {
      if (dm.source == self->state.predecessor)
        self->state.predecessor = nullptr;
    });
  }
  return {
    [=](caf::put_atom, const tour& t) -> caf::result<bool> {
      if (waiting(self))
        return caf::skip;
      auto created = self->state.repo->upsert_tour(t);
      if (!created)
        return std::move(created.error());
      // Availability sees the tour before the caller gets the reply, so a
      // booking sent after the reply finds it there.
      self->send(self->state.opts.availability, caf::put_atom::value, t);
      for (auto& c : self->state.repo->departures_of(t.id))
        publish(self, c);
      store_batch b;
      if (self->state.store) {
        b.tours.push_back(t);
        // Rewriting the departures resets their counts: they come along.
        b.counts = self->state.repo->departures_of(t.id);
      }
      return persist_then_reply(self, self->state.store, std::move(b),
                                std::move(created));
    },
    [=](reserve_atom, const seat_hold& h) -> caf::result<departure_counts> {
      if (waiting(self))
        return caf::skip;
      return on_booking<departure_counts>(self, h.booking_id, [self, h] {
        auto c = self->state.repo->reserve(h);
        if (!c)
          return outcome<departure_counts>{std::move(c), {}};
        publish(self, *c);
        return outcome<departure_counts>{std::move(c),
                                         hold_changes(self, h.booking_id, *c)};
      });
    },
    [=](commit_atom,
        const std::string& booking_id) -> caf::result<departure_counts> {
      if (waiting(self))
        return caf::skip;
      return on_booking<departure_counts>(self, booking_id, [self, booking_id] {
        auto c = self->state.repo->commit(booking_id);
        if (!c)
          return outcome<departure_counts>{std::move(c), {}};
        publish(self, *c);
        return outcome<departure_counts>{std::move(c),
                                         hold_changes(self, booking_id, *c)};
      });
    },
    [=](release_atom, const std::string& booking_id) -> caf::result<bool> {
      if (waiting(self))
        return caf::skip;
      return on_booking<bool>(self, booking_id, [self, booking_id] {
        auto c = self->state.repo->release(booking_id);
        if (!c)
          return outcome<bool>{false, {}};
        publish(self, *c);
        return outcome<bool>{true, hold_changes(self, booking_id, *c)};
      });
    },
    [=](forget_atom, const std::string& booking_id) -> caf::result<void> {
      if (waiting(self))
        return caf::skip;
      // After the calls that wait for this booking, if any; only what a
      // store keeps may go.
      auto& st = self->state;
      if (!st.store)
        return caf::result<void>{};
      st.loads.run(
        self, st.store, booking_id, true, [](booking_parts&) {},
        [self, booking_id] {
          self->state.repo->forget(booking_id);
          self->state.loads.forget(booking_id);
        });
      return caf::result<void>{};
    },
    [=](fresh_atom, const std::string& booking_id) -> caf::result<void> {
      if (waiting(self))
        return caf::skip;
      self->state.loads.fresh(booking_id);
      return caf::result<void>{};
    },
    [=](snapshot_atom) -> caf::result<inventory_snapshot> {
      if (waiting(self))
        return caf::skip;
      return self->state.repo->snapshot();
    },
    [=](deliver_atom, uint64_t) { self->state.delayed.deliver(self); },
  };
}

} // namespace

inventory_actor spawn_inventory(caf::actor_system& sys,
                                std::shared_ptr<inventory_repository> repo,
                                inventory_options opts, store_actor store) {
  return sys.spawn(inventory_impl, std::move(repo), std::move(store),
                   std::move(opts));
}

} // namespace booking
