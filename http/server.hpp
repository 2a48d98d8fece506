// The HTTP API: a Boost.Beast HTTP/1.1 server in front of the engine.
//
// `http.threads` I/O threads run the connections, one strand each. A request
// is parsed and checked on its connection (limits, timeouts, auth, CORS,
// rate limit), then handed to the actors asynchronously by a one-shot actor;
// the reply is posted back onto the connection's strand. No I/O thread ever
// waits on an actor.
//
//   booking::http_server api{sys, peers, settings.http, opts};
//   api.start();              // binds, logs "listening", runs the threads
//   ... api.port() ...
//   api.stop();               // stops accepting, closes, joins the threads

#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/availability_actor.hpp"
#include "actors/backpressure.hpp"
#include "actors/front_desk.hpp"
#include "actors/notification_actor.hpp"
#include "http/http_settings.hpp"
#include "http/metrics.hpp"

namespace booking {

/// State of one readiness check, as `/readyz` reports it.
enum class check_state { ok, starting, down };

/// Checks behind `/readyz`; an empty function leaves its check out.
struct readiness_checks {
  std::function<check_state()> store;
  std::function<check_state()> amqp;
  /// Why `amqp` is not ok, in one line (`detail.amqp`); may be empty.
  std::function<std::string()> amqp_problem;
  /// Names the sagas the store holds that this release cannot resume, in
  /// one line of text (`detail.store`; they leave the answer at 200); empty:
  /// none.
  std::string suspended;
};

/// The actors the API talks to: the front desk for bookings and tours, and
/// the read models it answers from directly.
struct api_peers {
  front_desk_actor desk;
  /// Tours and seats left (the availability read model).
  availability_actor availability;
  /// Notifications sent (the pool of notification workers).
  notification_actor notifications;
  /// Number of actors per role, for `/metrics`.
  std::vector<std::pair<std::string, size_t>> actor_counts;
};

/// Everything the HTTP layer needs besides its peers and its settings.
struct http_options {
  /// Bearer token of the admin routes (`BOOKING_ADMIN_TOKEN`); empty = open.
  std::string admin_token;
  /// Bearer token of the other `/api/` routes (`BOOKING_API_TOKEN`).
  std::string api_token;
  readiness_checks ready;
  /// The engine's backpressure, for `/readyz` (`checks.backpressure`) and
  /// the outbox gauges of `/metrics`; empty: never under pressure.
  std::shared_ptr<const backpressure> gate;
  /// Counters of the AMQP bridge for `/metrics`; empty = all zero.
  std::function<amqp_counters()> amqp_metrics;
  /// Counters of the durable store, if there is one.
  std::function<store_counters()> store_metrics;
};

/// Reads the bearer tokens from the environment.
http_options http_options_from_env();

/// The HTTP server.
class http_server {
public:
  http_server(caf::actor_system& sys, api_peers peers, http_settings cfg,
              http_options opts);

  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds the listener and starts the I/O threads; throws
  /// `std::system_error` if the address cannot be bound.
  void start();

  /// The bound port (useful with `port = 0`).
  uint16_t port() const;

  /// Stops accepting, closes every connection and joins the I/O threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace booking
