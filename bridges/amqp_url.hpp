// The broker's address, as `amqp.url` (or BOOKING_AMQP_URL) gives it.
//
// The URL follows RabbitMQ's URI spec:
//
//   amqp[s]://[user[:password]@]host[:port][/vhost]
//
// Each part is percent-decoded. The defaults are user and password
// `guest`, host `localhost`, and port 5672 (5671 with `amqps`). The vhost
// is one path segment:
//
//   amqp://host:5672           vhost "/" (no path: the default vhost)
//   amqp://host:5672/          vhost ""  (an empty one, which brokers
//                                         refuse: write %2f for "/")
//   amqp://host:5672/%2f       vhost "/"
//   amqp://host:5672/other     vhost "other"
//
// A second '/' in the path, a query or a fragment are refused, as are an
// unknown scheme, a bad port and bad percent escapes.

#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace booking {

struct amqp_url {
  bool tls = false;
  std::string user = "guest";
  std::string password = "guest";
  /// Without the brackets of an IPv6 address.
  std::string host = "localhost";
  uint16_t port = 5672;
  std::string vhost = "/";
};

/// Parses `text`; on failure returns none and sets `error` to what is wrong,
/// in words, without the password.
std::optional<amqp_url> parse_amqp_url(const std::string& text,
                                       std::string& error);

/// `x` as a URL again, every part percent-encoded where needed, with the
/// password (for a URL that is passed on, e.g. through a proxy).
std::string to_url(const amqp_url& x);

/// Who logs in where, for log lines and `/readyz`: "user guest, vhost ''"
/// (the vhost as the broker sees it, decoded, in quotes).
std::string describe_login(const amqp_url& x);

} // namespace booking
