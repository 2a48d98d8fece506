#include "bridges/amqp_connection.hpp"

#include "bridges/amqp_url.hpp"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <cstring>
#include <sys/time.h>
#include <variant>

namespace booking {

namespace {

amqp_bytes_t bytes(const std::string& x) {
  amqp_bytes_t b;
  b.len = x.size();
  b.bytes = const_cast<char*>(x.data());
  return b;
}

std::string text(amqp_bytes_t b) {
  return {static_cast<const char*>(b.bytes), b.len};
}

std::string library_error(int status) {
  return amqp_error_string2(status);
}

/// Time allowed for connecting and for each synchronous call.
constexpr int connect_timeout_seconds = 5;

/// Why a login failed, naming the user and the vhost. The broker refuses
/// bad credentials (403 ACCESS_REFUSED) and an unknown vhost (530
/// NOT_ALLOWED) by closing the connection; an empty vhost, which a URL
/// with a bare trailing slash asks for, gets a hint.
std::string login_error(const amqp_rpc_reply_t& reply, const amqp_url& url) {
  auto who = describe_login(url);
  if (url.vhost.empty())
    return "login refused: " + who + " (use %2f for /)";
  if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION
      && reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto m = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
    return "login refused: " + who + " (" + std::to_string(m->reply_code) + " "
           + text(m->reply_text) + ")";
  }
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
    return "login failed: " + who + " (" + library_error(reply.library_error)
           + ")";
  return "login refused: " + who;
}

} // namespace

amqp_connection::~amqp_connection() {
  close();
}

std::string amqp_connection::rpc_error(const char* what) {
  auto reply = amqp_get_rpc_reply(conn_);
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return {};
    case AMQP_RESPONSE_NONE:
      return std::string{what} + ": no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return std::string{what} + ": " + library_error(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      switch (reply.reply.id) {
        case AMQP_CONNECTION_CLOSE_METHOD: {
          auto m = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
          return std::string{what} + ": connection closed by the broker ("
                 + std::to_string(m->reply_code) + " " + text(m->reply_text)
                 + ")";
        }
        case AMQP_CHANNEL_CLOSE_METHOD: {
          auto m = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
          return std::string{what} + ": channel closed by the broker ("
                 + std::to_string(m->reply_code) + " " + text(m->reply_text)
                 + ")";
        }
        default:
          return std::string{what} + ": unexpected broker method";
      }
  }
  return std::string{what} + ": failed";
}

std::string amqp_connection::open(const amqp_settings& cfg,
                                  const std::string& name) {
  close();
  std::string url_error;
  auto url = parse_amqp_url(cfg.url, url_error);
  if (!url)
    return "amqp.url: " + url_error;
  conn_ = amqp_new_connection();
  amqp_socket_t* socket = nullptr;
  if (url->tls) {
    socket = amqp_ssl_socket_new(conn_);
    if (socket != nullptr) {
      // Verify the broker against the system's CA store.
      amqp_ssl_socket_set_verify_peer(socket, 1);
      amqp_ssl_socket_set_verify_hostname(socket, 1);
      amqp_ssl_socket_set_cacert(socket, "/etc/ssl/certs/ca-certificates.crt");
    }
  } else {
    socket = amqp_tcp_socket_new(conn_);
  }
  if (socket == nullptr) {
    close();
    return "cannot create a socket";
  }
  timeval tv{connect_timeout_seconds, 0};
  if (auto rc = amqp_socket_open_noblock(socket, url->host.c_str(), url->port,
                                         &tv);
      rc != AMQP_STATUS_OK) {
    close();
    return "connect to " + url->host + ":" + std::to_string(url->port) + ": "
           + library_error(rc);
  }
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);
  // Announce what the bridges handle: without these the broker would not
  // send consumer cancellations nor connection.blocked.
  amqp_table_entry_t caps[] = {
    {amqp_cstring_bytes("publisher_confirms"), {AMQP_FIELD_KIND_BOOLEAN, {1}}},
    {amqp_cstring_bytes("basic.nack"), {AMQP_FIELD_KIND_BOOLEAN, {1}}},
    {amqp_cstring_bytes("consumer_cancel_notify"),
     {AMQP_FIELD_KIND_BOOLEAN, {1}}},
    {amqp_cstring_bytes("connection.blocked"), {AMQP_FIELD_KIND_BOOLEAN, {1}}},
    {amqp_cstring_bytes("authentication_failure_close"),
     {AMQP_FIELD_KIND_BOOLEAN, {1}}},
  };
  amqp_table_entry_t props[2];
  props[0].key = amqp_cstring_bytes("capabilities");
  props[0].value.kind = AMQP_FIELD_KIND_TABLE;
  props[0].value.value.table.num_entries = sizeof(caps) / sizeof(caps[0]);
  props[0].value.value.table.entries = caps;
  props[1].key = amqp_cstring_bytes("connection_name");
  props[1].value.kind = AMQP_FIELD_KIND_UTF8;
  props[1].value.value.bytes = bytes(name);
  amqp_table_t table{2, props};
  auto heartbeat = static_cast<int>(
    std::chrono::duration_cast<std::chrono::seconds>(cfg.heartbeat).count());
  auto login = amqp_login_with_properties(
    conn_, url->vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE, heartbeat, &table,
    AMQP_SASL_METHOD_PLAIN, url->user.c_str(), url->password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    auto err = login_error(login, *url);
    close();
    return err;
  }
  amqp_channel_open(conn_, channel);
  if (auto err = rpc_error("channel.open"); !err.empty()) {
    close();
    return err;
  }
  return {};
}

