// The engine's backpressure: whether a new saga may start.
//
// Two things bound the work the engine takes on (product.md, "Backpressure
// and bounded queues"):
// - the sagas in flight in the process (booking and cancellation, from any
//   edge), counted exactly across every coordinator;
// - the outbox backlog: domain events that exist but that the broker has
//   not confirmed yet.
// At either bound a new saga is refused (`overloaded`: HTTP 429, the AMQP
// intake waits); a saga already running never is. Coordinators take and give
// back places; the store and the publisher keep the backlog; /readyz and
// /metrics read it all. Shared between threads, hence atomics.
//
//   auto gate = std::make_shared<backpressure>(10000, 20000);
//   if (auto cause = gate->try_enter()) refuse(*cause);
//   ...
//   gate->leave();

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <caf/timestamp.hpp>

namespace booking {

/// Why new sagas are refused.
enum class overload_cause : uint8_t {
  max_in_flight,
  outbox_backlog,
};

/// The name /readyz gives a cause: `max-in-flight` or `outbox-backlog`.
const char* to_string(overload_cause x);

class backpressure {
public:
  /// `max_backlog` 0: the backlog never refuses anything.
  backpressure(size_t max_in_flight, int64_t max_backlog);

  /// Takes a place for a new saga, or says why there is none.
  std::optional<overload_cause> try_enter();

  /// Takes a place whatever the limit: a saga resumed after a restart.
  void enter();

  /// Gives a place back (the saga ended, or never started).
  void leave();

  /// The cause that refuses new sagas right now, if any.
  std::optional<overload_cause> cause() const;

  size_t in_flight() const {
    return in_flight_.load();
  }

  size_t max_in_flight() const {
    return max_in_flight_;
  }

  int64_t max_backlog() const {
    return max_backlog_;
  }

  // -- the outbox -------------------------------------------------------------

  /// Events that exist but are not confirmed by the broker yet.
  std::atomic<int64_t> outbox_backlog{0};

  /// When the oldest of them was emitted (ns since the epoch; 0 if none),
  /// as far as the publisher holds it.
  std::atomic<int64_t> oldest_unconfirmed{0};

  /// Seconds the oldest unconfirmed event has waited (0 without one).
  double outbox_lag(caf::timestamp now) const;

private:
  bool backlog_full() const;

  std::atomic<size_t> in_flight_{0};
  size_t max_in_flight_;
  int64_t max_backlog_;
};

} // namespace booking
