#include "bridges/amqp_connection.hpp"

#include "bridges/amqp_url.hpp"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

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

// -- TLS ----------------------------------------------------------------------

/// Why OpenSSL rejected the broker's certificate in the last handshake of
/// this thread (the verify callback runs on the thread that connects).
thread_local std::string rejected_certificate;

int remember_rejection(int ok, X509_STORE_CTX* ctx) {
  if (ok == 0 && rejected_certificate.empty()) {
    auto code = X509_STORE_CTX_get_error(ctx);
    rejected_certificate = X509_verify_cert_error_string(code);
    if (code == X509_V_ERR_HOSTNAME_MISMATCH
        || code == X509_V_ERR_IP_ADDRESS_MISMATCH)
      rejected_certificate += " (the URL's host is not in the certificate)";
  }
  return ok;
}

/// An encrypted key would make OpenSSL ask for its password on the
/// terminal; it fails instead.
int no_password(char*, int, int, void*) {
  return 0;
}

/// The oldest OpenSSL error of this thread as text, and clears the queue.
std::string openssl_error() {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return {};
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

/// Configures a TLS socket before it connects: TLS 1.2 or later, the CA
/// store (amqp.ca-file, else the system's), the client certificate, and, with
/// amqp.verify, a handshake that fails unless the chain is trusted and names
/// `host` (a DNS name or an IP address, RFC 6125 rules). OpenSSL checks the
/// host itself, rather than rabbitmq-c after the handshake, because it also
/// knows IP addresses in certificates.
std::string setup_tls(amqp_socket_t* socket, const amqp_settings& cfg,
                      const std::string& host) {
  ERR_clear_error();
  auto ctx = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_default_passwd_cb(ctx, no_password);
  if (!cfg.cert_file.empty()
      && amqp_ssl_socket_set_key(socket, cfg.cert_file.c_str(),
                                 cfg.key_file.c_str())
           != AMQP_STATUS_OK)
    return "TLS: cannot load amqp.cert-file " + cfg.cert_file
           + " with amqp.key-file " + cfg.key_file + ": " + openssl_error();
  amqp_ssl_socket_set_verify_hostname(socket, 0);
  if (!cfg.verify) {
    amqp_ssl_socket_set_verify_peer(socket, 0);
    return {};
  }
  amqp_ssl_socket_set_verify_peer(socket, 1);
  if (cfg.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
      return "TLS: cannot load the system's CA store: " + openssl_error();
  } else if (amqp_ssl_socket_set_cacert(socket, cfg.ca_file.c_str())
             != AMQP_STATUS_OK) {
    return "TLS: cannot load amqp.ca-file " + cfg.ca_file + ": "
           + openssl_error();
  }
  auto param = SSL_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  // An IP address is matched against the certificate's IP entries, a name
  // against its DNS names.
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
    ERR_clear_error();
    if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1)
      return "TLS: cannot check host name " + host + ": " + openssl_error();
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, remember_rejection);
  return {};
}

/// Why a TLS connection failed, from what OpenSSL and rabbitmq-c said.
std::string tls_error(int status, const amqp_settings& cfg,
                      const std::string& where) {
  if (!rejected_certificate.empty()) {
    auto store = cfg.ca_file.empty()
                   ? std::string{"the system's CA store (set amqp.ca-file)"}
                   : "amqp.ca-file " + cfg.ca_file;
    return "TLS: the broker's certificate at " + where + " is not trusted: "
           + rejected_certificate + "; checked against " + store;
  }
  auto detail = openssl_error();
  return "TLS handshake with " + where
         + " failed: " + (detail.empty() ? library_error(status) : detail);
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
  amqp_socket_t* socket = url->tls ? amqp_ssl_socket_new(conn_)
                                   : amqp_tcp_socket_new(conn_);
  if (socket == nullptr) {
    close();
    return "cannot create a socket";
  }
  if (url->tls)
    if (auto err = setup_tls(socket, cfg, url->host); !err.empty()) {
      close();
      return err;
    }
  auto where = url->host + ":" + std::to_string(url->port);
  timeval tv{connect_timeout_seconds, 0};
  rejected_certificate.clear();
  if (auto rc = amqp_socket_open_noblock(socket, url->host.c_str(), url->port,
                                         &tv);
      rc != AMQP_STATUS_OK) {
    auto handshake = rc <= AMQP_STATUS_SSL_ERROR
                     && rc > _AMQP_STATUS_SSL_NEXT_VALUE;
    auto err = handshake ? tls_error(rc, cfg, where)
                         : "connect to " + where + ": " + library_error(rc);
    close();
    return err;
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
    // Under TLS 1.3 a broker that wants a client certificate says so only
    // after the handshake, as the login starts: with an alert, or, if the
    // login was still being sent, by closing the connection.
    if (url->tls && login.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      auto tls = openssl_error();
      if (tls.find("certificate required") != std::string::npos)
        err = "login failed: " + describe_login(*url)
              + " (the broker asks for a client certificate: set "
                "amqp.cert-file and amqp.key-file)";
      else if (cfg.cert_file.empty())
        err = "login failed: " + describe_login(*url)
              + " (the broker closed the TLS connection after the handshake"
              + (tls.empty() ? std::string{} : ": " + tls)
              + "; if it asks for a client certificate: set "
                "amqp.cert-file and amqp.key-file)";
      else if (!tls.empty())
        err = "login failed: " + describe_login(*url) + " (TLS: " + tls + ")";
    }
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
