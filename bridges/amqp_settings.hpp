// Settings of the RabbitMQ bridges (section `amqp`), filled and validated
// by the config.

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/timespan.hpp>

namespace booking {

/// AMQP bridge (used by the RabbitMQ bridges).
struct amqp_settings {
  std::string url;
  /// TLS (`amqps://`): the CAs that may sign the broker's certificate
  /// (empty: the system's store), and a client certificate with its key
  /// (both or neither).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  /// Check the broker's certificate chain and host name. Off only for
  /// tests against a broker with a throwaway certificate.
  bool verify = true;
  uint16_t prefetch = 64;
  std::string queue_type = "classic";
  int32_t delivery_limit = 5;
  int32_t retry_limit = 5;
  /// Delay of the first retry of a failed intake message; it doubles with
  /// each retry, up to a minute.
  caf::timespan retry_delay = std::chrono::milliseconds(200);
  caf::timespan heartbeat = std::chrono::seconds(30);
  /// A bridge that cannot make progress for this long says so in /readyz;
  /// the intake gives its unacked messages back to the queue and
  /// reconnects.
  caf::timespan stall_timeout = std::chrono::seconds(30);
  size_t confirm_window = 256;
  /// Unconfirmed events at which new sagas are refused (backpressure).
  int64_t max_backlog = 20000;
};

} // namespace booking
