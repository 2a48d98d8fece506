#define CAF_SUITE bridges.routing

#include "bridges/routing.hpp"

#include <caf/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "actors/codec/cloudevents.hpp"
#include "actors/messages.hpp"

using namespace booking;

namespace {

std::string to_text(const argument_value& x) {
  if (auto str = std::get_if<std::string>(&x))
    return "\"" + *str + "\"";
  return std::to_string(std::get<int64_t>(x));
}

std::string to_text(const argument_map& xs) {
  std::string result = "{";
  for (auto& [key, val] : xs)
    result += (result.size() > 1 ? ", " : "") + key + ": " + to_text(val);
  return result + "}";
}

const queue_spec* find_queue(const broker_topology& t,
                             const std::string& name) {
  for (auto& q : t.queues)
    if (q.name == name)
      return &q;
  return nullptr;
}

std::set<std::string> binding_texts(const std::vector<binding_spec>& xs) {
  std::set<std::string> result;
  for (auto& b : xs)
    result.insert(b.exchange + " -> " + b.queue + " [" + b.routing_key + "]");
  return result;
}

/// Reads the queues, exchanges and bindings of a RabbitMQ definitions file.
broker_topology read_definitions(const rapidjson::Document& doc) {
  broker_topology result;
  auto str = [](const rapidjson::Value& obj, const char* key) {
    auto i = obj.FindMember(key);
    return i != obj.MemberEnd() && i->value.IsString()
             ? std::string{i->value.GetString()}
             : std::string{"<absent>"};
  };
  auto flag = [](const rapidjson::Value& obj, const char* key) {
    auto i = obj.FindMember(key);
    return i != obj.MemberEnd() && i->value.IsBool() && i->value.GetBool();
  };
  auto arguments = [](const rapidjson::Value& obj) {
    argument_map args;
    auto i = obj.FindMember("arguments");
    if (i == obj.MemberEnd() || !i->value.IsObject())
      return args;
    for (auto& m : i->value.GetObject()) {
      if (m.value.IsString())
        args.emplace(m.name.GetString(), std::string{m.value.GetString()});
      else if (m.value.IsInt64())
        args.emplace(m.name.GetString(), m.value.GetInt64());
      else
        args.emplace(m.name.GetString(), std::string{"<not a string>"});
    }
    return args;
  };
  for (auto& x : doc["exchanges"].GetArray()) {
    CAF_CHECK_EQUAL(str(x, "vhost"), "/");
    CAF_CHECK(arguments(x).empty());
    exchange_spec e;
    e.name = str(x, "name");
    e.type = str(x, "type");
    e.durable = flag(x, "durable");
    e.auto_delete = flag(x, "auto_delete");
    e.internal = flag(x, "internal");
    result.exchanges.push_back(std::move(e));
  }
  for (auto& x : doc["queues"].GetArray()) {
    CAF_CHECK_EQUAL(str(x, "vhost"), "/");
    queue_spec q;
    q.name = str(x, "name");
    q.durable = flag(x, "durable");
    q.auto_delete = flag(x, "auto_delete");
    q.exclusive = flag(x, "exclusive");
    q.arguments = arguments(x);
    result.queues.push_back(std::move(q));
  }
  for (auto& x : doc["bindings"].GetArray()) {
    CAF_CHECK_EQUAL(str(x, "vhost"), "/");
    CAF_CHECK_EQUAL(str(x, "destination_type"), "queue");
    CAF_CHECK(arguments(x).empty());
    result.bindings.push_back(
      {str(x, "source"), str(x, "destination"), str(x, "routing_key")});
  }
  return result;
}

std::vector<std::string> words(const std::string& x) {
  std::vector<std::string> result;
  std::string::size_type start = 0;
  for (;;) {
    auto dot = x.find('.', start);
    result.push_back(x.substr(start, dot - start));
    if (dot == std::string::npos)
      return result;
    start = dot + 1;
  }
}

/// AMQP topic matching: `*` is one word, `#` zero or more.
bool topic_matches(const std::vector<std::string>& pattern, size_t p,
                   const std::vector<std::string>& key, size_t k) {
  if (p == pattern.size())
    return k == key.size();
  if (pattern[p] == "#") {
    for (auto i = k; i <= key.size(); ++i)
      if (topic_matches(pattern, p + 1, key, i))
        return true;
    return false;
  }
  return k < key.size() && (pattern[p] == "*" || pattern[p] == key[k])
         && topic_matches(pattern, p + 1, key, k + 1);
}

bool topic_matches(const std::string& pattern, const std::string& key) {
  return topic_matches(words(pattern), 0, words(key), 0);
}

amqp_settings quorum_settings(int32_t delivery_limit) {
  amqp_settings result;
  result.queue_type = "quorum";
  result.delivery_limit = delivery_limit;
  return result;
}

} // namespace

// -- routing table ------------------------------------------------------------

