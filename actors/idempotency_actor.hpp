// Idempotency keys of booking requests: which booking a key created.
//
// The front desk claims a client's idempotency key before it creates a
// booking. The first claim binds the key to the caller's fresh booking id
// and the fingerprint of its request; every later claim with the same
// fingerprint gets that same id back, so the retry re-sends `create` with it
// and the saga coordinator (idempotent per booking id) starts nothing new.
// A claim with another fingerprint fails with `key_reused`. Keys are
// kept for `retention` at least.
//
//   self->request(idem, caf::infinite, claim_atom::value, key, fp, new_id)
//     .then([](const std::string& booking_id) { ... });

#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "actors/store/repositories.hpp"
#include "actors/store/store_actor.hpp"

namespace booking {

/// Interface of the idempotency key store.
using idempotency_actor = caf::typed_actor<
  // Claims (key, fingerprint) for `candidate`; answers with the booking id
  // bound to the key.
  caf::replies_to<claim_atom, std::string, std::string,
                  std::string>::with<std::string>>;

/// How long keys are remembered at least.
constexpr auto idempotency_retention = std::chrono::hours(24);

/// Spawns the idempotency key store owning `repo`; with a `store`, a new
/// key is answered once it is written there.
idempotency_actor
spawn_idempotency(caf::actor_system& sys,
                  std::shared_ptr<idempotency_repository> repo,
                  store_actor store = {});

} // namespace booking
