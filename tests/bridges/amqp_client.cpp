#include "tests/bridges/amqp_client.hpp"

#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <cstring>
#include <thread>

#include <sys/time.h>

namespace booking::testing {

namespace {

using clock_type = std::chrono::steady_clock;

amqp_bytes_t bytes(const std::string& x) {
  amqp_bytes_t b;
  b.len = x.size();
  b.bytes = const_cast<char*>(x.data());
  return b;
}

std::string text(amqp_bytes_t b) {
  if (b.len == 0)
    return {};
  return {static_cast<const char*>(b.bytes), b.len};
}

/// Renders a header value as text.
std::string render(const amqp_field_value_t& v) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return text(v.value.bytes);
    case AMQP_FIELD_KIND_BOOLEAN:
      return v.value.boolean ? "true" : "false";
    case AMQP_FIELD_KIND_I8:
      return std::to_string(v.value.i8);
    case AMQP_FIELD_KIND_U8:
      return std::to_string(v.value.u8);
    case AMQP_FIELD_KIND_I16:
      return std::to_string(v.value.i16);
    case AMQP_FIELD_KIND_U16:
      return std::to_string(v.value.u16);
    case AMQP_FIELD_KIND_I32:
      return std::to_string(v.value.i32);
    case AMQP_FIELD_KIND_U32:
      return std::to_string(v.value.u32);
    case AMQP_FIELD_KIND_I64:
      return std::to_string(v.value.i64);
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      return std::to_string(v.value.u64);
    case AMQP_FIELD_KIND_TABLE:
      return "<table>";
    case AMQP_FIELD_KIND_ARRAY:
      return "<array>";
    default:
      return "<?>";
  }
}

amqp_props read_props(const amqp_basic_properties_t& p) {
  amqp_props m;
  auto has = [&](amqp_flags_t f) { return (p._flags & f) != 0; };
  if (has(AMQP_BASIC_CONTENT_TYPE_FLAG))
    m.content_type = text(p.content_type);
  if (has(AMQP_BASIC_MESSAGE_ID_FLAG))
    m.message_id = text(p.message_id);
  if (has(AMQP_BASIC_CORRELATION_ID_FLAG))
    m.correlation_id = text(p.correlation_id);
  if (has(AMQP_BASIC_REPLY_TO_FLAG))
    m.reply_to = text(p.reply_to);
  if (has(AMQP_BASIC_TYPE_FLAG))
    m.type = text(p.type);
  if (has(AMQP_BASIC_APP_ID_FLAG))
    m.app_id = text(p.app_id);
  if (has(AMQP_BASIC_EXPIRATION_FLAG))
    m.expiration = text(p.expiration);
  if (has(AMQP_BASIC_DELIVERY_MODE_FLAG))
    m.delivery_mode = p.delivery_mode;
  if (has(AMQP_BASIC_TIMESTAMP_FLAG))
    m.timestamp = p.timestamp;
  if (has(AMQP_BASIC_HEADERS_FLAG))
    for (int i = 0; i < p.headers.num_entries; ++i) {
      auto& e = p.headers.entries[i];
      m.headers.emplace_back(text(e.key), render(e.value));
      m.header_kinds.emplace_back(text(e.key), static_cast<char>(e.value.kind));
    }
  return m;
}

std::string reply_text(const amqp_rpc_reply_t& r, const char* what) {
  std::string prefix = std::string{what} + ": ";
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return {};
    case AMQP_RESPONSE_NONE:
      return prefix + "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return prefix + amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return prefix + "channel closed (" + std::to_string(m->reply_code) + " "
               + text(m->reply_text) + ")";
      }
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return prefix + "connection closed (" + std::to_string(m->reply_code)
               + " " + text(m->reply_text) + ")";
      }
      return prefix + "unexpected method";
  }
  return prefix + "failed";
}

} // namespace

std::optional<std::string> amqp_props::header(const std::string& key) const {
  for (auto& [k, v] : headers)
    if (k == key)
      return v;
  return std::nullopt;
}

char amqp_props::header_kind(const std::string& key) const {
  for (auto& [k, v] : header_kinds)
    if (k == key)
      return v;
  return '-';
}

