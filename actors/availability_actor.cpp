#include "actors/availability_actor.hpp"

#include <algorithm>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"

namespace booking {

namespace {

struct availability_state {
  std::map<std::string, tour> tours;
  /// Keyed by tour id, then date.
  std::map<std::string, std::map<std::string, departure_counts>> counts;
  static inline const char* name = "availability";
};

availability_actor::behavior_type availability_impl(
  availability_actor::stateful_pointer<availability_state> self) {
  return {
    [=](caf::put_atom, tour& t) {
      // The seat counts follow as `departure_counts` events; here only the
      // dates a replaced tour dropped go away.
      auto& dates = self->state.counts[t.id];
      for (auto i = dates.begin(); i != dates.end();) {
        auto kept
          = std::any_of(t.departures.begin(), t.departures.end(),
                        [&](const departure& d) { return d.date == i->first; });
        i = kept ? std::next(i) : dates.erase(i);
      }
      self->state.tours[t.id] = std::move(t);
    },
    [=](departure_counts& c) {
      self->state.counts[c.tour_id][c.date] = std::move(c);
    },
    [=](caf::get_atom, const std::string& tour_id, const std::string& from,
        const std::string& to) -> caf::result<availability_view> {
      auto& st = self->state;
      auto i = st.counts.find(tour_id);
      if (i == st.counts.end() || st.tours.count(tour_id) == 0)
        return make_error(booking_errc::unknown_tour, tour_id);
      availability_view view;
      view.tour_id = tour_id;
      for (auto& [date, c] : i->second)
        if ((from.empty() || date >= from) && (to.empty() || date <= to))
          view.dates.push_back(c);
      return view;
    },
    [=](caf::get_atom, const std::string& tour_id) -> caf::result<tour> {
      auto i = self->state.tours.find(tour_id);
      if (i == self->state.tours.end())
        return make_error(booking_errc::unknown_tour, tour_id);
      return i->second;
    },
    [=](list_atom) {
      std::vector<tour> result;
      result.reserve(self->state.tours.size());
      for (auto& [id, t] : self->state.tours)
        result.push_back(t);
      return result;
    },
    [=](quote_atom, const std::string& tour_id, const std::string& date,
        int32_t seats) -> caf::result<quote> {
      auto& st = self->state;
      auto i = st.tours.find(tour_id);
      if (i == st.tours.end())
        return make_error(booking_errc::unknown_tour, tour_id);
      auto& dates = st.counts[tour_id];
      if (dates.count(date) == 0)
        return make_error(booking_errc::unknown_date, date);
      return quote{i->second.price_cents * seats, i->second.currency};
    },
  };
}

} // namespace

availability_actor spawn_availability(caf::actor_system& sys) {
  return sys.spawn(availability_impl);
}

} // namespace booking
