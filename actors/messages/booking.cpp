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

bool valid_traceparent(const std::string& x) {
  // 00-<trace id: 32>-<parent id: 16>-<flags: 2>
  if (x.size() != 55 || x[0] != '0' || x[1] != '0' || x[2] != '-'
      || x[35] != '-' || x[52] != '-')
    return false;
  auto hex = [&](size_t from, size_t n, bool& zero) {
    zero = true;
    for (size_t i = from; i < from + n; ++i) {
      auto c = x[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
        return false;
      zero = zero && c == '0';
    }
    return true;
  };
  bool zero = false;
  if (!hex(3, 32, zero) || zero)
    return false;
  if (!hex(36, 16, zero) || zero)
    return false;
  return hex(53, 2, zero);
}

namespace {

uint64_t hex_at(const std::string& x, size_t from, size_t n) {
  uint64_t v = 0;
  for (size_t i = from; i < from + n; ++i) {
    auto c = x[i];
    v = (v << 4) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v;
}

} // namespace

std::string trace_context::text() const {
  if (empty())
    return {};
  char buf[56];
  std::snprintf(buf, sizeof(buf), "00-%016llx%016llx-%016llx-%02x",
                static_cast<unsigned long long>(trace_hi),
                static_cast<unsigned long long>(trace_lo),
                static_cast<unsigned long long>(parent),
                static_cast<unsigned>(flags));
  return buf;
}

std::string trace_context::trace_id() const {
  auto x = text();
  return x.empty() ? x : x.substr(3, 32);
}

trace_context trace_context::parse(const std::string& x) {
  trace_context result;
  if (!valid_traceparent(x))
    return result;
  result.trace_hi = hex_at(x, 3, 16);
  result.trace_lo = hex_at(x, 19, 16);
  result.parent = hex_at(x, 36, 16);
  result.flags = static_cast<uint8_t>(hex_at(x, 53, 2));
  return result;
}

trace_context trace_context::make() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  trace_context result;
  while (result.empty())
    result.trace_hi = gen(), result.trace_lo = gen();
  while (result.parent == 0)
    result.parent = gen();
  result.flags = 1;
  return result;
}

trace_context trace_context::parse_or_make(const std::string& x) {
  auto result = parse(x);
  return result.empty() ? make() : result;
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
