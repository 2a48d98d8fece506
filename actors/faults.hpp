// Fault injection helpers: a seeded die per actor, and replies delayed by a
// simulated latency.
//
// Each actor owns its own die, seeded from `faults.seed` and its index, so a
// run on the deterministic test scheduler is reproducible.

#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <queue>
#include <random>

#include <caf/actor_clock.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/optional.hpp>
#include <caf/response_promise.hpp>
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

/// Replies that wait for a simulated latency.
///
/// The parked replies sit in one queue ordered by due time (then by arrival),
/// and one timer message is out for the earliest: the owning actor answers
/// `(deliver_atom, due)` by calling `deliver(self)`. A parked reply costs one
/// queue entry and its reply message, with no timer of its own.
class delayed_replies {
public:
  /// Returns `value` now, or after `latency` if that is positive.
  template <class Self, class T>
  caf::result<T>
  reply(Self* self, caf::timespan latency, caf::expected<T> value) {
    if (latency.count() <= 0)
      return value;
    auto rp = self->template make_response_promise<T>();
    park(self, latency, rp, std::move(value));
    return rp;
  }

  /// Delivers `value` to `rp` now, or after `latency` if that is positive.
  template <class Self, class T>
  void reply_to(Self* self, caf::timespan latency,
                caf::typed_response_promise<T> rp, caf::expected<T> value) {
    if (latency.count() > 0) {
      park(self, latency, std::move(rp), std::move(value));
      return;
    }
    if (value)
      rp.deliver(std::move(*value));
    else
      rp.deliver(std::move(value.error()));
  }

  /// Sends every reply that is due, and sets the timer for the next one.
  template <class Self>
  void deliver(Self* self) {
    auto now = self->clock().now();
    if (armed_ && *armed_ <= now)
      armed_ = caf::none;
    while (!queue_.empty() && queue_.top().due <= now) {
      // `top` is const: take the entry's parts before popping it.
      auto& top = const_cast<parked&>(queue_.top());
      auto rp = std::move(top.rp);
      auto value = std::move(top.value);
      auto err = std::move(top.err);
      queue_.pop();
      // A value's message holds it; an empty one stands for the error.
      if (value.empty())
        rp.deliver(std::move(err));
      else
        rp.deliver(std::move(value));
    }
    if (!queue_.empty())
      arm(self, queue_.top().due);
  }

private:
  using time_point = caf::actor_clock::time_point;

  struct parked {
    time_point due;
    uint64_t seq;
    caf::response_promise rp;
    /// The reply; empty when it is `err`.
    caf::message value;
    caf::error err;
  };

  /// Orders the queue's top to the earliest due, first come first.
  struct later {
    bool operator()(const parked& x, const parked& y) const {
      return x.due != y.due ? x.due > y.due : x.seq > y.seq;
    }
  };

  template <class Self, class T>
  void park(Self* self, caf::timespan latency, caf::response_promise rp,
            caf::expected<T> value) {
    auto due = self->clock().now() + latency;
    parked p{due, next_seq_++, std::move(rp), caf::message{}, caf::error{}};
    if (value)
      p.value = caf::make_message(std::move(*value));
    else
      p.err = std::move(value.error());
    queue_.push(std::move(p));
    arm(self, due);
  }

  /// Makes sure a timer fires no later than `due`.
  template <class Self>
  void arm(Self* self, time_point due) {
    if (armed_ && *armed_ <= due)
      return;
    armed_ = due;
    auto delay = due - self->clock().now();
    self->delayed_send(self, std::max(delay, time_point::duration::zero()),
                       deliver_atom::value,
                       static_cast<uint64_t>(due.time_since_epoch().count()));
  }

  uint64_t next_seq_ = 0;
  /// Due time of the earliest timer still out, if any.
  caf::optional<time_point> armed_;
  std::priority_queue<parked, std::deque<parked>, later> queue_;
};

} // namespace booking
