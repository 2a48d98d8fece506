// The typed messages the engine's actors exchange, by aggregate:
//
//   messages/atoms.hpp         the atoms that name the commands
//   messages/booking.hpp       requests, records, history, listing
//   messages/tour.hpp          tours, departures, holds, availability
//   messages/payment.hpp       payment requests and intents
//   messages/notification.hpp  notification requests and records
//   messages/event.hpp         the event table and the domain event
//   messages/saga.hpp          checkpoints, booking updates, saga counters
//
// Every struct is a plain value with an `inspect` overload, so CAF can print
// and serialize it, and a JSON codec (`actors/codec/message_codec.hpp`), so
// it can cross a process boundary. They are registered once, in
// `register_message_types`, which the config calls.

#pragma once

#include <caf/actor_system_config.hpp>

#include "actors/messages/atoms.hpp"
#include "actors/messages/booking.hpp"
#include "actors/messages/event.hpp"
#include "actors/messages/notification.hpp"
#include "actors/messages/payment.hpp"
#include "actors/messages/saga.hpp"
#include "actors/messages/tour.hpp"

/// Calls `X(type)` for every message struct: the one list that registers
/// them with CAF and gives each a JSON codec.
#define BOOKING_MESSAGE_TYPES(X)                                               \
  X(customer)                                                                  \
  X(booking_request)                                                           \
  X(saga_entry)                                                                \
  X(booking_record)                                                            \
  X(booking_update)                                                            \
  X(booking_filter)                                                            \
  X(booking_page)                                                              \
  X(booking_summary)                                                           \
  X(departure)                                                                 \
  X(tour)                                                                      \
  X(seat_hold)                                                                 \
  X(departure_counts)                                                          \
  X(inventory_snapshot)                                                        \
  X(quote)                                                                     \
  X(availability_view)                                                         \
  X(payment_request)                                                           \
  X(payment_intent)                                                            \
  X(notification_request)                                                      \
  X(notification_record)                                                       \
  X(notification_filter)                                                       \
  X(domain_event)                                                              \
  X(gave_up_step)                                                              \
  X(saga_checkpoint)                                                           \
  X(saga_stats)

namespace booking {

/// Registers every message type with CAF.
void register_message_types(caf::actor_system_config& cfg);

} // namespace booking
