// What the AMQP bridges report to the rest of the process: readiness for
// `/readyz` and counters for `/metrics`. Written by the bridge threads, read
// by the HTTP threads, hence atomics.

#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

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

  /// Records why the last connection attempt of the publisher or of the
  /// consumer failed; an empty `why` clears it once that bridge connected.
  void set_problem(bool publisher, std::string why) {
    std::lock_guard<std::mutex> guard{mtx_};
    (publisher ? publisher_problem_ : consumer_problem_) = std::move(why);
  }

  /// Why a bridge is not connected, in one line (the publisher's reason
  /// first); empty if neither reported one.
  std::string problem() const {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!publisher_problem_.empty())
      return publisher_problem_;
    return consumer_problem_;
  }

private:
  mutable std::mutex mtx_;
  std::string publisher_problem_;
  std::string consumer_problem_;
};

} // namespace booking