CAF_TEST(every event type has a route and a codec) {
  for (auto& type : event_types()) {
    CAF_MESSAGE("type " << type);
    auto r = event_route(type);
    CAF_REQUIRE(r.has_value());
    CAF_CHECK_EQUAL(r->exchange, "booking.events");
    CAF_CHECK_EQUAL(r->routing_key, type);
    CAF_CHECK(has_codec(type));
  }
}

CAF_TEST(the table routes only known kinds) {
  std::set<std::string> events(event_types().begin(), event_types().end());
  for (auto& rule : routing_table()) {
    CAF_MESSAGE(to_string(rule.role) << " " << rule.type);
    CAF_CHECK(!rule.routing_key.empty());
    if (rule.role == message_role::event)
      CAF_CHECK_EQUAL(events.count(rule.type), 1u);
  }
  CAF_CHECK(!event_route("booking.create").has_value());
  CAF_CHECK(!event_route("booking.rejected").has_value());
  CAF_CHECK(!event_route("no.such").has_value());
}

CAF_TEST(intake reply dead letter and retry kinds have routes) {
  auto intake = find_route(message_role::command, "booking.create");
  CAF_REQUIRE(intake.has_value());
  CAF_CHECK_EQUAL(intake->exchange, "booking.commands");
  CAF_CHECK_EQUAL(intake->routing_key, "booking.create");
  CAF_CHECK(has_codec("booking.create"));
  for (auto type :
       {"booking.confirmed", "booking.failed", "booking.rejected"}) {
    CAF_MESSAGE("reply " << type);
    auto r = reply_route(type, "amq.gen-abc");
    CAF_REQUIRE(r.has_value());
    CAF_CHECK_EQUAL(r->exchange, "");
    CAF_CHECK_EQUAL(r->routing_key, "amq.gen-abc");
    CAF_CHECK(has_codec(type));
    // Without reply_to there is nobody to answer.
    CAF_CHECK(!reply_route(type, "").has_value());
  }
  CAF_CHECK(!reply_route("payment.captured", "q").has_value());
  for (auto& wq : work_queues()) {
    auto dlq = dead_letter_route(wq.name);
    CAF_CHECK_EQUAL(dlq.exchange, "booking.dlx");
    CAF_CHECK_EQUAL(dlq.routing_key, wq.name + ".dlq");
    auto retry = retry_route(wq.name);
    CAF_CHECK_EQUAL(retry.exchange, "");
    CAF_CHECK_EQUAL(retry.routing_key, wq.name + ".retry");
    CAF_CHECK_EQUAL(dead_letter_queue_of(wq.name), wq.name + ".dlq");
    CAF_CHECK_EQUAL(retry_queue_of(wq.name), wq.name + ".retry");
  }
  // Dead letters and retries keep their type: any type routes.
  route_params params;
  params.queue = "booking.intake";
  auto any = find_route(message_role::dead_letter, "booking.create", params);
  CAF_REQUIRE(any.has_value());
  CAF_CHECK_EQUAL(any->routing_key, "booking.intake.dlq");
  CAF_CHECK(!find_route(message_role::retry, "x").has_value());
}

// -- topology -----------------------------------------------------------------

CAF_TEST(classic topology) {
  auto t = topology(amqp_settings{});
  CAF_REQUIRE_EQUAL(t.exchanges.size(), 3u);
  for (auto& e : t.exchanges) {
    CAF_CHECK_EQUAL(e.type, "topic");
    CAF_CHECK(e.durable);
  }
  CAF_CHECK_EQUAL(t.queues.size(), 18u);
  for (auto& q : t.queues) {
    CAF_CHECK(q.durable && !q.auto_delete && !q.exclusive);
    CAF_CHECK(q.arguments.at("x-queue-type") == argument_value{"classic"});
    CAF_CHECK_EQUAL(q.arguments.count("x-delivery-limit"), 0u);
  }
  auto intake = find_queue(t, "booking.intake");
  CAF_REQUIRE(intake != nullptr);
  CAF_CHECK_EQUAL(to_text(intake->arguments),
                  R"({x-dead-letter-exchange: "booking.dlx", )"
                  R"(x-dead-letter-routing-key: "booking.intake.dlq", )"
                  R"(x-queue-type: "classic"})");
  auto retry = find_queue(t, "booking.intake.retry");
  CAF_REQUIRE(retry != nullptr);
  CAF_CHECK_EQUAL(to_text(retry->arguments),
                  R"({x-dead-letter-exchange: "", )"
                  R"(x-dead-letter-routing-key: "booking.intake", )"
                  R"(x-queue-type: "classic"})");
  auto dlq = find_queue(t, "booking.intake.dlq");
  CAF_REQUIRE(dlq != nullptr);
  CAF_CHECK_EQUAL(to_text(dlq->arguments), R"({x-queue-type: "classic"})");
  auto bindings = binding_texts(t.bindings);
  CAF_CHECK_EQUAL(bindings.size(), 12u);
  for (auto b : {"booking.commands -> booking.intake [booking.create]",
                 "booking.commands -> booking.booking [booking.command.#]",
                 "booking.commands -> booking.saga [saga.#]",
                 "booking.dlx -> booking.intake.dlq [booking.intake.dlq]"})
    CAF_CHECK_EQUAL(bindings.count(b), 1u);
  // booking.create reaches the intake queue only (`booking.#` for the
  // booking role would copy it into booking.booking).
  std::set<std::string> reached;
  for (auto& b : t.bindings)
    if (b.exchange == "booking.commands"
        && topic_matches(b.routing_key, "booking.create"))
      reached.insert(b.queue);
  CAF_CHECK_EQUAL(reached, (std::set<std::string>{"booking.intake"}));
  CAF_CHECK(topic_matches("booking.command.#", "booking.command.confirm"));
  CAF_CHECK(topic_matches("booking.#", "booking.create"));
  // Every dead letter reaches exactly its own .dlq.
  for (auto& wq : work_queues()) {
    auto dlq = dead_letter_route(wq.name);
    std::set<std::string> dlq_reached;
    for (auto& b : t.bindings)
      if (b.exchange == dlq.exchange
          && topic_matches(b.routing_key, dlq.routing_key))
        dlq_reached.insert(b.queue);
    CAF_CHECK_EQUAL(dlq_reached, (std::set<std::string>{wq.name + ".dlq"}));
  }
}

