// Where the AMQP bridge publishes each message, and the broker topology it
// declares: both as data, so a reader sees every exchange, queue, binding
// and routing key in one place (see docs/messaging.md and
// deploy/rabbitmq/definitions.json, which ships the same topology).
//
//   auto r = find_route(message_role::event, "booking.confirmed");
//   // r->exchange == "booking.events", r->routing_key == "booking.confirmed"
//   auto d = dead_letter_route("booking.intake");
//   // {"booking.dlx", "booking.intake.dlq"}
//   for (auto& q : topology(settings.amqp).queues) declare(q);
//
// Plain structs only: the bridges translate them into rabbitmq-c calls.

#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/codec/cloudevents.hpp"
#include "bridges/amqp_settings.hpp"

namespace booking {

// -- names --------------------------------------------------------------------

/// Topic exchange of every domain event (routing key = event type).
constexpr const char* events_exchange = "booking.events";

/// Topic exchange of commands: intake and participant commands.
constexpr const char* commands_exchange = "booking.commands";

/// Topic exchange of dead letters (routing key = `<queue>.dlq`).
constexpr const char* dead_letter_exchange = "booking.dlx";

/// The default exchange: routes by queue name.
constexpr const char* default_exchange = "";

/// Queue of bookings submitted over AMQP.
constexpr const char* intake_queue = "booking.intake";

// -- routing table ------------------------------------------------------------

/// How a message crosses the bridge.
enum class message_role : uint8_t {
  /// A domain event, published on `booking.events`.
  event,
  /// A command to the engine, published on `booking.commands`.
  command,
  /// The outcome of an intake message, sent to its `reply_to` queue.
  reply,
  /// A message given up on, sent to its queue's `.dlq`.
  dead_letter,
  /// A message to try again later, parked in its queue's `.retry`.
  retry,
};

std::string to_string(message_role x);

/// Where one message goes.
struct route {
  std::string exchange;
  std::string routing_key;
};

bool operator==(const route& x, const route& y);

/// One row of the routing table.
struct route_rule {
  message_role role = message_role::event;
  /// The message type (CloudEvents `type`); empty matches any type.
  std::string type;
  std::string exchange;
  /// The routing key; `{reply_to}` and `{queue}` stand for the parameters
  /// of the same name.
  std::string routing_key;
};

/// What a parametrised routing key is filled with.
struct route_params {
  /// The `reply_to` property of the message being answered.
  std::string reply_to;
  /// The queue the message was consumed from.
  std::string queue;
};

/// Every route of the bridge, one row per role and type.
const std::vector<route_rule>& routing_table();

/// The route of a message, or none if the table has no row for it or a
/// parameter its routing key needs is empty.
std::optional<route> find_route(message_role role, const std::string& type,
                                const route_params& params = {});

/// `{"booking.events", type}`; none for a type that is not an event.
std::optional<route> event_route(const std::string& type);

/// `{"", reply_to}`; none for a type that is not a reply or an empty
/// `reply_to`.
std::optional<route> reply_route(const std::string& type,
                                 const std::string& reply_to);

/// `{"booking.dlx", "<queue>.dlq"}`.
route dead_letter_route(const std::string& queue);

/// `{"", "<queue>.retry"}`; the retry queue dead-letters back to `queue`.
route retry_route(const std::string& queue);

// -- topology -----------------------------------------------------------------

/// A queue argument: a string (`x-queue-type`) or a number
/// (`x-delivery-limit`).
using argument_value = std::variant<std::string, int64_t>;

/// Queue arguments by name.
using argument_map = std::map<std::string, argument_value>;

/// An exchange to declare.
struct exchange_spec {
  std::string name;
  std::string type = "topic";
  bool durable = true;
  bool auto_delete = false;
  bool internal = false;
};

/// A queue to declare.
struct queue_spec {
  std::string name;
  bool durable = true;
  bool auto_delete = false;
  bool exclusive = false;
  argument_map arguments;
};

/// A binding of a queue to an exchange.
struct binding_spec {
  std::string exchange;
  std::string queue;
  std::string routing_key;
};

bool operator==(const exchange_spec& x, const exchange_spec& y);
bool operator==(const queue_spec& x, const queue_spec& y);
bool operator==(const binding_spec& x, const binding_spec& y);

/// A work queue of the engine and the commands it receives.
struct work_queue {
  std::string name;
  /// Binding key on `booking.commands`.
  std::string binding_key;
};

/// The six work queues: `booking.intake` (`booking.create`) and one per
/// participant role. The booking role binds `booking.command.#`, because
/// `booking.#` would also match `booking.create`.
const std::vector<work_queue>& work_queues();

/// `<queue>.retry`.
std::string retry_queue_of(const std::string& queue);

/// `<queue>.dlq`.
std::string dead_letter_queue_of(const std::string& queue);

/// Everything the bridge declares, in declaration order.
struct broker_topology {
  std::vector<exchange_spec> exchanges;
  std::vector<queue_spec> queues;
  std::vector<binding_spec> bindings;
};

/// The topology for `settings.queue_type`: every queue gets `x-queue-type`;
/// work queues dead-letter to `booking.dlx` with key `<queue>.dlq` and, for
/// quorum queues, get `x-delivery-limit`; retry queues dead-letter to the
/// default exchange with key `<queue>`.
broker_topology topology(const amqp_settings& settings);

} // namespace booking
