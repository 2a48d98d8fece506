// Tours and inventory: departures and their seat counts, holds, the
// availability read model and price quotes.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace booking {

/// A dated departure with its seat count.
struct departure {
  std::string date;
  int32_t capacity = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, departure& x) {
  return f(caf::meta::type_name("departure"), x.date, x.capacity);
}

/// A tour and its departures.
struct tour {
  std::string id;
  std::string name;
  int64_t price_cents = 0;
  std::string currency;
  std::vector<departure> departures;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tour& x) {
  return f(caf::meta::type_name("tour"), x.id, x.name, x.price_cents,
           x.currency, x.departures);
}

/// Seats of one booking at one departure: a hold, or seats sold.
struct seat_hold {
  std::string booking_id;
  std::string tour_id;
  std::string date;
  int32_t seats = 0;
  /// False while held, true once committed (sold).
  bool sold = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, seat_hold& x) {
  return f(caf::meta::type_name("seat_hold"), x.booking_id, x.tour_id, x.date,
           x.seats, x.sold);
}

/// Seat counts of one departure; also the event inventory sends to the
/// availability read model (absolute values, so replays are harmless).
struct departure_counts {
  std::string tour_id;
  std::string date;
  int32_t capacity = 0;
  int32_t held = 0;
  int32_t sold = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, departure_counts& x) {
  return f(caf::meta::type_name("departure_counts"), x.tour_id, x.date,
           x.capacity, x.held, x.sold);
}

/// Everything one inventory shard holds, for checks and reports.
struct inventory_snapshot {
  std::vector<departure_counts> departures;
  std::vector<seat_hold> holds;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inventory_snapshot& x) {
  return f(caf::meta::type_name("inventory_snapshot"), x.departures, x.holds);
}

/// Price of a prospective booking, from the availability read model.
struct quote {
  int64_t amount_cents = 0;
  std::string currency;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quote& x) {
  return f(caf::meta::type_name("quote"), x.amount_cents, x.currency);
}

/// Seats left per date of one tour.
struct availability_view {
  std::string tour_id;
  std::vector<departure_counts> dates;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, availability_view& x) {
  return f(caf::meta::type_name("availability_view"), x.tour_id, x.dates);
}

} // namespace booking
