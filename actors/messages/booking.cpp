#include "actors/messages/booking.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <random>

#include "actors/messages/enum_names.hpp"

namespace booking {

using detail::name_of;

std::string to_string(booking_status x) {
  static constexpr std::array<const char*, 6> names{
    {"pending", "confirmed", "failed", "cancelling", "cancelled",
     "compensation_failed"}};
  return name_of(x, names);
}

std::string to_string(saga_step x) {
  static constexpr std::array<const char*, 8> names{
    {"reserve_seats", "authorize_payment", "confirm_booking",
     "send_notification", "refund_payment", "release_seats", "cancel_booking",
     "verify_payment"}};
  return name_of(x, names);
}

std::string to_string(saga_action x) {
  static constexpr std::array<const char*, 3> names{
    {"execute", "compensate", "query"}};
  return name_of(x, names);
}

std::string to_string(step_outcome x) {
  static constexpr std::array<const char*, 4> names{
    {"ok", "declined", "error", "timeout"}};
  return name_of(x, names);
}

bool is_terminal(booking_status x) {
  return x == booking_status::confirmed || x == booking_status::failed
         || x == booking_status::cancelled
         || x == booking_status::compensation_failed;
}

std::string new_booking_id() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  uint64_t hi = (static_cast<uint64_t>(ms) << 16) | (gen() & 0x0fffULL);
  uint64_t lo = gen();
  hi |= 0x7000ULL;                                           // version 7
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // variant 1
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

std::string fingerprint(const booking_request& req) {
  // FNV-1a over the fields, each followed by a separator no field contains.
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&](const std::string& x) {
    for (unsigned char ch : x) {
      h ^= ch;
      h *= 1099511628211ULL;
    }
    h ^= 0x1f;
    h *= 1099511628211ULL;
  };
  mix(req.tour_id);
  mix(req.date);
  mix(std::to_string(req.seats));
  mix(req.cust.name);
  mix(req.cust.email);
  mix(req.cust.phone);
  mix(req.payment_token);
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(h));
  return buf;
}

} // namespace booking