void amqp_connection::close() {
  if (conn_ == nullptr)
    return;
  // A dead socket makes these fail fast; the result does not matter.
  amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn_);
  conn_ = nullptr;
}

std::string amqp_connection::declare(const broker_topology& t) {
  for (auto& x : t.exchanges) {
    amqp_exchange_declare(conn_, channel, amqp_cstring_bytes(x.name.c_str()),
                          amqp_cstring_bytes(x.type.c_str()), 0, x.durable,
                          x.auto_delete, x.internal, amqp_empty_table);
    if (auto err = rpc_error(("exchange.declare " + x.name).c_str());
        !err.empty())
      return err;
  }
  for (auto& q : t.queues) {
    std::vector<amqp_table_entry_t> args;
    args.reserve(q.arguments.size());
    for (auto& [key, value] : q.arguments) {
      amqp_table_entry_t e;
      e.key = amqp_cstring_bytes(key.c_str());
      if (auto n = std::get_if<int64_t>(&value)) {
        e.value.kind = AMQP_FIELD_KIND_I64;
        e.value.value.i64 = *n;
      } else {
        e.value.kind = AMQP_FIELD_KIND_UTF8;
        e.value.value.bytes
          = amqp_cstring_bytes(std::get<std::string>(value).c_str());
      }
      args.push_back(e);
    }
    amqp_table_t table{static_cast<int>(args.size()), args.data()};
    amqp_queue_declare(conn_, channel, amqp_cstring_bytes(q.name.c_str()), 0,
                       q.durable, q.exclusive, q.auto_delete, table);
    if (auto err = rpc_error(("queue.declare " + q.name).c_str()); !err.empty())
      return err;
  }
  for (auto& b : t.bindings) {
    amqp_queue_bind(conn_, channel, amqp_cstring_bytes(b.queue.c_str()),
                    amqp_cstring_bytes(b.exchange.c_str()),
                    amqp_cstring_bytes(b.routing_key.c_str()),
                    amqp_empty_table);
    if (auto err = rpc_error(("queue.bind " + b.queue).c_str()); !err.empty())
      return err;
  }
  return {};
}

std::string amqp_connection::open_channel(amqp_channel_t ch) {
  amqp_channel_open(conn_, ch);
  return rpc_error("channel.open");
}

std::string amqp_connection::enable_confirms(amqp_channel_t ch) {
  amqp_confirm_select(conn_, ch);
  return rpc_error("confirm.select");
}

