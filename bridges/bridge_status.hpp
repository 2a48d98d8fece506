// What the AMQP bridges report to the rest of the process: readiness for
// `/readyz` and counters for `/metrics`. Written by the bridge threads, read
// by the HTTP threads, hence atomics.

#pragma once

#include <atomic>
#include <chrono>
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

  /// A bridge thread that has not gone round its loop for this long is
  /// stuck (amqp.stall-timeout), whatever its flags say.
  std::chrono::nanoseconds stall_limit = std::chrono::seconds(30);

  /// Called by a bridge thread at every round of its loop, whose waits
  /// are bounded (seconds at most).
  void beat(bool publisher) {
    (publisher ? publisher_beat_ : consumer_beat_)
      = std::chrono::steady_clock::now().time_since_epoch().count();
  }

  /// Why a bridge that says it is up is stuck: the publisher or the intake
  /// consumer has not gone round its loop for `stall_limit`, for instance
  /// blocked in a send to a broker that stopped reading. Empty if neither.
  std::string stuck() const {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto check = [&](const char* who, bool up, int64_t beat) -> std::string {
      if (!up || beat == 0 || now - beat < stall_limit.count())
        return {};
      return std::string{who} + ": stuck for "
             + std::to_string((now - beat) / 1'000'000'000)
             + " s (amqp.stall-timeout)";
    };
    auto p = check("publisher", publisher_up, publisher_beat_);
    return p.empty() ? check("intake", consumer_up, consumer_beat_) : p;
  }

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
  std::atomic<int64_t> publisher_beat_{0};
  std::atomic<int64_t> consumer_beat_{0};
  mutable std::mutex mtx_;
  std::string publisher_problem_;
  std::string consumer_problem_;
};

} // namespace booking
