// Notifications: the sent emails, listed and by id, from the notification
// workers' shared store.

#include "actors/codec/json_codec.hpp"
#include "http/resources.hpp"

namespace booking {

void list_notifications(api_handler& api, const exchange_ptr& ex) {
  notification_filter filter;
  filter.limit = page_limit(ex->query);
  if (filter.limit == 0)
    return api.reply(
      ex, validation_problem({{"limit", "must be an integer from 1 to 200"}}));
  filter.booking_id = query_value(ex->query, "booking_id");
  filter.email = query_value(ex->query, "email");
  filter.after_id = query_value(ex->query, "cursor");
  auto limit = static_cast<size_t>(filter.limit);
  filter.limit += 1;
  auto pool = api.peers().notifications;
  with_actor(api.system(),
             [ex, pool, filter, limit](caf::event_based_actor* self) {
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

void get_notification(api_handler& api, const exchange_ptr& ex) {
  auto pool = api.peers().notifications;
  with_actor(api.system(), [ex, pool](caf::event_based_actor* self) {
    self->request(pool, caf::infinite, caf::get_atom::value, ex->route.id)
      .then(
        [ex](notification_record& rec) {
          ex->api->reply(ex, 200, to_json(rec));
        },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

} // namespace booking
