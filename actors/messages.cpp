#include "actors/messages.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <random>

#include "actors/errors.hpp"

namespace booking {

namespace {

template <class E, size_t N>
std::string name_of(E x, const std::array<const char*, N>& names) {
  auto i = static_cast<size_t>(x);
  return i < N ? names[i] : "unknown";
}

} // namespace

std::string to_string(booking_status x) {
  static constexpr std::array<const char*, 6> names{
    {"pending", "confirmed", "failed", "cancelling", "cancelled",
     "compensation_failed"}};
  return name_of(x, names);
}

std::string to_string(saga_step x) {
  static constexpr std::array<const char*, 7> names{
    {"reserve_seats", "authorize_payment", "confirm_booking",
     "send_notification", "refund_payment", "release_seats", "cancel_booking"}};
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

std::string to_string(notification_kind x) {
  static constexpr std::array<const char*, 3> names{
    {"booking_confirmed", "booking_failed", "booking_cancelled"}};
  return name_of(x, names);
}

std::string to_string(payment_state x) {
  static constexpr std::array<const char*, 6> names{
    {"none", "authorized", "captured", "voided", "refunded", "declined"}};
  return name_of(x, names);
}

bool is_terminal(booking_status x) {
  return x == booking_status::confirmed || x == booking_status::failed
         || x == booking_status::cancelled
         || x == booking_status::compensation_failed;
}

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<customer>("customer");
  cfg.add_message_type<booking_request>("booking_request");
  cfg.add_message_type<saga_entry>("saga_entry");
  cfg.add_message_type<booking_record>("booking_record");
  cfg.add_message_type<booking_update>("booking_update");
  cfg.add_message_type<booking_filter>("booking_filter");
  cfg.add_message_type<departure>("departure");
  cfg.add_message_type<tour>("tour");
  cfg.add_message_type<seat_hold>("seat_hold");
  cfg.add_message_type<departure_counts>("departure_counts");
  cfg.add_message_type<inventory_snapshot>("inventory_snapshot");
  cfg.add_message_type<quote>("quote");
  cfg.add_message_type<availability_view>("availability_view");
  cfg.add_message_type<payment_request>("payment_request");
  cfg.add_message_type<payment_intent>("payment_intent");
  cfg.add_message_type<notification_request>("notification_request");
  cfg.add_message_type<notification_record>("notification_record");
  cfg.add_message_type<notification_filter>("notification_filter");
  cfg.add_message_type<domain_event>("domain_event");
  cfg.add_message_type<saga_checkpoint>("saga_checkpoint");
  cfg.add_message_type<saga_stats>("saga_stats");
  cfg.add_error_category(booking_error_category,
                         [](uint8_t code, caf::atom_value,
                            const caf::message&) {
                           return to_string(static_cast<booking_errc>(code));
                         });
}

const std::vector<std::string>& event_types() {
  static const std::vector<std::string> types{
    "booking.requested",  "booking.confirmed",        "booking.failed",
    "booking.cancelled",  "inventory.reserved",       "inventory.released",
    "inventory.rejected", "payment.authorized",       "payment.declined",
    "payment.voided",     "payment.captured",         "payment.refunded",
    "saga.compensating",  "saga.compensation_failed", "notification.sent",
  };
  return types;
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

// -- saga stats ---------------------------------------------------------------

const std::vector<double>& saga_duration_buckets() {
  static const std::vector<double> bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                          0.5,   1,    2.5,   5,    10,  30};
  return bounds;
}

namespace {

template <class Map>
void add_counts(Map& x, const Map& y) {
  for (auto& [key, n] : y)
    x[key] += n;
}

} // namespace

saga_stats& operator+=(saga_stats& x, const saga_stats& y) {
  x.started += y.started;
  x.in_flight += y.in_flight;
  x.completed += y.completed;
  x.retries += y.retries;
  x.compensations += y.compensations;
  x.uncertain_resolved += y.uncertain_resolved;
  x.starting += y.starting;
  add_counts(x.completed_by, y.completed_by);
  add_counts(x.compensations_by_step, y.compensations_by_step);
  add_counts(x.retries_by_step, y.retries_by_step);
  // Default-constructed stats have every bucket; others must lose no counts.
  if (x.duration_counts.size() < y.duration_counts.size())
    x.duration_counts.resize(y.duration_counts.size());
  for (size_t i = 0; i < y.duration_counts.size(); ++i)
    x.duration_counts[i] += y.duration_counts[i];
  x.duration_sum += y.duration_sum;
  return x;
}

void observe_duration(saga_stats& x, double seconds) {
  auto& bounds = saga_duration_buckets();
  if (x.duration_counts.size() <= bounds.size())
    x.duration_counts.resize(bounds.size() + 1);
  // Bounds are inclusive: a sample on a bound counts in that bucket.
  auto i = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  ++x.duration_counts[static_cast<size_t>(i - bounds.begin())];
  x.duration_sum += seconds;
}

// -- errors -------------------------------------------------------------------

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
