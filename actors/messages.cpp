#include "actors/messages.hpp"

#include "actors/errors.hpp"

namespace booking {

void register_message_types(caf::actor_system_config& cfg) {
#define BOOKING_REGISTER(type) cfg.add_message_type<type>(#type);
  BOOKING_MESSAGE_TYPES(BOOKING_REGISTER)
#undef BOOKING_REGISTER
  cfg.add_error_category(booking_error_category,
                         [](uint8_t code, caf::atom_value,
                            const caf::message&) {
                           return to_string(static_cast<booking_errc>(code));
                         });
}

} // namespace booking
