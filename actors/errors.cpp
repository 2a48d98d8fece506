#include "actors/errors.hpp"

#include <caf/sec.hpp>

namespace booking {

std::string to_string(booking_errc x) {
  switch (x) {
    case booking_errc::sold_out:
      return "sold_out";
    case booking_errc::unknown_tour:
      return "unknown_tour";
    case booking_errc::unknown_date:
      return "unknown_date";
    case booking_errc::payment_declined:
      return "payment_declined";
    case booking_errc::payment_error:
      return "payment_error";
    case booking_errc::payment_conflict:
      return "payment_conflict";
    case booking_errc::inventory_error:
      return "inventory_error";
    case booking_errc::notification_error:
      return "notification_error";
    case booking_errc::not_found:
      return "not_found";
    case booking_errc::wrong_status:
      return "wrong_status";
    case booking_errc::capacity_conflict:
      return "capacity_conflict";
    case booking_errc::overloaded:
      return "overloaded";
    case booking_errc::duplicate:
      return "duplicate";
    case booking_errc::invalid_request:
      return "invalid_request";
    case booking_errc::store_error:
      return "store_error";
    case booking_errc::key_reused:
      return "key_reused";
  }
  return "unknown";
}

caf::error make_error(booking_errc x) {
  return caf::error{static_cast<uint8_t>(x), booking_error_category};
}

caf::error make_error(booking_errc x, std::string detail) {
  return caf::error{static_cast<uint8_t>(x), booking_error_category,
                    caf::make_message(std::move(detail))};
}

bool is(const caf::error& e, booking_errc x) {
  return e.category() == booking_error_category
         && e.code() == static_cast<uint8_t>(x);
}

std::string describe(const caf::error& e) {
  if (e.category() == booking_error_category) {
    auto text = to_string(static_cast<booking_errc>(e.code()));
    if (e.context().match_elements<std::string>())
      text += ": " + e.context().get_as<std::string>(0);
    return text;
  }
  if (e == caf::sec::request_timeout)
    return "timeout";
  if (e == caf::sec::request_receiver_down)
    return "participant down";
  return "internal error";
}

} // namespace booking