amqp_client::amqp_client(const std::string& url) {
  std::string buf = url;
  amqp_connection_info info;
  amqp_default_connection_info(&info);
  if (amqp_parse_url(buf.data(), &info) != AMQP_STATUS_OK)
    throw amqp_client_error("not an AMQP URL: " + url);
  conn_ = amqp_new_connection();
  auto socket = amqp_tcp_socket_new(conn_);
  timeval tv{5, 0};
  if (socket == nullptr
      || amqp_socket_open_noblock(socket, info.host, info.port, &tv)
           != AMQP_STATUS_OK) {
    amqp_destroy_connection(conn_);
    conn_ = nullptr;
    throw amqp_client_error("cannot connect to " + std::string{info.host} + ":"
                            + std::to_string(info.port));
  }
  timeval rpc{15, 0};
  amqp_set_rpc_timeout(conn_, &rpc);
  amqp_set_handshake_timeout(conn_, &tv);
  auto login = amqp_login(conn_, info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                          AMQP_SASL_METHOD_PLAIN, info.user, info.password);
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    auto err = reply_text(login, "login");
    amqp_destroy_connection(conn_);
    conn_ = nullptr;
    throw amqp_client_error(err);
  }
  open_channel();
}

amqp_client::~amqp_client() {
  if (conn_ == nullptr)
    return;
  amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn_);
}

void amqp_client::open_channel() {
  amqp_channel_open(conn_, channel_);
  check("channel.open");
  amqp_confirm_select(conn_, channel_);
  check("confirm.select");
  next_tag_ = 1;
}

void amqp_client::check(const char* what) {
  auto r = amqp_get_rpc_reply(conn_);
  if (r.reply_type == AMQP_RESPONSE_NORMAL)
    return;
  auto err = reply_text(r, what);
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION
      && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    // Acknowledge the close and continue on a fresh channel.
    amqp_channel_close_ok_t ok;
    amqp_send_method(conn_, channel_, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    ++channel_;
    open_channel();
  }
  throw amqp_client_error(err);
}

void amqp_client::declare_exchange(const std::string& name,
                                   const std::string& type) {
  amqp_exchange_declare(conn_, channel_, bytes(name), bytes(type), 0, 1, 0, 0,
                        amqp_empty_table);
  check("exchange.declare");
}

void amqp_client::declare_queue(const std::string& name, bool durable,
                                bool exclusive, bool auto_delete) {
  amqp_queue_declare(conn_, channel_, bytes(name), 0, durable ? 1 : 0,
                     exclusive ? 1 : 0, auto_delete ? 1 : 0, amqp_empty_table);
  check("queue.declare");
}

std::string amqp_client::declare_reply_queue() {
  auto ok = amqp_queue_declare(conn_, channel_, amqp_empty_bytes, 0, 0, 1, 1,
                               amqp_empty_table);
  check("queue.declare");
  return text(ok->queue);
}

void amqp_client::bind(const std::string& queue, const std::string& exchange,
                       const std::string& key) {
  amqp_queue_bind(conn_, channel_, bytes(queue), bytes(exchange), bytes(key),
                  amqp_empty_table);
  check("queue.bind");
}

std::optional<amqp_queue_info>
amqp_client::inspect_queue(const std::string& name) {
  auto ok = amqp_queue_declare(conn_, channel_, bytes(name), 1, 0, 0, 0,
                               amqp_empty_table);
  auto r = amqp_get_rpc_reply(conn_);
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION
      && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD
      && static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_code
           == AMQP_NOT_FOUND) {
    try {
      check("queue.declare passive");
    } catch (const amqp_client_error&) {
      // expected: the queue does not exist
    }
    return std::nullopt;
  }
  check("queue.declare passive");
  return amqp_queue_info{ok->message_count, ok->consumer_count};
}

void amqp_client::purge(const std::string& name) {
  amqp_queue_purge(conn_, channel_, bytes(name));
  check("queue.purge");
}

void amqp_client::delete_queue(const std::string& name) {
  amqp_queue_delete(conn_, channel_, bytes(name), 0, 0);
  check("queue.delete");
}

