// A loopback TCP forwarder the simulator puts between the engine and the
// broker, so that it can inject a broker outage without touching the broker.
//
// The engine gets an AMQP URL that points at the proxy instead of the broker.
// Switching the proxy down cuts every connection through it and closes each
// new one right after accepting it, which is what the engine sees when the
// broker goes away; switching it up again lets the engine reconnect.
//
//   auto target = booking::parse_amqp_target(url); // where the broker is
//   booking::tcp_proxy proxy{target->host, target->port};
//   settings.amqp.url = booking::redirect_amqp_url(url, proxy.port());
//   ...
//   proxy.set_down(true);  // the outage starts: every connection is cut
//   proxy.set_down(false); // the outage ends: the engine may reconnect

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace booking {

/// Forwards TCP connections from 127.0.0.1:<port()> to a target; can cut
/// every connection and refuse new ones for an outage window.
///
/// One thread of its own does all the forwarding; every member function may
/// be called from any other thread.
class tcp_proxy {
public:
  /// Listens on 127.0.0.1 on a free port and forwards each connection to
  /// `target_host:target_port`, resolved once here. Throws
  /// `std::system_error` if the target does not resolve or the proxy cannot
  /// listen.
  tcp_proxy(std::string target_host, uint16_t target_port);

  /// Closes every connection and stops the thread.
  ~tcp_proxy();

  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  /// The port the proxy listens on, on 127.0.0.1.
  uint16_t port() const;

  /// With `down`, closes every open connection (both its sides) and closes
  /// each new connection right after accepting it, until `set_down(false)`.
  /// Returns once the change took effect: after `set_down(true)` no
  /// connection is open any more.
  void set_down(bool down);

  /// Connections accepted and forwarded so far; the ones closed because the
  /// proxy was down do not count.
  size_t connections() const;

private:
  struct state;
  std::unique_ptr<state> state_;
};

/// Where an `amqp://` URL points.
struct amqp_target {
  /// Without the brackets of an IPv6 address, percent-decoded.
  std::string host;
  uint16_t port = 5672;
};

/// Reads host and port of an `amqp://user:pass@host:port/vhost` URL with the
/// defaults of rabbitmq-c: host "localhost" and port 5672 when absent.
/// Returns nothing on a URL that rabbitmq-c would reject, and on `amqps://`,
/// which the proxy cannot stand in for.
std::optional<amqp_target> parse_amqp_target(const std::string& url);

/// Rewrites an `amqp://user:pass@host:port/vhost` URL to point at
/// 127.0.0.1:`port`, keeping credentials and vhost as written. Returns an
/// empty string on a URL `parse_amqp_target` rejects.
std::string redirect_amqp_url(const std::string& url, uint16_t port);

} // namespace booking
