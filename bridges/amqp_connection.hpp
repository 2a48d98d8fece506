// One AMQP connection with one channel, owned by exactly one thread.
//
// A thin RAII layer over rabbitmq-c: it parses the URL (`amqp://` or
// `amqps://`, credentials only from the URL), connects with a timeout, logs
// in with heartbeats and the capabilities the bridges rely on
// (publisher confirms, `basic.nack`, consumer cancel notification,
// `connection.blocked`), opens channel 1 and declares the topology. Every
// call reports failure as a short text; the caller drops the connection and
// reconnects with backoff. rabbitmq-c connections are not thread-safe, so a
// connection never leaves the thread (detached actor) that opened it.
//
//   amqp_connection c;
//   if (auto err = c.open(settings, "publisher"); !err.empty()) ...
//   c.declare(topology(settings));

#pragma once

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "actors/codec/cloudevents.hpp"
#include "bridges/amqp_settings.hpp"
#include "bridges/routing.hpp"

namespace booking {

/// An owned rabbitmq-c connection with channel 1 open.
class amqp_connection {
public:
  /// The channel every bridge uses.
  static constexpr amqp_channel_t channel = 1;

  amqp_connection() = default;
  ~amqp_connection();

  amqp_connection(const amqp_connection&) = delete;
  amqp_connection& operator=(const amqp_connection&) = delete;

  /// Connects to `cfg.url` and opens the channel; `name` shows in the
  /// broker's connection list. Returns an error text, empty on success.
  std::string open(const amqp_settings& cfg, const std::string& name);

  /// Closes politely if possible and frees the connection.
  void close();

  bool is_open() const {
    return conn_ != nullptr;
  }

  amqp_connection_state_t get() const {
    return conn_;
  }

  /// Declares exchanges, queues and bindings (idempotent).
  std::string declare(const broker_topology& t);

  /// Opens another channel (the consumer publishes on its own one).
  std::string open_channel(amqp_channel_t ch);

  /// Puts a channel into publisher-confirm mode.
  std::string enable_confirms(amqp_channel_t ch = channel);

  /// Publishes one message; `mandatory` makes unroutable ones come back.
  std::string publish(const std::string& exchange,
                      const std::string& routing_key,
                      const message_properties& props, const std::string& body,
                      bool mandatory, amqp_channel_t ch = channel);

  /// Publishes a copy of a delivered message: its original properties and
  /// header fields (of any type), with `set_headers` added or replaced and,
  /// if not empty, a new `expiration`.
  std::string publish_copy(
    const std::string& exchange, const std::string& routing_key,
    const amqp_basic_properties_t& original,
    const std::vector<std::pair<std::string, std::string>>& set_headers,
    const std::string& expiration, const std::string& body);

  /// Error text of the last synchronous call (empty if it succeeded).
  std::string rpc_error(const char* what);

private:
  amqp_connection_state_t conn_ = nullptr;
};

/// Delays between connection attempts of a bridge: exponential from 100 ms
/// to 10 s, with ±20% jitter so that bridges do not reconnect in step.
class reconnect_backoff {
public:
  /// The delay before the next attempt.
  std::chrono::milliseconds next();

  /// Starts over after a successful connection.
  void reset() {
    attempt_ = 0;
  }

private:
  int attempt_ = 0;
  std::mt19937_64 gen_{std::random_device{}()};
};

/// The host and port of an AMQP URL without its credentials, for logs.
std::string redact_url(const std::string& url);

/// Reads the properties of a delivered message.
message_properties read_properties(const amqp_basic_properties_t& p);

} // namespace booking
