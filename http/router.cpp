#include "http/router.hpp"

#include <vector>

namespace booking {

namespace {

namespace http = boost::beast::http;

struct method_row {
  http::verb method;
  endpoint target;
};

struct route_row {
  const char* path;
  std::vector<method_row> methods;
};

// clang-format off
const std::vector<route_row>& routes() {
  static const std::vector<route_row> table{
    {"/api/v1/tours",                   {{http::verb::get, endpoint::list_tours},
                                         {http::verb::post, endpoint::create_tour}}},
    {"/api/v1/tours/{id}",              {{http::verb::get, endpoint::get_tour}}},
    {"/api/v1/tours/{id}/availability", {{http::verb::get, endpoint::get_availability}}},
    {"/api/v1/bookings",                {{http::verb::get, endpoint::list_bookings},
                                         {http::verb::post, endpoint::create_booking}}},
    // Before "{id}", which would take "summary" for an id.
    {"/api/v1/bookings/summary",        {{http::verb::get, endpoint::booking_summary}}},
    {"/api/v1/bookings/{id}",           {{http::verb::get, endpoint::get_booking},
                                         {http::verb::delete_, endpoint::cancel_booking}}},
    {"/api/v1/bookings/{id}/cancel",    {{http::verb::post, endpoint::cancel_booking}}},
    {"/api/v1/bookings/{id}/retry",     {{http::verb::post, endpoint::retry_booking}}},
    {"/api/v1/notifications",           {{http::verb::get, endpoint::list_notifications}}},
    {"/api/v1/notifications/{id}",      {{http::verb::get, endpoint::get_notification}}},
    {"/healthz",                        {{http::verb::get, endpoint::healthz}}},
    {"/readyz",                         {{http::verb::get, endpoint::readyz}}},
    {"/metrics",                        {{http::verb::get, endpoint::metrics}}},
    {"/ui",                             {{http::verb::get, endpoint::console}}},
    {"/ui/{id}",                        {{http::verb::get, endpoint::console}}},
  };
  return table;
}
// clang-format on

/// Matches `path` against a template; stores the `{id}` segment.
bool matches(std::string_view tmpl, std::string_view path, std::string& id) {
  while (!tmpl.empty() && !path.empty()) {
    if (tmpl.substr(0, 4) == "{id}") {
      auto end = path.find('/');
      auto seg = path.substr(0, end);
      if (seg.empty())
        return false;
      id = percent_decode(seg);
      tmpl.remove_prefix(4);
      path.remove_prefix(seg.size());
      continue;
    }
    if (tmpl.front() != path.front())
      return false;
    tmpl.remove_prefix(1);
    path.remove_prefix(1);
  }
  return tmpl.empty() && path.empty();
}

int hex(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

route_match match_route(http::verb method, std::string_view path) {
  route_match result;
  // A trailing slash names the same resource.
  if (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  for (auto& row : routes()) {
    std::string id;
    if (!matches(row.path, path, id))
      continue;
    result.route = row.path;
    result.id = std::move(id);
    for (auto& m : row.methods) {
      if (!result.allow.empty())
        result.allow += ", ";
      result.allow += std::string{http::to_string(m.method)};
      if (m.method == method)
        result.target = m.target;
    }
    return result;
  }
  return result;
}

std::string percent_decode(std::string_view x) {
  std::string out;
  out.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == '%' && i + 2 < x.size()) {
      auto hi = hex(x[i + 1]);
      auto lo = hex(x[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += x[i];
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> result;
  while (!query.empty()) {
    auto end = query.find('&');
    auto pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view{}
                                          : query.substr(end + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq));
    auto val = eq == std::string_view::npos
                 ? std::string{}
                 : percent_decode(pair.substr(eq + 1));
    result[std::move(key)] = std::move(val);
  }
  return result;
}

} // namespace booking
