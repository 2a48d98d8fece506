#include "bridges/routing.hpp"

#include <algorithm>

namespace booking {

std::string to_string(message_role x) {
  switch (x) {
    case message_role::event:
      return "event";
    case message_role::command:
      return "command";
    case message_role::reply:
      return "reply";
    case message_role::dead_letter:
      return "dead_letter";
    default:
      return "retry";
  }
}

bool operator==(const route& x, const route& y) {
  return x.exchange == y.exchange && x.routing_key == y.routing_key;
}

const std::vector<route_rule>& routing_table() {
  // Event rows come from the event table: every event on `booking.events`
  // with its name as routing key, and the intake outcomes to `reply_to`.
  using r = message_role;
  static const std::vector<route_rule> table = [] {
    std::vector<route_rule> rows;
    for (auto& ev : event_table())
      rows.push_back({r::event, ev.name, events_exchange, ev.name});
    rows.push_back({r::command, intake_type, commands_exchange, intake_type});
    for (auto& ev : event_table())
      if (ev.intake_reply)
        rows.push_back({r::reply, ev.name, default_exchange, "{reply_to}"});
    rows.push_back({r::reply, rejected_type, default_exchange, "{reply_to}"});
    rows.push_back({r::dead_letter, "", dead_letter_exchange, "{queue}.dlq"});
    rows.push_back({r::retry, "", default_exchange, "{queue}.retry"});
    return rows;
  }();
  return table;
}

namespace {

/// Replaces `{name}` in `key` with `value`; false if `key` needs it and
/// `value` is empty.
bool fill(std::string& key, const std::string& name, const std::string& value) {
  auto placeholder = "{" + name + "}";
  auto pos = key.find(placeholder);
  if (pos == std::string::npos)
    return true;
  if (value.empty())
    return false;
  key.replace(pos, placeholder.size(), value);
  return true;
}

} // namespace

std::optional<route> find_route(message_role role, const std::string& type,
                                const route_params& params) {
  auto& table = routing_table();
  auto i = std::find_if(table.begin(), table.end(), [&](const route_rule& x) {
    return x.role == role && (x.type.empty() || x.type == type);
  });
  if (i == table.end())
    return std::nullopt;
  route result{i->exchange, i->routing_key};
  if (!fill(result.routing_key, "reply_to", params.reply_to)
      || !fill(result.routing_key, "queue", params.queue))
    return std::nullopt;
  return result;
}

std::optional<route> event_route(const std::string& type) {
  return find_route(message_role::event, type);
}

std::optional<route> reply_route(const std::string& type,
                                 const std::string& reply_to) {
  route_params params;
  params.reply_to = reply_to;
  return find_route(message_role::reply, type, params);
}

route dead_letter_route(const std::string& queue) {
  route_params params;
  params.queue = queue;
  // The table has a row for any type; only an empty queue name fails.
  if (auto r = find_route(message_role::dead_letter, "", params))
    return *r;
  return {dead_letter_exchange, ".dlq"};
}

route retry_route(const std::string& queue) {
  route_params params;
  params.queue = queue;
  if (auto r = find_route(message_role::retry, "", params))
    return *r;
  return {default_exchange, ".retry"};
}

// -- topology -----------------------------------------------------------------

bool operator==(const exchange_spec& x, const exchange_spec& y) {
  return x.name == y.name && x.type == y.type && x.durable == y.durable
         && x.auto_delete == y.auto_delete && x.internal == y.internal;
}

bool operator==(const queue_spec& x, const queue_spec& y) {
  return x.name == y.name && x.durable == y.durable
         && x.auto_delete == y.auto_delete && x.exclusive == y.exclusive
         && x.arguments == y.arguments;
}

bool operator==(const binding_spec& x, const binding_spec& y) {
  return x.exchange == y.exchange && x.queue == y.queue
         && x.routing_key == y.routing_key;
}

const std::vector<work_queue>& work_queues() {
  static const std::vector<work_queue> queues{
    {intake_queue, intake_type},
    {"booking.inventory", "inventory.#"},
    {"booking.payment", "payment.#"},
    {"booking.notification", "notification.#"},
    {"booking.booking", "booking.command.#"},
    {"booking.saga", "saga.#"},
  };
  return queues;
}

std::string retry_queue_of(const std::string& queue) {
  return retry_route(queue).routing_key;
}

std::string dead_letter_queue_of(const std::string& queue) {
  return dead_letter_route(queue).routing_key;
}

broker_topology topology(const amqp_settings& settings) {
  broker_topology result;
  for (auto name : {events_exchange, commands_exchange, dead_letter_exchange})
    result.exchanges.push_back(exchange_spec{name});
  bool quorum = settings.queue_type == "quorum";
  auto queue = [&](std::string name, argument_map args) {
    args.emplace("x-queue-type", settings.queue_type);
    queue_spec q;
    q.name = std::move(name);
    q.arguments = std::move(args);
    result.queues.push_back(std::move(q));
  };
  for (auto& wq : work_queues()) {
    auto dlq = dead_letter_route(wq.name);
    argument_map work_args{
      {"x-dead-letter-exchange", dlq.exchange},
      {"x-dead-letter-routing-key", dlq.routing_key},
    };
    // A message that keeps crashing its consumer is dead-lettered by the
    // broker after this many deliveries instead of looping forever.
    if (quorum)
      work_args.emplace("x-delivery-limit",
                        static_cast<int64_t>(settings.delivery_limit));
    queue(wq.name, std::move(work_args));
    // Expired retries go back to the queue that failed, not through
    // `booking.commands`, so no other queue gets a second copy.
    queue(retry_queue_of(wq.name),
          {{"x-dead-letter-exchange", std::string{default_exchange}},
           {"x-dead-letter-routing-key", wq.name}});
    queue(dlq.routing_key, {});
    result.bindings.push_back({commands_exchange, wq.name, wq.binding_key});
    result.bindings.push_back({dlq.exchange, dlq.routing_key, dlq.routing_key});
  }
  return result;
}

} // namespace booking
