#include "http/api.hpp"

#include <algorithm>
#include <cstdlib>

#include <boost/beast/http/field.hpp>

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "http/console.hpp"
#include "http/resources.hpp"
#include "http/router.hpp"

namespace booking {

namespace http = boost::beast::http;

namespace {

constexpr const char* json_type = "application/json; charset=utf-8";

/// True if `x` is usable as a request id: 1 to 128 visible ASCII chars.
bool is_request_id(const std::string& x) {
  return !x.empty() && x.size() <= 128
         && std::all_of(x.begin(), x.end(),
                        [](char c) { return c > 0x20 && c < 0x7f; });
}

/// Fills what an exchange records of its request (method, route, ...).
void describe_request(exchange& ex, const http_request& req) {
  // Unknown methods share one label, so clients cannot grow the metrics.
  ex.method = req.method() == http::verb::unknown
                ? std::string{"other"}
                : std::string{req.method_string()};
  ex.head = req.method() == http::verb::head;
  ex.origin = std::string{req[http::field::origin]};
  ex.version = req.version() == 10 ? 10 : 11;
  ex.keep_alive = req.keep_alive();
  auto target = std::string_view{req.target().data(), req.target().size()};
  if (!target.empty())
    ex.route = match_route(req.method(), target.substr(0, target.find('?')));
}

} // namespace

api_handler::api_handler(caf::actor_system& sys, api_peers peers,
                         http_settings cfg, http_options opts)
    : sys_(sys), peers_(std::move(peers)), cfg_(std::move(cfg)),
      opts_(std::move(opts)), limiter_(cfg_.rate_limit, cfg_.rate_burst),
      cors_(cfg_.cors_origins) {
  // nop
}

// -- entry --------------------------------------------------------------------

void api_handler::handle(http_request&& req, const std::string& client,
                         reply_fn done) {
  auto ex = std::make_shared<exchange>();
  ex->api = shared_from_this();
  ex->done = std::move(done);
  ex->start = std::chrono::steady_clock::now();
  auto rid = std::string{req["X-Request-Id"]};
  ex->request_id = is_request_id(rid) ? rid : new_booking_id();
  ex->trace = trace_context::parse_or_make(std::string{req["traceparent"]});
  describe_request(*ex, req);
  auto target = std::string_view{req.target().data(), req.target().size()};
  auto qpos = target.find('?');
  auto path = target.substr(0, qpos);
  if (qpos != std::string_view::npos)
    ex->query = parse_query(target.substr(qpos + 1));
  if (req.method() == http::verb::options && !ex->route.allow.empty())
    return preflight(ex, req);
  if (ex->route.target == endpoint::none) {
    if (ex->route.allow.empty())
      return reply(ex, make_problem(404, "not-found", "No such route."));
    ex->headers.emplace_back("Allow", ex->route.allow);
    return reply(ex, make_problem(405, "method-not-allowed",
                                  "Allowed methods: " + ex->route.allow + "."));
  }
  auto is_api = path.substr(0, 5) == "/api/";
  // The rate limit comes first, so that floods of bad tokens count too.
  if (is_api && limiter_.enabled()) {
    int retry_after = 1;
    if (!limiter_.allow(client, retry_after)) {
      auto p = make_problem(429, "rate-limited",
                            "Too many requests from this client.");
      p.retry_after = retry_after;
      return reply(ex, p);
    }
  }
  if (is_api && !authorized(ex, req))
    return;
  if (!req.body().empty()) {
    auto type = lower(std::string{req[http::field::content_type]});
    auto media = type.substr(0, type.find(';'));
    media.erase(media.find_last_not_of(" \t") + 1);
    if (media != "application/json")
      return reply(ex, make_problem(415, "unsupported-media-type",
                                    "Send the body as application/json."));
  }
  dispatch(ex, req);
}

http_response api_handler::refuse(const problem& p, const http_request& req) {
  auto ex = std::make_shared<exchange>();
  ex->start = std::chrono::steady_clock::now();
  // Whatever header fields were parsed before the refusal count: the
  // client's request id, its origin (CORS) and, if known, the route.
  auto rid = std::string{req["X-Request-Id"]};
  ex->request_id = is_request_id(rid) ? rid : new_booking_id();
  ex->trace = trace_context::parse_or_make(std::string{req["traceparent"]});
  describe_request(*ex, req);
  ex->keep_alive = false;
  http_response result;
  ex->done = [&result](http_response&& res) { result = std::move(res); };
  reply(ex, p);
  return result;
}

bool api_handler::authorized(const exchange_ptr& ex, const http_request& req) {
  auto admin = ex->route.target == endpoint::create_tour
               || ex->route.target == endpoint::retry_booking;
  auto& required = admin && !opts_.admin_token.empty() ? opts_.admin_token
                                                       : opts_.api_token;
  if (required.empty())
    return true;
  auto header = std::string{req[http::field::authorization]};
  if (header.size() < 7 || lower(header.substr(0, 7)) != "bearer ") {
    ex->headers.emplace_back("WWW-Authenticate", "Bearer");
    reply(ex, make_problem(401, "unauthorized",
                           "Send a bearer token in Authorization."));
    return false;
  }
  auto token = header.substr(7);
  token.erase(0, token.find_first_not_of(' '));
  if (!same_secret(token, required)) {
    reply(ex, make_problem(403, "forbidden", "The token is not valid here."));
    return false;
  }
  return true;
}

void api_handler::preflight(const exchange_ptr& ex, const http_request& req) {
  auto allow = ex->route.allow + ", OPTIONS";
  if (ex->origin.empty()) {
    http_response res{http::status::no_content, ex->version};
    res.set(http::field::allow, allow);
    return finish(ex, std::move(res));
  }
  if (!cors_.allows(ex->origin)) {
    // No CORS headers: the browser blocks the actual request.
    auto origin = std::move(ex->origin);
    ex->origin.clear();
    return reply(ex, make_problem(403, "origin-not-allowed",
                                  "This origin may not call the API."));
  }
  http_response res{http::status::no_content, ex->version};
  res.set(http::field::allow, allow);
  res.set(http::field::access_control_allow_methods, allow);
  auto asked = req[http::field::access_control_request_headers];
  res.set(http::field::access_control_allow_headers,
          asked.empty() ? "Authorization, Content-Type, Idempotency-Key, "
                          "Prefer, X-Request-Id"
                        : asked);
  res.set(http::field::access_control_max_age, "600");
  finish(ex, std::move(res));
}

void api_handler::dispatch(const exchange_ptr& ex, http_request& req) {
  switch (ex->route.target) {
    case endpoint::create_tour:
      return create_tour(*this, ex, req);
    case endpoint::list_tours:
      return list_tours(*this, ex);
    case endpoint::get_tour:
      return get_tour(*this, ex);
    case endpoint::get_availability:
      return get_availability(*this, ex);
    case endpoint::create_booking:
      return create_booking(*this, ex, req);
    case endpoint::list_bookings:
      return list_bookings(*this, ex);
    case endpoint::booking_summary:
      return summarize_bookings(*this, ex);
    case endpoint::get_booking:
      return get_booking(*this, ex);
    case endpoint::cancel_booking:
      return cancel_booking(*this, ex, req);
    case endpoint::retry_booking:
      return retry_booking(*this, ex, req);
    case endpoint::list_notifications:
      return list_notifications(*this, ex);
    case endpoint::get_notification:
      return get_notification(*this, ex);
    case endpoint::healthz:
      return reply(ex, 200, R"({"status":"ok"})");
    case endpoint::readyz:
      return readyz(*this, ex);
    case endpoint::metrics:
      return booking::metrics(*this, ex);
    case endpoint::console:
      return serve_console(*this, ex, ex->route.id);
    case endpoint::none:
      break;
  }
  reply(ex, make_problem(404, "not-found", "No such route."));
}

// -- responses ----------------------------------------------------------------

void api_handler::reply(const exchange_ptr& ex, unsigned status,
                        std::string body) {
  http_response res{static_cast<http::status>(status), ex->version};
  res.set(http::field::content_type, json_type);
  res.body() = std::move(body);
  finish(ex, std::move(res));
}

void api_handler::reply(const exchange_ptr& ex, const problem& p) {
  http_response res{static_cast<http::status>(p.status), ex->version};
  res.set(http::field::content_type, "application/problem+json");
  if (p.retry_after > 0)
    res.set(http::field::retry_after, std::to_string(p.retry_after));
  res.body() = to_json(p);
  finish(ex, std::move(res));
}

void api_handler::finish(const exchange_ptr& ex, http_response&& res) {
  for (auto& [name, value] : ex->headers)
    res.set(name, value);
  res.set("X-Request-Id", ex->request_id);
  if (!ex->trace.empty())
    res.set("traceparent", ex->trace.text());
  if (!ex->origin.empty() && cors_.allows(ex->origin)) {
    res.set(http::field::access_control_allow_origin, ex->origin);
    res.set(http::field::access_control_expose_headers,
            "Location, Retry-After, Preference-Applied, X-Request-Id, "
            "traceparent");
    res.set(http::field::vary, "Origin");
  }
  res.keep_alive(ex->keep_alive);
  res.prepare_payload();
  if (ex->head)
    res.body().clear(); // Content-Length still tells the size
  auto status = res.result_int();
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                               - ex->start)
                   .count();
  metrics_.record(ex->route.route, ex->method, status, seconds);
  // One line per booking request or cancel, whatever its outcome, with the
  // correlation id (never the body: it holds the payment token).
  auto target = ex->route.target;
  if (target == endpoint::create_booking || target == endpoint::cancel_booking
      || target == endpoint::retry_booking)
    log_line(log_level::info,
             target == endpoint::create_booking   ? "booking request"
             : target == endpoint::cancel_booking ? "cancel request"
                                                  : "re-drive request",
             {{"correlation_id", ex->request_id},
              log_trace(ex->trace),
              {"booking_id", ex->booking_id},
              log_number("status", status)});
  auto done = std::move(ex->done);
  done(std::move(res));
}

http_options http_options_from_env() {
  http_options opts;
  if (auto x = std::getenv("BOOKING_ADMIN_TOKEN"))
    opts.admin_token = x;
  if (auto x = std::getenv("BOOKING_API_TOKEN"))
    opts.api_token = x;
  return opts;
}

// -- shared by the resources --------------------------------------------------

std::string lower(std::string x) {
  std::transform(x.begin(), x.end(), x.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return x;
}

int32_t page_limit(const std::map<std::string, std::string>& query) {
  auto i = query.find("limit");
  if (i == query.end())
    return 50;
  auto& x = i->second;
  if (x.empty() || x.size() > 3 || !std::all_of(x.begin(), x.end(), [](char c) {
        return std::isdigit(c);
      }))
    return 0;
  auto n = std::stoi(x);
  return n >= 1 && n <= 200 ? n : 0;
}

std::string query_value(const std::map<std::string, std::string>& query,
                        const char* key) {
  auto i = query.find(key);
  return i == query.end() ? std::string{} : i->second;
}

} // namespace booking
