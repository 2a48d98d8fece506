// The API's request pipeline: the policy every request passes (request id,
// rate limit, bearer tokens, CORS, media type), then the resource that
// answers it, then the common response headers, metrics and the log line.
//
// `handle` never blocks: it checks what it can on the calling I/O thread,
// then a resource (`resources.hpp`) spawns a one-shot actor that asks the
// actors and calls `done` with the response from a CAF thread. The server
// posts that back onto the connection's strand.

#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/codec/problem.hpp"
#include "http/exchange.hpp"
#include "http/guards.hpp"
#include "http/http_settings.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"

namespace booking {

/// Answers API requests. Shared by the I/O threads and the one-shot actors.
class api_handler : public std::enable_shared_from_this<api_handler> {
public:
  api_handler(caf::actor_system& sys, api_peers peers, http_settings cfg,
              http_options opts);

  /// Handles one complete request from `client` (its address).
  void handle(http_request&& req, const std::string& client, reply_fn done);

  /// The response to a request the server refused before it was complete
  /// (413, 431, 400) or while stopping (503); `req` holds whatever was
  /// parsed of it. The connection closes after it.
  http_response refuse(const problem& p, const http_request& req);

  // -- responses ----------------------------------------------------------

  /// Sends a JSON body with `status`.
  void reply(const exchange_ptr& ex, unsigned status, std::string body);
  /// Sends a problem document.
  void reply(const exchange_ptr& ex, const problem& p);
  /// Adds the common headers, records metrics and hands the response over.
  void finish(const exchange_ptr& ex, http_response&& res);

  // -- what the resources use ---------------------------------------------

  caf::actor_system& system() {
    return sys_;
  }

  const api_peers& peers() const {
    return peers_;
  }

  const http_options& options() const {
    return opts_;
  }

  const http_metrics& metrics() const {
    return metrics_;
  }

private:
  bool authorized(const exchange_ptr& ex, const http_request& req);
  void dispatch(const exchange_ptr& ex, http_request& req);
  void preflight(const exchange_ptr& ex, const http_request& req);

  caf::actor_system& sys_;
  api_peers peers_;
  http_settings cfg_;
  http_options opts_;
  rate_limiter limiter_;
  cors_policy cors_;
  http_metrics metrics_;
};

} // namespace booking
