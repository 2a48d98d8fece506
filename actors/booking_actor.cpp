#include "actors/booking_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"

namespace booking {

namespace {

struct booking_state {
  std::shared_ptr<booking_repository> repo;
  static inline const char* name = "booking";
};

booking_actor::behavior_type
booking_impl(booking_actor::stateful_pointer<booking_state> self,
             std::shared_ptr<booking_repository> repo) {
  self->state.repo = std::move(repo);
  return {
    [=](create_atom, booking_record& rec) -> caf::result<booking_record> {
      return self->state.repo->insert(std::move(rec));
    },
    [=](update_atom, const booking_update& upd) -> caf::result<booking_record> {
      return self->state.repo->apply(upd, caf::make_timestamp());
    },
    [=](record_atom, const booking_update& upd) {
      if (auto rec = self->state.repo->apply(upd, caf::make_timestamp()); !rec)
        log_line(log_level::error, "booking update failed",
                 {{"booking_id", upd.id}, {"error", describe(rec.error())}});
    },
    [=](caf::get_atom, const std::string& id) -> caf::result<booking_record> {
      if (auto rec = self->state.repo->find(id))
        return std::move(*rec);
      return make_error(booking_errc::not_found, id);
    },
    [=](list_atom, const booking_filter& filter) {
      return self->state.repo->list(filter);
    },
  };
}

} // namespace

booking_actor spawn_booking(caf::actor_system& sys,
                            std::shared_ptr<booking_repository> repo) {
  return sys.spawn(booking_impl, std::move(repo));
}

} // namespace booking
