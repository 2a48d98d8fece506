#include "actors/messages/event.hpp"

#include <algorithm>

namespace booking {

const std::vector<event_info>& event_table() {
  using t = event_type;
  // clang-format off
  //   type                         name                        version
  //   reason  notification  intake reply
  static const std::vector<event_info> rows{
    {t::booking_requested,        "booking.requested",        1,
     false,  false,        false},
    {t::booking_confirmed,        "booking.confirmed",        1,
     false,  false,        true},
    {t::booking_failed,           "booking.failed",           1,
     true,   false,        true},
    {t::booking_cancelled,        "booking.cancelled",        1,
     false,  false,        false},
    {t::inventory_reserved,       "inventory.reserved",       1,
     false,  false,        false},
    {t::inventory_released,       "inventory.released",       1,
     false,  false,        false},
    {t::inventory_rejected,       "inventory.rejected",       1,
     true,   false,        false},
    {t::payment_authorized,       "payment.authorized",       1,
     false,  false,        false},
    {t::payment_declined,         "payment.declined",         1,
     true,   false,        false},
    {t::payment_voided,           "payment.voided",           1,
     false,  false,        false},
    {t::payment_captured,         "payment.captured",         1,
     false,  false,        false},
    {t::payment_refunded,         "payment.refunded",         1,
     false,  false,        false},
    {t::saga_compensating,        "saga.compensating",        1,
     false,  false,        false},
    {t::saga_compensation_failed, "saga.compensation_failed", 1,
     true,   false,        true},
    {t::notification_sent,        "notification.sent",        1,
     false,  true,         false},
  };
  // clang-format on
  return rows;
}

const event_info& info(event_type x) {
  // The rows are in the order of the enum (checked by the codec test).
  return event_table()[static_cast<size_t>(x)];
}

std::string to_string(event_type x) {
  auto i = static_cast<size_t>(x);
  return i < event_table().size() ? event_table()[i].name : "unknown";
}

const event_info* find_event(const std::string& name) {
  auto& rows = event_table();
  auto i = std::find_if(rows.begin(), rows.end(),
                        [&](const event_info& r) { return name == r.name; });
  return i == rows.end() ? nullptr : &*i;
}

const std::vector<std::string>& event_types() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> xs;
    for (auto& row : event_table())
      xs.emplace_back(row.name);
    return xs;
  }();
  return names;
}

std::string dataschema_of(const std::string& type) {
  auto row = find_event(type);
  return type + "/v" + std::to_string(row != nullptr ? row->version : 1);
}

} // namespace booking
