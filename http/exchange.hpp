// One API request in flight: what the request pipeline learned of it and
// what the response will carry. Shared by the pipeline (`api.cpp`) and the
// resources, which answer through `api->reply`.

#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "actors/messages/booking.hpp"
#include "http/router.hpp"

namespace booking {

using http_request
  = boost::beast::http::request<boost::beast::http::string_body>;
using http_response
  = boost::beast::http::response<boost::beast::http::string_body>;

/// Receives the response of one request; called exactly once.
using reply_fn = std::function<void(http_response&&)>;

class api_handler;

/// Per-request state, shared by the steps of one request.
struct exchange {
  std::shared_ptr<api_handler> api;
  reply_fn done;
  std::chrono::steady_clock::time_point start;
  std::string request_id;
  /// The request's W3C trace context (`traceparent`), or a new one when it
  /// sent none or an invalid one; echoed in the response.
  trace_context trace;
  std::string method;
  std::string origin;
  unsigned version = 11;
  bool keep_alive = true;
  route_match route;
  std::map<std::string, std::string> query;
  /// `Prefer: wait=N`, or -1.
  int wait = -1;
  /// Extra headers of the response (Location, Retry-After, ...).
  std::vector<std::pair<std::string, std::string>> headers;
  /// The booking a booking request created or a cancel names, for the log.
  std::string booking_id;
  /// A HEAD request gets the headers without the body.
  bool head = false;
};

using exchange_ptr = std::shared_ptr<exchange>;

} // namespace booking
