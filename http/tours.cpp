// Tours: create or replace (admin), list, get, and seats left per date.

#include "actors/codec/json_codec.hpp"
#include "actors/errors.hpp"
#include "http/resources.hpp"

namespace booking {

namespace {

/// The problem of a failed tour lookup: an unknown tour is the resource
/// not found (404), unlike in a booking, where it is an invalid field.
problem tour_problem(const caf::error& e) {
  if (is(e, booking_errc::unknown_tour))
    return make_problem(404, "not-found", "No such tour.");
  return problem_for(e);
}

} // namespace

void create_tour(api_handler& api, const exchange_ptr& ex,
                 const http_request& req) {
  tour t;
  problem err;
  if (!parse_tour(req.body(), t, err))
    return api.reply(ex, err);
  auto desk = api.peers().desk;
  with_actor(api.system(), [ex, desk, t](caf::event_based_actor* self) {
    self->request(desk, caf::infinite, caf::put_atom::value, t)
      .then(
        [ex, t](bool created) {
          ex->api->reply(ex, created ? 201 : 200, to_json(t));
        },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

void list_tours(api_handler& api, const exchange_ptr& ex) {
  auto availability = api.peers().availability;
  with_actor(api.system(), [ex, availability](caf::event_based_actor* self) {
    self->request(availability, caf::infinite, list_atom::value)
      .then(
        [ex](std::vector<tour>& xs) { ex->api->reply(ex, 200, to_json(xs)); },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

void get_tour(api_handler& api, const exchange_ptr& ex) {
  auto availability = api.peers().availability;
  with_actor(api.system(), [ex, availability](caf::event_based_actor* self) {
    self
      ->request(availability, caf::infinite, caf::get_atom::value, ex->route.id)
      .then([ex](tour& t) { ex->api->reply(ex, 200, to_json(t)); },
            [ex](caf::error& e) { ex->api->reply(ex, tour_problem(e)); });
  });
}

void get_availability(api_handler& api, const exchange_ptr& ex) {
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
    return api.reply(ex, validation_problem(std::move(errors)));
  auto availability = api.peers().availability;
  with_actor(api.system(), [ex, availability, from,
                            to](caf::event_based_actor* self) {
    self
      ->request(availability, caf::infinite, caf::get_atom::value, ex->route.id,
                from, to)
      .then([ex](availability_view& v) { ex->api->reply(ex, 200, to_json(v)); },
            [ex](caf::error& e) { ex->api->reply(ex, tour_problem(e)); });
  });
}

} // namespace booking
