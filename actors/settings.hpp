// Plain settings structs handed to the actors by the wiring.
//
// Actors never read the configuration themselves: `config/booking_config`
// validates the INI file and the command line and fills these structs, and
// `config/wiring` passes each actor the part it needs. The edges own their
// settings: `http/http_settings.hpp` and `bridges/amqp_settings.hpp`.

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/timespan.hpp>

namespace booking {

/// Retry policy of one saga step: exponential backoff with jitter.
struct retry_policy {
  /// Attempts in total, the first one included (the retry budget).
  int32_t max_attempts = 3;
  /// Delay before the second attempt.
  caf::timespan initial_backoff = std::chrono::milliseconds(50);
  /// Upper bound of any single delay.
  caf::timespan max_backoff = std::chrono::seconds(2);
  /// Factor by which the delay grows per attempt.
  double multiplier = 2.0;
  /// Fraction of the delay drawn at random, in [0, 1].
  double jitter = 0.2;
};

/// Timeouts, retry budgets and backpressure of the sagas.
struct saga_settings {
  /// Timeout of one inventory call.
  caf::timespan inventory_timeout = std::chrono::seconds(2);
  /// Timeout of one payment call (authorize, capture, void, refund, query).
  caf::timespan payment_timeout = std::chrono::seconds(5);
  /// Timeout of one notification delivery.
  caf::timespan notification_timeout = std::chrono::seconds(2);
  /// Policy of the forward steps (reserve, authorize, confirm).
  retry_policy step_retry{3, std::chrono::milliseconds(50),
                          std::chrono::seconds(2), 2.0, 0.2};
  /// Policy of compensations and of the cancellation saga's steps.
  retry_policy compensation_retry{8, std::chrono::milliseconds(100),
                                  std::chrono::seconds(5), 2.0, 0.2};
  /// Policy of the notification step.
  retry_policy notification_retry{8, std::chrono::milliseconds(100),
                                  std::chrono::seconds(5), 2.0, 0.2};
  /// Sagas in flight at once before new bookings are refused.
  size_t max_in_flight = 10000;
  /// Seed of the coordinators' jitter generator.
  uint64_t seed = 1;
};

/// Number of actors per role.
struct worker_settings {
  size_t booking_shards = 2;
  size_t inventory_shards = 2;
  size_t payment_workers = 4;
  size_t notification_workers = 2;
  size_t saga_coordinators = 2;
};

/// Injected faults. All rates are probabilities in [0, 1] and default to 0.
struct fault_settings {
  double payment_decline_rate = 0;
  double payment_timeout_rate = 0;
  double payment_error_rate = 0;
  double inventory_error_rate = 0;
  double notification_error_rate = 0;
  /// Share of voids and refunds (the payment compensations) that fail
  /// transiently.
  double refund_error_rate = 0;
  caf::timespan payment_latency{0};
  caf::timespan inventory_latency{0};
  caf::timespan notification_latency{0};
  /// Seed of every fault generator; each actor derives its own stream.
  uint64_t seed = 42;
};

/// Durable store (used by the SQLite store).
struct store_settings {
  std::string path = "data/booking.db";
  /// Finished bookings the booking shards keep in memory, most recently
  /// used first, beyond those with a saga in flight; the rest are read
  /// back from the file. Not used with `:memory:`, which keeps them all.
  size_t cache_bookings = 10000;
};

} // namespace booking
