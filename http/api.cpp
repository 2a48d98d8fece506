#include "http/api.hpp"

#include <algorithm>
#include <cstdlib>

#include <boost/beast/http/field.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace booking {

namespace http = boost::beast::http;

struct api_handler::exchange {
  std::shared_ptr<api_handler> api;
  reply_fn done;
  std::chrono::steady_clock::time_point start;
  std::string request_id;
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

namespace {

constexpr const char* json_type = "application/json; charset=utf-8";

/// True if `x` is usable as a request id: 1 to 128 visible ASCII chars.
bool is_request_id(const std::string& x) {
  return !x.empty() && x.size() <= 128
         && std::all_of(x.begin(), x.end(),
                        [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string lower(std::string x) {
  std::transform(x.begin(), x.end(), x.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return x;
}

/// The seconds of `Prefer: wait=N` (RFC 7240), capped at 30; -1 if absent.
int prefer_wait(const http_request& req) {
  for (auto i = req.find(http::field::prefer);
       i != req.end() && i->name() == http::field::prefer; ++i) {
    auto v = lower(std::string{i->value()});
    auto pos = v.find("wait");
    while (pos != std::string::npos) {
      auto eq = v.find_first_not_of(" \t", pos + 4);
      if (eq != std::string::npos && v[eq] == '=') {
        auto num = v.find_first_not_of(" \t", eq + 1);
        if (num != std::string::npos && std::isdigit(v[num])) {
          auto n = std::strtol(v.c_str() + num, nullptr, 10);
          return static_cast<int>(std::min<long>(n, 30));
        }
      }
      pos = v.find("wait", pos + 4);
    }
  }
  return -1;
}

/// Reads `limit` from a query: 1 to 200, default 50; 0 if invalid.
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

bool known_status(const std::string& x) {
  for (auto s :
       {booking_status::pending, booking_status::confirmed,
        booking_status::failed, booking_status::cancelling,
        booking_status::cancelled, booking_status::compensation_failed})
    if (x == to_string(s))
      return true;
  return false;
}

/// Fills what an exchange records of its request (method, route, ...).
void describe_request(api_handler::exchange& ex, const http_request& req) {
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

/// The problem of a failed tour lookup: an unknown tour is the resource
/// not found (404), unlike in a booking, where it is an invalid field.
problem tour_problem(const caf::error& e) {
  if (is(e, booking_errc::unknown_tour))
    return make_problem(404, "not-found", "No such tour.");
  return problem_for(e);
}

/// Spawns a one-shot actor running `f`; it ends once its last response
/// handler ran.
template <class F>
void with_actor(caf::actor_system& sys, F f) {
  sys.spawn([f](caf::event_based_actor* self) mutable { f(self); });
}

} // namespace

api_handler::api_handler(caf::actor_system& sys, engine e, http_settings cfg,
                         http_options opts)
    : sys_(sys), engine_(std::move(e)), cfg_(std::move(cfg)),
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
  describe_request(*ex, req);
  ex->keep_alive = false;
  http_response result;
  ex->done = [&result](http_response&& res) { result = std::move(res); };
  reply(ex, p);
  return result;
}

bool api_handler::authorized(const exchange_ptr& ex, const http_request& req) {
  auto& required = ex->route.target == endpoint::create_tour
                       && !opts_.admin_token.empty()
                     ? opts_.admin_token
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
      return create_tour(ex, req);
    case endpoint::list_tours:
      return list_tours(ex);
    case endpoint::get_tour:
      return get_tour(ex);
    case endpoint::get_availability:
      return get_availability(ex);
    case endpoint::create_booking:
      return create_booking(ex, req);
    case endpoint::list_bookings:
      return list_bookings(ex);
    case endpoint::get_booking:
      return get_booking(ex);
    case endpoint::cancel_booking:
      return cancel_booking(ex, req);
    case endpoint::list_notifications:
      return list_notifications(ex);
    case endpoint::get_notification:
      return get_notification(ex);
    case endpoint::healthz:
      return reply(ex, 200, R"({"status":"ok"})");
    case endpoint::readyz:
      return readyz(ex);
    case endpoint::metrics:
      return metrics(ex);
    case endpoint::none:
      break;
  }
  reply(ex, make_problem(404, "not-found", "No such route."));
}

// -- tours --------------------------------------------------------------------

void api_handler::create_tour(const exchange_ptr& ex, const http_request& req) {
  tour t;
  problem err;
  if (!parse_tour(req.body(), t, err))
    return reply(ex, err);
  auto shard = engine_.inventory_for(t.id);
  with_actor(sys_, [ex, shard, t](caf::event_based_actor* self) {
    self->request(shard, caf::infinite, caf::put_atom::value, t)
      .then(
        [ex, t](bool created) {
          ex->api->reply(ex, created ? 201 : 200, to_json(t));
        },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

void api_handler::list_tours(const exchange_ptr& ex) {
  auto availability = engine_.availability;
  with_actor(sys_, [ex, availability](caf::event_based_actor* self) {
    self->request(availability, caf::infinite, list_atom::value)
      .then(
        [ex](std::vector<tour>& xs) { ex->api->reply(ex, 200, to_json(xs)); },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

void api_handler::get_tour(const exchange_ptr& ex) {
  auto availability = engine_.availability;
  with_actor(sys_, [ex, availability](caf::event_based_actor* self) {
    self
      ->request(availability, caf::infinite, caf::get_atom::value, ex->route.id)
      .then([ex](tour& t) { ex->api->reply(ex, 200, to_json(t)); },
            [ex](caf::error& e) { ex->api->reply(ex, tour_problem(e)); });
  });
}

void api_handler::get_availability(const exchange_ptr& ex) {
  auto from = query_value(ex->query, "from");
  auto to = query_value(ex->query, "to");
  std::vector<field_error> errors;
  if (!from.empty() && !is_date(from))
    errors.push_back({"from", "must be a calendar date (YYYY-MM-DD)"});
  if (!to.empty() && !is_date(to))
    errors.push_back({"to", "must be a calendar date (YYYY-MM-DD)"});
  if (errors.empty() && !from.empty() && !to.empty() && from > to)
    errors.push_back({"to", "must not be before from"});
  if (!errors.empty())
    return reply(ex, validation_problem(std::move(errors)));
  auto availability = engine_.availability;
  with_actor(sys_, [ex, availability, from, to](caf::event_based_actor* self) {
    self
      ->request(availability, caf::infinite, caf::get_atom::value, ex->route.id,
                from, to)
      .then([ex](availability_view& v) { ex->api->reply(ex, 200, to_json(v)); },
            [ex](caf::error& e) { ex->api->reply(ex, tour_problem(e)); });
  });
}

// -- bookings -----------------------------------------------------------------

namespace {

/// Answers a booking request or a cancel once the booking has an outcome
/// (or still has none after the wait).
void reply_outcome(const std::shared_ptr<api_handler::exchange>& ex,
                   booking_record& rec, bool cancel);

/// Answers with `rec`. If the client asked to wait and `rec` is still
/// `running`, first waits for its outcome, and after `Prefer: wait` seconds
/// answers with the booking as stored then.
void answer_after_wait(caf::event_based_actor* self, const engine* e,
                       const std::shared_ptr<api_handler::exchange>& ex,
                       booking_record& rec, booking_status running,
                       bool cancel);

} // namespace

void api_handler::create_booking(const exchange_ptr& ex,
                                 const http_request& req) {
  booking_request br;
  problem err;
  if (!parse_booking_request(req.body(), br, err))
    return reply(ex, err);
  auto key = std::string{req["Idempotency-Key"]};
  if (req.find("Idempotency-Key") != req.end()
      && (key.empty() || key.size() > 255))
    return reply(ex, validation_problem(
                       {{"Idempotency-Key", "must have 1 to 255 characters"}}));
  br.id = new_booking_id();
  br.correlation_id = ex->request_id;
  ex->wait = prefer_wait(req);
  // The exchange holds the handler, so its engine outlives the actor.
  const engine* e = &engine_;
  with_actor(sys_, [ex, br, key, e](caf::event_based_actor* self) {
    // Answers with `rec`, after waiting for its outcome if asked to.
    auto answer = [ex, self, e](booking_record& rec) {
      ex->booking_id = rec.id;
      answer_after_wait(self, e, ex, rec, booking_status::pending, false);
    };
    auto create = [ex, self, e, answer](const booking_request& r) {
      ex->booking_id = r.id;
      self
        ->request(e->coordinator_for(r.id), caf::infinite, create_atom::value,
                  r)
        .then(answer,
              [ex](caf::error& err) { ex->api->reply(ex, problem_for(err)); });
    };
    if (key.empty())
      return create(br);
    self
      ->request(e->idempotency, caf::infinite, claim_atom::value, key,
                fingerprint(br), br.id)
      .then(
        [self, e, br, create, answer](std::string& id) mutable {
          if (id == br.id)
            return create(br);
          // A retry: the stored booking answers, even if its tour changed
          // since; only a first attempt that left no booking runs again.
          br.id = std::move(id);
          self
            ->request(shard_for(e->bookings, br.id), caf::infinite,
                      caf::get_atom::value, br.id)
            .then(answer, [create, br](caf::error&) { create(br); });
        },
        [ex](caf::error& err) {
          if (is(err, booking_errc::invalid_request))
            return ex->api->reply(
              ex, validation_problem(
                    {{"Idempotency-Key", "was used before with a different "
                                         "request"}}));
          ex->api->reply(ex, problem_for(err));
        });
  });
}

namespace {

void reply_outcome(const std::shared_ptr<api_handler::exchange>& ex,
                   booking_record& rec, bool cancel) {
  auto location = "/api/v1/bookings/" + rec.id;
  if (ex->wait >= 0)
    ex->headers.emplace_back("Preference-Applied",
                             "wait=" + std::to_string(ex->wait));
  ex->headers.emplace_back("Location", location);
  auto& api = *ex->api;
  if (rec.status == booking_status::pending
      || rec.status == booking_status::cancelling)
    return api.reply(ex, 202, to_json(rec));
  if (ex->wait < 0 && !cancel)
    return api.reply(ex, 202, to_json(rec));
  if (rec.status == booking_status::confirmed && !cancel)
    return api.reply(ex, 201, to_json(rec));
  if (rec.status == booking_status::failed && !cancel) {
    if (rec.reason == "sold_out" || rec.reason == "payment_declined") {
      auto p = rec.reason == "sold_out"
                 ? problem_for(make_error(booking_errc::sold_out))
                 : problem_for(make_error(booking_errc::payment_declined));
      p.booking_id = rec.id;
      return api.reply(ex, p);
    }
  }
  api.reply(ex, 200, to_json(rec));
}

void answer_after_wait(caf::event_based_actor* self, const engine* e,
                       const std::shared_ptr<api_handler::exchange>& ex,
                       booking_record& rec, booking_status running,
                       bool cancel) {
  if (ex->wait <= 0 || rec.status != running)
    return reply_outcome(ex, rec, cancel);
  auto id = rec.id;
  self
    ->request(e->coordinator_for(id), std::chrono::seconds(ex->wait),
              await_atom::value, id)
    .then([ex,
           cancel](booking_record& done) { reply_outcome(ex, done, cancel); },
          [ex, self, e, id, cancel](caf::error& err) {
            if (err != caf::sec::request_timeout)
              return ex->api->reply(ex, problem_for(err));
            self
              ->request(shard_for(e->bookings, id), caf::infinite,
                        caf::get_atom::value, id)
              .then([ex, cancel](
                      booking_record& now) { reply_outcome(ex, now, cancel); },
                    [ex](caf::error& err) {
                      ex->api->reply(ex, problem_for(err));
                    });
          });
}

} // namespace

void api_handler::list_bookings(const exchange_ptr& ex) {
  booking_filter filter;
  std::vector<field_error> errors;
  filter.limit = page_limit(ex->query);
  if (filter.limit == 0)
    errors.push_back({"limit", "must be an integer from 1 to 200"});
  filter.status = query_value(ex->query, "status");
  if (!filter.status.empty() && !known_status(filter.status))
    errors.push_back({"status", "is not a booking status"});
  filter.tour_id = query_value(ex->query, "tour_id");
  filter.email = query_value(ex->query, "email");
  filter.after_id = query_value(ex->query, "cursor");
  if (!errors.empty())
    return reply(ex, validation_problem(std::move(errors)));
  auto limit = static_cast<size_t>(filter.limit);
  // Each shard returns one more than a page, so the merge knows whether
  // another page follows.
  filter.limit += 1;
  auto shards = engine_.bookings;
  with_actor(sys_, [ex, shards, filter, limit](caf::event_based_actor* self) {
    struct merge_state {
      std::vector<booking_record> items;
      size_t pending;
      bool failed = false;
    };
    auto st = std::make_shared<merge_state>();
    st->pending = shards.size();
    for (auto& shard : shards)
      self->request(shard, caf::infinite, list_atom::value, filter)
        .then(
          [ex, st, limit](std::vector<booking_record>& xs) {
            std::move(xs.begin(), xs.end(), std::back_inserter(st->items));
            if (--st->pending > 0 || st->failed)
              return;
            auto& items = st->items;
            std::sort(items.begin(), items.end(),
                      [](auto& a, auto& b) { return a.id < b.id; });
            std::string next;
            if (items.size() > limit) {
              items.resize(limit);
              next = items.back().id;
            }
            ex->api->reply(ex, 200, to_json(items, next));
          },
          [ex, st](caf::error& e) {
            if (std::exchange(st->failed, true))
              return;
            ex->api->reply(ex, problem_for(e));
          });
  });
}

void api_handler::get_booking(const exchange_ptr& ex) {
  auto shard = shard_for(engine_.bookings, ex->route.id);
  with_actor(sys_, [ex, shard](caf::event_based_actor* self) {
    self->request(shard, caf::infinite, caf::get_atom::value, ex->route.id)
      .then(
        [ex](booking_record& rec) { ex->api->reply(ex, 200, to_json(rec)); },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

void api_handler::cancel_booking(const exchange_ptr& ex,
                                 const http_request& req) {
  ex->wait = prefer_wait(req);
  ex->booking_id = ex->route.id;
  // The exchange holds the handler, so its engine outlives the actor.
  const engine* e = &engine_;
  with_actor(sys_, [ex, e](caf::event_based_actor* self) {
    auto id = ex->route.id;
    self
      ->request(e->coordinator_for(id), caf::infinite, cancel_atom::value, id,
                ex->request_id)
      .then(
        [ex, self, e](booking_record& rec) {
          answer_after_wait(self, e, ex, rec, booking_status::cancelling, true);
        },
        [ex](caf::error& err) { ex->api->reply(ex, problem_for(err)); });
  });
}

// -- notifications ------------------------------------------------------------

void api_handler::list_notifications(const exchange_ptr& ex) {
  notification_filter filter;
  filter.limit = page_limit(ex->query);
  if (filter.limit == 0)
    return reply(
      ex, validation_problem({{"limit", "must be an integer from 1 to 200"}}));
  filter.booking_id = query_value(ex->query, "booking_id");
  filter.email = query_value(ex->query, "email");
  filter.after_id = query_value(ex->query, "cursor");
  auto limit = static_cast<size_t>(filter.limit);
  filter.limit += 1;
  auto pool = engine_.notification;
  with_actor(sys_, [ex, pool, filter, limit](caf::event_based_actor* self) {
    self->request(pool, caf::infinite, list_atom::value, filter)
      .then(
        [ex, limit](std::vector<notification_record>& items) {
          std::string next;
          if (items.size() > limit) {
            items.resize(limit);
            next = items.back().id;
          }
          ex->api->reply(ex, 200, to_json(items, next));
        },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

void api_handler::get_notification(const exchange_ptr& ex) {
  auto pool = engine_.notification;
  with_actor(sys_, [ex, pool](caf::event_based_actor* self) {
    self->request(pool, caf::infinite, caf::get_atom::value, ex->route.id)
      .then(
        [ex](notification_record& rec) {
          ex->api->reply(ex, 200, to_json(rec));
        },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

// -- operations ---------------------------------------------------------------

void api_handler::readyz(const exchange_ptr& ex) {
  auto name = [](check_state s) {
    switch (s) {
      case check_state::ok:
        return "ok";
      case check_state::starting:
        return "starting";
      default:
        return "down";
    }
  };
  auto store = opts_.ready.store ? opts_.ready.store() : check_state::ok;
  bool ready = store == check_state::ok;
  std::string checks = std::string{R"("store":")"} + name(store) + "\"";
  if (opts_.ready.amqp) {
    auto amqp = opts_.ready.amqp();
    ready = ready && amqp == check_state::ok;
    checks += std::string{R"(,"amqp":")"} + name(amqp) + "\"";
  }
  reply(ex, ready ? 200 : 503,
        std::string{R"({"status":")"} + (ready ? "ready" : "unavailable")
          + R"(","checks":{)" + checks + "}}");
}

void api_handler::metrics(const exchange_ptr& ex) {
  auto coordinators = engine_.coordinators;
  with_actor(sys_, [ex, coordinators](caf::event_based_actor* self) {
    struct sum_state {
      saga_stats total;
      size_t pending;
      bool failed = false;
    };
    auto st = std::make_shared<sum_state>();
    st->pending = coordinators.size();
    for (auto& c : coordinators)
      self->request(c, caf::infinite, caf::get_atom::value)
        .then(
          [ex, st](saga_stats& s) {
            st->total += s;
            if (--st->pending > 0 || st->failed)
              return;
            auto& api = *ex->api;
            auto amqp = api.opts_.amqp_metrics ? api.opts_.amqp_metrics()
                                               : amqp_counters{};
            http_response res{http::status::ok, ex->version};
            res.set(http::field::content_type,
                    "text/plain; version=0.0.4; charset=utf-8");
            auto store = api.opts_.store_metrics ? api.opts_.store_metrics()
                                                 : store_counters{};
            res.body() = render_metrics(api.metrics_, st->total, amqp, store,
                                        api.engine_.actor_counts());
            api.finish(ex, std::move(res));
          },
          [ex, st](caf::error& e) {
            if (std::exchange(st->failed, true))
              return;
            ex->api->reply(ex, problem_for(e));
          });
  });
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
  if (!ex->origin.empty() && cors_.allows(ex->origin)) {
    res.set(http::field::access_control_allow_origin, ex->origin);
    res.set(http::field::access_control_expose_headers,
            "Location, Retry-After, Preference-Applied, X-Request-Id");
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
  if (target == endpoint::create_booking || target == endpoint::cancel_booking)
    log_line(log_level::info,
             target == endpoint::create_booking ? "booking request"
                                                : "cancel request",
             {{"correlation_id", ex->request_id},
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

} // namespace booking
