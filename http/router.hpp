// The route table of the API: which endpoint a method and path reach.
//
// Routes are data: each row is a path template, and each of its methods
// names an endpoint. A path that matches no template is `unmatched` (404);
// a template without the method is a 405 whose `Allow` lists the methods it
// has. Metrics label requests with the template, never the raw path.

#pragma once

#include <map>
#include <string>
#include <string_view>

#include <ostream> // needed by boost/core/detail/string_view.hpp

#include <boost/beast/http/verb.hpp>

namespace booking {

/// What a request asks for.
enum class endpoint {
  none,
  create_tour,
  list_tours,
  get_tour,
  get_availability,
  create_booking,
  list_bookings,
  booking_summary,
  get_booking,
  cancel_booking,
  retry_booking,
  list_notifications,
  get_notification,
  healthz,
  readyz,
  metrics,
  console,
};

/// Result of routing one request.
struct route_match {
  /// The path template, or `unmatched`.
  std::string route = "unmatched";
  /// `none` if the path or the method did not match.
  endpoint target = endpoint::none;
  /// The `{id}` segment, if the template has one.
  std::string id;
  /// The template's methods, for `Allow` (empty if the path is unknown).
  std::string allow;
};

/// Routes `method` and `path` (without the query string).
route_match match_route(boost::beast::http::verb method, std::string_view path);

/// Splits a query string into decoded keys and values.
std::map<std::string, std::string> parse_query(std::string_view query);

/// Decodes `%XX` escapes; `+` stays a plus sign.
std::string percent_decode(std::string_view x);

} // namespace booking