std::string amqp_connection::publish(const std::string& exchange,
                                     const std::string& routing_key,
                                     const message_properties& p,
                                     const std::string& body, bool mandatory,
                                     amqp_channel_t ch) {
  amqp_basic_properties_t props;
  std::memset(&props, 0, sizeof(props));
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG
                 | AMQP_BASIC_APP_ID_FLAG;
  props.content_type = bytes(p.content_type);
  props.delivery_mode = p.delivery_mode;
  props.app_id = bytes(p.app_id);
  if (!p.message_id.empty()) {
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    props.message_id = bytes(p.message_id);
  }
  if (!p.correlation_id.empty()) {
    props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
    props.correlation_id = bytes(p.correlation_id);
  }
  if (!p.type.empty()) {
    props._flags |= AMQP_BASIC_TYPE_FLAG;
    props.type = bytes(p.type);
  }
  if (p.timestamp > 0) {
    props._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    props.timestamp = static_cast<uint64_t>(p.timestamp);
  }
  if (!p.reply_to.empty()) {
    props._flags |= AMQP_BASIC_REPLY_TO_FLAG;
    props.reply_to = bytes(p.reply_to);
  }
  if (!p.expiration.empty()) {
    props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    props.expiration = bytes(p.expiration);
  }
  std::vector<amqp_table_entry_t> headers;
  for (auto& [key, value] : p.headers) {
    amqp_table_entry_t e;
    e.key = bytes(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = bytes(value);
    headers.push_back(e);
  }
  if (!headers.empty()) {
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers.num_entries = static_cast<int>(headers.size());
    props.headers.entries = headers.data();
  }
  auto rc = amqp_basic_publish(conn_, ch, bytes(exchange), bytes(routing_key),
                               mandatory ? 1 : 0, 0, &props, bytes(body));
  if (rc != AMQP_STATUS_OK)
    return "basic.publish: " + library_error(rc);
  return {};
}

std::string amqp_connection::publish_copy(
  const std::string& exchange, const std::string& routing_key,
  const amqp_basic_properties_t& original,
  const std::vector<std::pair<std::string, std::string>>& set_headers,
  const std::string& expiration, const std::string& body) {
  auto props = original;
  std::vector<amqp_table_entry_t> headers;
  auto replaced = [&](amqp_bytes_t key) {
    for (auto& [k, v] : set_headers)
      if (k == text(key))
        return true;
    return false;
  };
  if (original._flags & AMQP_BASIC_HEADERS_FLAG)
    for (int i = 0; i < original.headers.num_entries; ++i)
      if (!replaced(original.headers.entries[i].key))
        headers.push_back(original.headers.entries[i]);
  for (auto& [key, value] : set_headers) {
    amqp_table_entry_t e;
    e.key = bytes(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = bytes(value);
    headers.push_back(e);
  }
  props._flags |= AMQP_BASIC_HEADERS_FLAG;
  props.headers.num_entries = static_cast<int>(headers.size());
  props.headers.entries = headers.data();
  if (!expiration.empty()) {
    props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    props.expiration = bytes(expiration);
  }
  auto rc = amqp_basic_publish(conn_, channel, bytes(exchange),
                               bytes(routing_key), 0, 0, &props, bytes(body));
  if (rc != AMQP_STATUS_OK)
    return "basic.publish: " + library_error(rc);
  return {};
}

std::chrono::milliseconds reconnect_backoff::next() {
  constexpr int64_t min_ms = 100;
  constexpr int64_t max_ms = 10000;
  auto base = std::min<int64_t>(max_ms, min_ms << std::min(attempt_, 10));
  ++attempt_;
  std::uniform_real_distribution<double> jitter{0.8, 1.2};
  return std::chrono::milliseconds(
    static_cast<int64_t>(static_cast<double>(base) * jitter(gen_)));
}

std::string redact_url(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos)
    return url;
  return url.substr(0, scheme + 3) + url.substr(at + 1);
}

message_properties read_properties(const amqp_basic_properties_t& p) {
  message_properties m;
  auto has = [&](amqp_flags_t f) { return (p._flags & f) != 0; };
  if (has(AMQP_BASIC_CONTENT_TYPE_FLAG))
    m.content_type = text(p.content_type);
  if (has(AMQP_BASIC_MESSAGE_ID_FLAG))
    m.message_id = text(p.message_id);
  if (has(AMQP_BASIC_CORRELATION_ID_FLAG))
    m.correlation_id = text(p.correlation_id);
  if (has(AMQP_BASIC_TYPE_FLAG))
    m.type = text(p.type);
  if (has(AMQP_BASIC_TIMESTAMP_FLAG))
    m.timestamp = static_cast<int64_t>(p.timestamp);
  if (has(AMQP_BASIC_APP_ID_FLAG))
    m.app_id = text(p.app_id);
  if (has(AMQP_BASIC_DELIVERY_MODE_FLAG))
    m.delivery_mode = p.delivery_mode;
  if (has(AMQP_BASIC_REPLY_TO_FLAG))
    m.reply_to = text(p.reply_to);
  if (has(AMQP_BASIC_EXPIRATION_FLAG))
    m.expiration = text(p.expiration);
  if (has(AMQP_BASIC_HEADERS_FLAG)) {
    for (int i = 0; i < p.headers.num_entries; ++i) {
      auto& e = p.headers.entries[i];
      std::string value;
      switch (e.value.kind) {
        case AMQP_FIELD_KIND_UTF8:
        case AMQP_FIELD_KIND_BYTES:
          value = text(e.value.value.bytes);
          break;
        case AMQP_FIELD_KIND_I64:
          value = std::to_string(e.value.value.i64);
          break;
        case AMQP_FIELD_KIND_I32:
          value = std::to_string(e.value.value.i32);
          break;
        default:
          continue; // x-death and other tables: not needed by the bridges
      }
      m.headers.emplace_back(text(e.key), std::move(value));
    }
  }
  return m;
}

} // namespace booking
