// The API's resources, one file each: tours (`tours.cpp`), bookings
// (`bookings.cpp`), notifications (`notifications.cpp`) and the operations
// endpoints (`operations.cpp`). Each endpoint validates its request, asks
// the actors from a one-shot actor and answers through `api.reply`; none
// blocks.

#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "http/api.hpp"
#include "http/exchange.hpp"

namespace booking {

// -- tours.cpp ----------------------------------------------------------------

void create_tour(api_handler& api, const exchange_ptr& ex,
                 const http_request& req);
void list_tours(api_handler& api, const exchange_ptr& ex);
void get_tour(api_handler& api, const exchange_ptr& ex);
void get_availability(api_handler& api, const exchange_ptr& ex);

// -- bookings.cpp -------------------------------------------------------------

void create_booking(api_handler& api, const exchange_ptr& ex,
                    const http_request& req);
void list_bookings(api_handler& api, const exchange_ptr& ex);

/// GET /api/v1/bookings/summary: bookings per status.
void summarize_bookings(api_handler& api, const exchange_ptr& ex);
void get_booking(api_handler& api, const exchange_ptr& ex);
void cancel_booking(api_handler& api, const exchange_ptr& ex,
                    const http_request& req);

/// POST /api/v1/bookings/{id}/retry: re-drives a compensation_failed
/// booking (admin).
void retry_booking(api_handler& api, const exchange_ptr& ex,
                   const http_request& req);

// -- notifications.cpp --------------------------------------------------------

void list_notifications(api_handler& api, const exchange_ptr& ex);
void get_notification(api_handler& api, const exchange_ptr& ex);

// -- operations.cpp -----------------------------------------------------------

void readyz(api_handler& api, const exchange_ptr& ex);
void metrics(api_handler& api, const exchange_ptr& ex);

// -- shared by the resources --------------------------------------------------

/// Spawns a one-shot actor running `f`; it ends once its last response
/// handler ran.
template <class F>
void with_actor(caf::actor_system& sys, F f) {
  sys.spawn([f](caf::event_based_actor* self) mutable { f(self); });
}

/// `x` in ASCII lower case, for header values compared case-insensitively.
std::string lower(std::string x);

/// The value of `key` in a query, or empty.
std::string query_value(const std::map<std::string, std::string>& query,
                        const char* key);

/// Reads `limit` from a query: 1 to 200, default 50; 0 if invalid.
int32_t page_limit(const std::map<std::string, std::string>& query);

} // namespace booking
