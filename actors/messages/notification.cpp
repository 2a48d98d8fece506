#include "actors/messages/notification.hpp"

#include <array>

#include "actors/messages/enum_names.hpp"

namespace booking {

using detail::name_of;

std::string to_string(notification_kind x) {
  static constexpr std::array<const char*, 3> names{
    {"booking_confirmed", "booking_failed", "booking_cancelled"}};
  return name_of(x, names);
}

} // namespace booking