void amqp_client::publish(const std::string& exchange,
                          const std::string& routing_key, const amqp_props& p,
                          const std::string& body) {
  amqp_basic_properties_t props;
  std::memset(&props, 0, sizeof(props));
  auto set = [&](amqp_flags_t flag, amqp_bytes_t& field,
                 const std::string& value) {
    if (value.empty())
      return;
    props._flags |= flag;
    field = bytes(value);
  };
  set(AMQP_BASIC_CONTENT_TYPE_FLAG, props.content_type, p.content_type);
  set(AMQP_BASIC_MESSAGE_ID_FLAG, props.message_id, p.message_id);
  set(AMQP_BASIC_CORRELATION_ID_FLAG, props.correlation_id, p.correlation_id);
  set(AMQP_BASIC_REPLY_TO_FLAG, props.reply_to, p.reply_to);
  set(AMQP_BASIC_TYPE_FLAG, props.type, p.type);
  set(AMQP_BASIC_APP_ID_FLAG, props.app_id, p.app_id);
  set(AMQP_BASIC_EXPIRATION_FLAG, props.expiration, p.expiration);
  if (p.delivery_mode != 0) {
    props._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = p.delivery_mode;
  }
  if (p.timestamp != 0) {
    props._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    props.timestamp = p.timestamp;
  }
  std::vector<amqp_table_entry_t> headers;
  for (auto& [k, v] : p.headers) {
    amqp_table_entry_t e;
    e.key = bytes(k);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = bytes(v);
    headers.push_back(e);
  }
  for (auto& [k, v] : p.int_headers) {
    amqp_table_entry_t e;
    e.key = bytes(k);
    e.value.kind = AMQP_FIELD_KIND_I64;
    e.value.value.i64 = v;
    headers.push_back(e);
  }
  for (auto& [k, v] : p.bool_headers) {
    amqp_table_entry_t e;
    e.key = bytes(k);
    e.value.kind = AMQP_FIELD_KIND_BOOLEAN;
    e.value.value.boolean = v ? 1 : 0;
    headers.push_back(e);
  }
  if (!headers.empty()) {
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers.num_entries = static_cast<int>(headers.size());
    props.headers.entries = headers.data();
  }
  auto rc = amqp_basic_publish(conn_, channel_, bytes(exchange),
                               bytes(routing_key), 0, 0, &props, bytes(body));
  if (rc != AMQP_STATUS_OK)
    throw amqp_client_error(std::string{"basic.publish: "}
                            + amqp_error_string2(rc));
  auto tag = next_tag_++;
  for (;;) {
    amqp_frame_t frame;
    timeval tv{15, 0};
    rc = amqp_simple_wait_frame_noblock(conn_, &frame, &tv);
    if (rc != AMQP_STATUS_OK)
      throw amqp_client_error(std::string{"waiting for a confirm: "}
                              + amqp_error_string2(rc));
    if (frame.frame_type != AMQP_FRAME_METHOD)
      continue;
    auto id = frame.payload.method.id;
    if (id == AMQP_BASIC_ACK_METHOD) {
      auto m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      if (m->delivery_tag >= tag)
        return;
    } else if (id == AMQP_BASIC_NACK_METHOD) {
      throw amqp_client_error("basic.publish: nacked by the broker");
    } else if (id == AMQP_CHANNEL_CLOSE_METHOD) {
      amqp_channel_close_ok_t ok;
      amqp_send_method(conn_, channel_, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      ++channel_;
      open_channel();
      throw amqp_client_error("basic.publish: channel closed by the broker");
    } else if (id == AMQP_CONNECTION_CLOSE_METHOD) {
      throw amqp_client_error("basic.publish: connection closed");
    }
  }
}

std::optional<amqp_received>
amqp_client::get(const std::string& queue, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    amqp_maybe_release_buffers(conn_);
    auto r = amqp_basic_get(conn_, channel_, bytes(queue), 1);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
      check("basic.get");
    if (r.reply.id == AMQP_BASIC_GET_OK_METHOD) {
      auto ok = static_cast<amqp_basic_get_ok_t*>(r.reply.decoded);
      amqp_received result;
      result.exchange = text(ok->exchange);
      result.routing_key = text(ok->routing_key);
      result.redelivered = ok->redelivered != 0;
      amqp_message_t msg;
      auto rr = amqp_read_message(conn_, channel_, &msg, 0);
      if (rr.reply_type != AMQP_RESPONSE_NORMAL)
        throw amqp_client_error(reply_text(rr, "reading a message"));
      result.props = read_props(msg.properties);
      result.body = text(msg.body);
      amqp_destroy_message(&msg);
      return result;
    }
    if (clock_type::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<amqp_received>
amqp_client::drain(const std::string& queue, std::chrono::milliseconds quiet,
                   std::chrono::milliseconds timeout) {
  std::vector<amqp_received> result;
  auto start = clock_type::now();
  auto last = start;
  while (clock_type::now() - start < timeout) {
    if (auto m = get(queue)) {
      result.push_back(std::move(*m));
      last = clock_type::now();
    } else if (clock_type::now() - last >= quiet) {
      break;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return result;
}

std::unique_ptr<amqp_client>
connect_with_retry(const std::string& url, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    try {
      return std::make_unique<amqp_client>(url);
    } catch (const amqp_client_error&) {
      if (clock_type::now() >= deadline)
        throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

} // namespace booking::testing
