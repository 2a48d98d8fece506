// The API's request handling: routing, the per-request checks, and the
// endpoints, which ask the actors asynchronously.
//
// `handle` never blocks: it checks what it can on the calling I/O thread,
// then spawns a one-shot actor that sends the actor requests and calls
// `done` with the response from a CAF thread. The server posts that back
// onto the connection's strand.

#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <caf/actor_system.hpp>

#include "actors/settings.hpp"
#include "config/wiring.hpp"
#include "http/guards.hpp"
#include "http/metrics.hpp"
#include "http/problem.hpp"
#include "http/server.hpp"

namespace booking {

using http_request
  = boost::beast::http::request<boost::beast::http::string_body>;
using http_response
  = boost::beast::http::response<boost::beast::http::string_body>;

/// Receives the response of one request; called exactly once.
using reply_fn = std::function<void(http_response&&)>;

/// Answers API requests. Shared by the I/O threads and the one-shot actors.
class api_handler : public std::enable_shared_from_this<api_handler> {
public:
  api_handler(caf::actor_system& sys, engine e, http_settings cfg,
              http_options opts);

  /// Handles one complete request from `client` (its address).
  void handle(http_request&& req, const std::string& client, reply_fn done);

  /// The response to a request the server refused before it was complete
  /// (413, 431, 400) or while stopping (503); `req` holds whatever was
  /// parsed of it. The connection closes after it.
  http_response refuse(const problem& p, const http_request& req);

  /// Per-request state, shared by the steps of one request.
  struct exchange;

  using exchange_ptr = std::shared_ptr<exchange>;

  // -- responses ----------------------------------------------------------

  /// Sends a JSON body with `status`.
  void reply(const exchange_ptr& ex, unsigned status, std::string body);
  /// Sends a problem document.
  void reply(const exchange_ptr& ex, const problem& p);
  /// Adds the common headers, records metrics and hands the response over.
  void finish(const exchange_ptr& ex, http_response&& res);

private:
  // -- steps --------------------------------------------------------------

  bool authorized(const exchange_ptr& ex, const http_request& req);
  void dispatch(const exchange_ptr& ex, http_request& req);
  void preflight(const exchange_ptr& ex, const http_request& req);

  // -- endpoints ----------------------------------------------------------

  void create_tour(const exchange_ptr& ex, const http_request& req);
  void list_tours(const exchange_ptr& ex);
  void get_tour(const exchange_ptr& ex);
  void get_availability(const exchange_ptr& ex);
  void create_booking(const exchange_ptr& ex, const http_request& req);
  void list_bookings(const exchange_ptr& ex);
  void get_booking(const exchange_ptr& ex);
  void cancel_booking(const exchange_ptr& ex, const http_request& req);
  void list_notifications(const exchange_ptr& ex);
  void get_notification(const exchange_ptr& ex);
  void readyz(const exchange_ptr& ex);
  void metrics(const exchange_ptr& ex);

  caf::actor_system& sys_;
  engine engine_;
  http_settings cfg_;
  http_options opts_;
  rate_limiter limiter_;
  cors_policy cors_;
  http_metrics metrics_;
};

} // namespace booking
