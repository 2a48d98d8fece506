// A small synchronous AMQP 0-9-1 client for the bridge integration tests,
// written directly against rabbitmq-c so that the tests do not check the
// bridges with the bridges' own connection code.
//
// One connection, one channel in confirm mode, no heartbeats (a test may
// sit idle for a long time). Every failure throws `amqp_client_error`; after
// the broker closed the channel (e.g. a passive declare of a missing queue)
// the client reopens it by itself.
//
//   amqp_client c{std::getenv("BOOKING_TEST_AMQP_URL")};
//   c.declare_queue("test.events", true);
//   c.bind("test.events", "booking.events", "#");
//   auto reply_to = c.declare_reply_queue();
//   c.publish("booking.commands", "booking.create", props, body);
//   if (auto m = c.get(reply_to, std::chrono::seconds(5))) ... m->body ...

#pragma once

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace booking::testing {

/// A failed AMQP operation (connection, protocol or broker refusal).
struct amqp_client_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Properties of a message, as sent or as received. Empty strings and zero
/// numbers stand for "not set".
struct amqp_props {
  std::string content_type;
  std::string message_id;
  std::string correlation_id;
  std::string reply_to;
  std::string type;
  std::string app_id;
  std::string expiration;
  /// 0 = not set, 1 = transient, 2 = persistent.
  uint8_t delivery_mode = 0;
  /// Seconds since the epoch; 0 = not set.
  uint64_t timestamp = 0;
  /// Headers as text: on receipt, numbers are rendered in decimal, booleans
  /// as true/false and tables (such as `x-death`) as "<table>"; on publish,
  /// each is sent as a string.
  std::vector<std::pair<std::string, std::string>> headers;
  /// On publish only: headers sent as 64-bit integers and as booleans.
  std::vector<std::pair<std::string, int64_t>> int_headers;
  std::vector<std::pair<std::string, bool>> bool_headers;
  /// On receipt only: the AMQP field kind of each header ('S' string, 'l'
  /// 64-bit integer, 't' boolean, 'F' table, ...).
  std::vector<std::pair<std::string, char>> header_kinds;

  /// The value of header `key`, if present.
  std::optional<std::string> header(const std::string& key) const;

  /// The field kind of header `key`, or '-' if absent.
  char header_kind(const std::string& key) const;
};

/// A message taken from a queue.
struct amqp_received {
  std::string exchange;
  std::string routing_key;
  bool redelivered = false;
  amqp_props props;
  std::string body;
};

/// What `queue.declare` reports about a queue.
struct amqp_queue_info {
  uint32_t messages = 0;
  uint32_t consumers = 0;
};

class amqp_client {
public:
  /// Connects to `url` (`amqp://user:pass@host:port/vhost`); throws on
  /// failure.
  explicit amqp_client(const std::string& url);
  ~amqp_client();

  amqp_client(const amqp_client&) = delete;
  amqp_client& operator=(const amqp_client&) = delete;

  /// Declares a durable topic exchange (as the engine does).
  void declare_exchange(const std::string& name,
                        const std::string& type = "topic");

  /// Declares a queue without arguments.
  void declare_queue(const std::string& name, bool durable,
                     bool exclusive = false, bool auto_delete = false);

  /// Declares a server-named, exclusive, auto-delete queue for replies and
  /// returns its name.
  std::string declare_reply_queue();

  void bind(const std::string& queue, const std::string& exchange,
            const std::string& key);

  /// Message and consumer count of `name`, or none if it does not exist.
  std::optional<amqp_queue_info> inspect_queue(const std::string& name);

  void purge(const std::string& name);

  void delete_queue(const std::string& name);

  /// Publishes one message and waits for the broker's confirm.
  void publish(const std::string& exchange, const std::string& routing_key,
               const amqp_props& props, const std::string& body);

  /// Takes the next message of `queue` (acked at once), polling until
  /// `timeout`; none if the queue stayed empty.
  std::optional<amqp_received>
  get(const std::string& queue,
      std::chrono::milliseconds timeout = std::chrono::seconds(0));

  /// Takes every message of `queue` until it has been empty for
  /// `quiet` or `timeout` passed in all.
  std::vector<amqp_received>
  drain(const std::string& queue,
        std::chrono::milliseconds quiet = std::chrono::milliseconds(300),
        std::chrono::milliseconds timeout = std::chrono::seconds(60));

private:
  /// Throws unless the last synchronous call succeeded; recovers the
  /// channel if the broker closed it.
  void check(const char* what);

  void open_channel();

  amqp_connection_state_t conn_ = nullptr;
  amqp_channel_t channel_ = 1;
  uint64_t next_tag_ = 1;
};

/// Connects to `url`, retrying until `timeout` (e.g. while a broker starts).
std::unique_ptr<amqp_client>
connect_with_retry(const std::string& url, std::chrono::milliseconds timeout
                                           = std::chrono::seconds(30));

} // namespace booking::testing
