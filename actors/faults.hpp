// Fault injection helpers: a seeded die per actor, and replies delayed by a
// simulated latency.
//
// Each actor owns its own die, seeded from `faults.seed` and its index, so a
// run on the deterministic test scheduler is reproducible.

#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <unordered_map>

#include <caf/expected.hpp>
#include <caf/result.hpp>
#include <caf/timespan.hpp>

#include "actors/messages.hpp"

namespace booking {

/// A seeded random source for injected faults and jitter.
class fault_dice {
public:
  explicit fault_dice(uint64_t seed) : gen_(seed) {
    // nop
  }

  /// True with probability `rate`.
  bool roll(double rate) {
    if (rate <= 0)
      return false;
    if (rate >= 1)
      return true;
    return uniform() < rate;
  }

  /// A number in [0, 1).
  double uniform() {
    return std::uniform_real_distribution<double>{0.0, 1.0}(gen_);
  }

private:
  std::mt19937_64 gen_;
};

/// Outage switches: while one is on, every call to that role fails with a
/// transient error, whatever the rates say. The simulator flips them to open
/// and close an outage window; the actors only read them.
struct outage_switches {
  std::atomic<bool> inventory{false};
  std::atomic<bool> payment{false};
  std::atomic<bool> notification{false};
};

/// Mixes a base seed with an actor index into a new seed.
inline uint64_t derive_seed(uint64_t seed, uint64_t index) {
  uint64_t x = seed + 0x9e3779b97f4a7c15ULL * (index + 1);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Replies that wait for a simulated latency. The owning actor answers
/// `(deliver_atom, id)` by calling `deliver(id)`.
class delayed_replies {
public:
  /// Returns `value` now, or after `latency` if that is positive.
  template <class Self, class T>
  caf::result<T>
  reply(Self* self, caf::timespan latency, caf::expected<T> value) {
    if (latency.count() <= 0)
      return value;
    auto rp = self->template make_response_promise<T>();
    auto id = next_id_++;
    pending_.emplace(id, [rp, value]() mutable {
      if (value)
        rp.deliver(std::move(*value));
      else
        rp.deliver(value.error());
    });
    self->delayed_send(self, latency, deliver_atom::value, id);
    return rp;
  }

  /// Delivers `value` to `rp` now, or after `latency` if that is positive.
  template <class Self, class T>
  void reply_to(Self* self, caf::timespan latency,
                caf::typed_response_promise<T> rp, caf::expected<T> value) {
    auto f = [rp, value]() mutable {
      if (value)
        rp.deliver(std::move(*value));
      else
        rp.deliver(value.error());
    };
    if (latency.count() <= 0) {
      f();
      return;
    }
    auto id = next_id_++;
    pending_.emplace(id, std::move(f));
    self->delayed_send(self, latency, deliver_atom::value, id);
  }

  /// Sends the reply parked under `id`.
  void deliver(uint64_t id) {
    auto i = pending_.find(id);
    if (i == pending_.end())
      return;
    auto f = std::move(i->second);
    pending_.erase(i);
    f();
  }

private:
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, std::function<void()>> pending_;
};

} // namespace booking