CAF_TEST(quorum topology) {
  auto t = topology(quorum_settings(7));
  CAF_CHECK_EQUAL(t.queues.size(), 18u);
  for (auto& q : t.queues) {
    CAF_MESSAGE("queue " << q.name << " " << to_text(q.arguments));
    CAF_CHECK(q.arguments.at("x-queue-type") == argument_value{"quorum"});
  }
  for (auto& wq : work_queues()) {
    auto q = find_queue(t, wq.name);
    CAF_REQUIRE(q != nullptr);
    CAF_CHECK_EQUAL(to_text(q->arguments),
                    R"({x-dead-letter-exchange: "booking.dlx", )"
                    R"(x-dead-letter-routing-key: ")"
                      + wq.name + R"(.dlq", x-delivery-limit: 7, )"
                      + R"(x-queue-type: "quorum"})");
    CAF_CHECK_EQUAL(
      find_queue(t, wq.name + ".retry")->arguments.count("x-delivery-limit"),
      0u);
    CAF_CHECK_EQUAL(to_text(find_queue(t, wq.name + ".dlq")->arguments),
                    R"({x-queue-type: "quorum"})");
  }
  // Same names and bindings as classic.
  auto classic = topology(amqp_settings{});
  CAF_CHECK(t.exchanges == classic.exchanges);
  CAF_CHECK(t.bindings == classic.bindings);
}

CAF_TEST(the topology equals the shipped definitions file) {
  namespace fs = std::filesystem;
  auto path = fs::path{BOOKING_SOURCE_DIR} / "deploy" / "rabbitmq"
              / "definitions.json";
  if (!fs::exists(path)) {
    CAF_MESSAGE("no " << path.string() << ", nothing to compare");
    return;
  }
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  CAF_REQUIRE(!doc.HasParseError() && doc.IsObject());
  CAF_REQUIRE(doc.HasMember("exchanges") && doc["exchanges"].IsArray());
  CAF_REQUIRE(doc.HasMember("queues") && doc["queues"].IsArray());
  CAF_REQUIRE(doc.HasMember("bindings") && doc["bindings"].IsArray());
  auto shipped = read_definitions(doc);
  auto ours = topology(amqp_settings{});
  std::map<std::string, exchange_spec> shipped_exchanges;
  for (auto& e : shipped.exchanges)
    shipped_exchanges.emplace(e.name, e);
  CAF_CHECK_EQUAL(shipped.exchanges.size(), ours.exchanges.size());
  for (auto& e : ours.exchanges) {
    CAF_MESSAGE("exchange " << e.name);
    auto i = shipped_exchanges.find(e.name);
    CAF_REQUIRE(i != shipped_exchanges.end());
    CAF_CHECK(i->second == e);
  }
  CAF_CHECK_EQUAL(shipped.queues.size(), ours.queues.size());
  for (auto& q : ours.queues) {
    auto s = find_queue(shipped, q.name);
    CAF_CHECK(s != nullptr);
    if (s == nullptr) {
      CAF_MESSAGE("queue " << q.name << " missing from the file");
      continue;
    }
    CAF_CHECK_EQUAL(s->durable, q.durable);
    CAF_CHECK_EQUAL(s->auto_delete, q.auto_delete);
    CAF_CHECK_EQUAL(s->exclusive, q.exclusive);
    CAF_CHECK_EQUAL(q.name + " " + to_text(s->arguments),
                    q.name + " " + to_text(q.arguments));
  }
  CAF_CHECK_EQUAL(binding_texts(shipped.bindings),
                  binding_texts(ours.bindings));
  CAF_CHECK_EQUAL(shipped.bindings.size(), ours.bindings.size());
}
