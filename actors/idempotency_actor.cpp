#include "actors/idempotency_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"

namespace booking {

namespace {

/// Expired keys are swept every this many new keys, so a sweep costs little
/// per claim and the map never holds more than a day plus one sweep.
constexpr size_t sweep_interval = 1024;

struct idempotency_state {
  std::shared_ptr<idempotency_repository> repo;
  store_actor store;
  size_t since_sweep = 0;
  static inline const char* name = "idempotency";
};

idempotency_actor::behavior_type
idempotency_impl(idempotency_actor::stateful_pointer<idempotency_state> self,
                 std::shared_ptr<idempotency_repository> repo,
                 store_actor store) {
  self->state.repo = std::move(repo);
  self->state.store = std::move(store);
  return {
    [=](claim_atom, const std::string& key, const std::string& fingerprint,
        const std::string& candidate) -> caf::result<std::string> {
      auto& st = self->state;
      auto now = caf::make_timestamp();
      store_batch b;
      auto expire = [&] {
        st.repo->expire(now - idempotency_retention);
        if (st.store)
          b.keys_expire_before = now - idempotency_retention;
      };
      if (auto known = st.repo->find(key)) {
        if (known->created_at >= now - idempotency_retention) {
          if (known->fingerprint != fingerprint)
            return make_error(booking_errc::key_reused);
          return known->booking_id;
        }
        expire();
      }
      if (++st.since_sweep >= sweep_interval) {
        st.since_sweep = 0;
        expire();
      }
      idempotency_entry entry{key, fingerprint, candidate, now};
      st.repo->insert(entry);
      if (st.store)
        b.keys.push_back(std::move(entry));
      // The key is answered once it is durable, so a retry after a crash
      // finds the booking it was bound to.
      return persist_then_reply(self, st.store, std::move(b),
                                caf::expected<std::string>{candidate});
    },
  };
}

} // namespace

idempotency_actor
spawn_idempotency(caf::actor_system& sys,
                  std::shared_ptr<idempotency_repository> repo,
                  store_actor store) {
  return sys.spawn(idempotency_impl, std::move(repo), std::move(store));
}

} // namespace booking
