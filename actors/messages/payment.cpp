#include "actors/messages/payment.hpp"

#include <array>

#include "actors/messages/enum_names.hpp"

namespace booking {

using detail::name_of;

std::string to_string(payment_state x) {
  static constexpr std::array<const char*, 6> names{
    {"none", "authorized", "captured", "voided", "refunded", "declined"}};
  return name_of(x, names);
}

} // namespace booking
