// What the AMQP bridges report to the rest of the process: readiness for
// `/readyz` and counters for `/metrics`. Written by the bridge threads, read
// by the HTTP threads, hence atomics.

#pragma once

#include <atomic>
#include <cstdint>

namespace booking {

/// Shared state of the publisher and consumer bridges.
struct bridge_status {
  /// The publisher is connected, its topology declared.
  std::atomic<bool> publisher_up{false};
  /// The consumer is connected and its consumer is attached.
  std::atomic<bool> consumer_up{false};
  /// True once a first connection attempt finished, successful or not.
  std::atomic<bool> tried{false};

  std::atomic<int64_t> published{0};
  std::atomic<int64_t> confirmed{0};
  std::atomic<int64_t> nacked{0};
  std::atomic<int64_t> returned{0};
  std::atomic<int64_t> consumed{0};
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> rejected{0};
  std::atomic<int64_t> dead_lettered{0};
  std::atomic<int64_t> reconnects{0};
};

} // namespace booking
