// Bookings: create (optionally waiting for the outcome), list, get,
// cancel and re-drive. Everything goes through the front desk, which owns the
// use case (idempotency keys, routing, waiting); this file only translates
// HTTP.

#include <algorithm>
#include <cstdlib>

#include <boost/beast/http/field.hpp>
#include <caf/sec.hpp>

#include "actors/codec/json_codec.hpp"
#include "actors/codec/json_writer.hpp"
#include "actors/errors.hpp"
#include "http/resources.hpp"

namespace booking {

namespace http = boost::beast::http;

namespace {

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

bool known_status(const std::string& x) {
  for (auto s :
       {booking_status::pending, booking_status::confirmed,
        booking_status::failed, booking_status::cancelling,
        booking_status::cancelled, booking_status::compensation_failed})
    if (x == to_string(s))
      return true;
  return false;
}

/// Answers a booking request or a cancel once the booking has an outcome
/// (or still has none after the wait).
void reply_outcome(const exchange_ptr& ex, booking_record& rec, bool cancel) {
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

/// Answers with `rec`. If the client asked to wait and `rec` is still
/// `running`, first waits for its outcome, and after `Prefer: wait` seconds
/// answers with the booking as stored then.
void answer_after_wait(caf::event_based_actor* self,
                       const front_desk_actor& desk, const exchange_ptr& ex,
                       booking_record& rec, booking_status running,
                       bool cancel) {
  if (ex->wait <= 0 || rec.status != running)
    return reply_outcome(ex, rec, cancel);
  auto id = rec.id;
  self->request(desk, std::chrono::seconds(ex->wait), await_atom::value, id)
    .then([ex,
           cancel](booking_record& done) { reply_outcome(ex, done, cancel); },
          [ex, self, desk, id, cancel](caf::error& err) {
            if (err != caf::sec::request_timeout)
              return ex->api->reply(ex, problem_for(err));
            self->request(desk, caf::infinite, caf::get_atom::value, id)
              .then([ex, cancel](
                      booking_record& now) { reply_outcome(ex, now, cancel); },
                    [ex](caf::error& err) {
                      ex->api->reply(ex, problem_for(err));
                    });
          });
}

} // namespace

void create_booking(api_handler& api, const exchange_ptr& ex,
                    const http_request& req) {
  booking_request br;
  problem err;
  if (!parse_booking_request(req.body(), br, err))
    return api.reply(ex, err);
  auto key = std::string{req["Idempotency-Key"]};
  if (req.find("Idempotency-Key") != req.end()
      && (key.empty() || key.size() > 255))
    return api.reply(
      ex, validation_problem({{"Idempotency-Key", "must have 1 to 255 "
                                                  "characters"}}));
  br.id = new_booking_id();
  br.correlation_id = ex->request_id;
  br.trace = ex->trace;
  ex->wait = prefer_wait(req);
  auto desk = api.peers().desk;
  with_actor(api.system(), [ex, br, key, desk](caf::event_based_actor* self) {
    self->request(desk, caf::infinite, create_atom::value, br, key)
      .then(
        [ex, self, desk](booking_record& rec) {
          ex->booking_id = rec.id;
          answer_after_wait(self, desk, ex, rec, booking_status::pending,
                            false);
        },
        [ex, id = br.id](caf::error& err) {
          if (!is(err, booking_errc::key_reused))
            ex->booking_id = id;
          ex->api->reply(ex, problem_for(err));
        });
  });
}

void list_bookings(api_handler& api, const exchange_ptr& ex) {
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
    return api.reply(ex, validation_problem(std::move(errors)));
  auto desk = api.peers().desk;
  with_actor(api.system(), [ex, desk, filter](caf::event_based_actor* self) {
    self->request(desk, caf::infinite, list_atom::value, filter)
      .then(
        [ex](booking_page& page) {
          ex->api->reply(ex, 200, to_json(page.items, page.next_cursor));
        },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

void summarize_bookings(api_handler& api, const exchange_ptr& ex) {
  auto desk = api.peers().desk;
  with_actor(api.system(), [ex, desk](caf::event_based_actor* self) {
    self
      ->request(desk, caf::infinite, caf::get_atom::value, summary_atom::value)
      .then(
        [ex](booking_summary& x) {
          // Every status, in the order of the lifecycle.
          json_writer w;
          w.begin_object();
          w.key("by_status");
          w.begin_object();
          for (auto status :
               {booking_status::pending, booking_status::confirmed,
                booking_status::failed, booking_status::cancelling,
                booking_status::cancelled,
                booking_status::compensation_failed}) {
            auto name = to_string(status);
            w.key(name);
            w.int64(x.by_status[name]);
          }
          w.end_object();
          w.end_object();
          ex->api->reply(ex, 200, w.str());
        },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

void get_booking(api_handler& api, const exchange_ptr& ex) {
  auto desk = api.peers().desk;
  with_actor(api.system(), [ex, desk](caf::event_based_actor* self) {
    self->request(desk, caf::infinite, caf::get_atom::value, ex->route.id)
      .then(
        [ex](booking_record& rec) { ex->api->reply(ex, 200, to_json(rec)); },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

namespace {

/// Sends `atom` (a cancel or a re-drive) for the route's booking to the
/// desk, with the request's correlation id and trace, and answers with the
/// booking as it is then; with `Prefer: wait`, once the saga it started
/// (cancelling, or pending for a re-drive of a booking saga) has an
/// outcome.
template <class Atom>
void start_saga_of(api_handler& api, const exchange_ptr& ex,
                   const http_request& req, Atom atom) {
  ex->wait = prefer_wait(req);
  ex->booking_id = ex->route.id;
  auto desk = api.peers().desk;
  with_actor(api.system(), [ex, desk, atom](caf::event_based_actor* self) {
    self
      ->request(desk, caf::infinite, atom, ex->route.id, ex->request_id,
                ex->trace.text())
      .then(
        [ex, self, desk](booking_record& rec) {
          auto running = rec.status == booking_status::pending
                           ? booking_status::pending
                           : booking_status::cancelling;
          answer_after_wait(self, desk, ex, rec, running, true);
        },
        [ex](caf::error& err) { ex->api->reply(ex, problem_for(err)); });
  });
}

} // namespace

void cancel_booking(api_handler& api, const exchange_ptr& ex,
                    const http_request& req) {
  start_saga_of(api, ex, req, cancel_atom::value);
}

void retry_booking(api_handler& api, const exchange_ptr& ex,
                   const http_request& req) {
  start_saga_of(api, ex, req, redrive_atom::value);
}

} // namespace booking
