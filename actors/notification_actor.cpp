#include "actors/notification_actor.hpp"

#include <cstdio>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/faults.hpp"
#include "actors/log.hpp"
#include "actors/store/read_back.hpp"

namespace booking {

namespace {

struct notification_state {
  std::shared_ptr<notification_repository> repo;
  store_actor store;
  notification_options opts;
  fault_dice dice{1};
  delayed_replies delayed;
  /// Notifications being read back from the store.
  read_back loads;
  static inline const char* name = "notification";
};

std::string money(int64_t cents, const std::string& currency) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%lld.%02lld %s",
                static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100), currency.c_str());
  return buf;
}

std::string reason_text(const std::string& reason) {
  if (reason == "sold_out")
    return "the departure is sold out";
  if (reason == "payment_declined")
    return "your payment was declined";
  if (reason == "timeout")
    return "the payment provider did not answer in time";
  return "of a technical problem on our side";
}

} // namespace

notification_sink log_sink() {
  return [](const notification_record& rec, const trace_context& trace) {
    log_line(log_level::info, "notification delivered",
             {{"booking_id", rec.booking_id},
              log_trace(trace),
              {"notification_id", rec.id},
              {"kind", to_string(rec.kind)},
              {"channel", rec.channel}});
    return true;
  };
}

notification_record render(const notification_request& req) {
  notification_record rec;
  rec.id = "ntf-" + req.booking_id + "-" + to_string(req.kind);
  rec.booking_id = req.booking_id;
  rec.kind = req.kind;
  rec.channel = "email";
  rec.to = req.to;
  auto seats = std::to_string(req.seats)
               + (req.seats == 1 ? " seat" : " seats");
  auto what = seats + " on " + req.tour_id + " on " + req.date;
  auto hello = "Hello " + req.customer_name + ",\n\n";
  auto bye = "\n\nBooking reference: " + req.booking_id + "\n";
  switch (req.kind) {
    case notification_kind::booking_confirmed:
      rec.subject = "Your booking is confirmed";
      rec.body = hello + "your booking of " + what
                 + " is confirmed. We charged "
                 + money(req.amount_cents, req.currency) + "." + bye;
      break;
    case notification_kind::booking_failed:
      rec.subject = "Your booking could not be completed";
      rec.body = hello + "we could not book " + what + " because "
                 + reason_text(req.reason)
                 + (req.settled ? ". You have not been charged."
                                : ". If an amount was reserved on your card, "
                                  "we are releasing it and will confirm by "
                                  "email.")
                 + bye;
      break;
    case notification_kind::booking_cancelled:
      rec.subject = "Your booking is cancelled";
      rec.body = hello + "your booking of " + what
                 + " is cancelled. We refunded "
                 + money(req.amount_cents, req.currency) + "." + bye;
      break;
  }
  return rec;
}

namespace {

using notification_pointer
  = notification_actor::stateful_pointer<notification_state>;

/// Claims, renders, delivers and records one notification (see the
/// delivery contract in the header); returns the answer.
caf::expected<bool> send(notification_pointer self,
                         const notification_request& req) {
  auto& st = self->state;
  if (st.opts.outages
      && st.opts.outages->notification.load(std::memory_order_relaxed))
    // The provider is down: no attempt is made, so none is recorded.
    return make_error(booking_errc::notification_error,
                      "delivery failed (outage)");
  using claim = notification_repository::claim_result;
  notification_record sent;
  switch (
    st.repo->claim(req.booking_id, req.kind, st.store ? &sent : nullptr)) {
    case claim::already_sent: {
      // Another worker recorded it, and may not have sent the record to
      // the store yet: this worker sends it too before answering, so
      // nothing this answer causes can be stored before the record.
      store_batch b;
      if (st.store)
        b.notifications.push_back(std::move(sent));
      persist_later(self, st.store, std::move(b));
      return false;
    }
    case claim::busy:
      return make_error(booking_errc::notification_error,
                        "delivery in progress");
    case claim::claimed:
      break;
  }
  auto rec = render(req);
  rec.created_at = caf::make_timestamp();
  auto delivered = !st.dice.roll(st.opts.error_rate)
                   && (!st.opts.sink || st.opts.sink(rec, req.trace));
  rec.status = delivered ? "sent" : "failed";
  auto stored = st.repo->record_attempt(std::move(rec));
  store_batch b;
  if (st.store)
    b.notifications.push_back(std::move(stored));
  // Failed attempts are written too (their count matters).
  persist_later(self, st.store, std::move(b));
  if (!delivered)
    return make_error(booking_errc::notification_error, "delivery failed");
  return true;
}

notification_actor::behavior_type
notification_impl(notification_pointer self,
                  std::shared_ptr<notification_repository> repo,
                  notification_options opts, store_actor store) {
  self->state.repo = std::move(repo);
  self->state.store = std::move(store);
  self->state.dice = fault_dice{opts.seed};
  self->state.opts = std::move(opts);
  return {
    [=](send_atom, const notification_request& req) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.store)
        return st.delayed.reply(self, st.opts.latency, send(self, req));
      auto rp = self->make_response_promise<bool>();
      auto restore = [self](booking_parts& parts) {
        for (auto& rec : parts.notifications)
          self->state.repo->restore(std::move(rec));
      };
      st.loads.run(self, st.store, req.booking_id,
                   st.repo->knows(req.booking_id), restore, [self, rp, req] {
                     auto& st = self->state;
                     st.delayed.reply_to(self, st.opts.latency, rp,
                                         send(self, req));
                   });
      return rp;
    },
    [=](caf::get_atom,
        const std::string& id) -> caf::result<notification_record> {
      // With a store, memory lacks the notifications of finished bookings.
      if (self->state.store)
        return self->delegate(self->state.store, caf::get_atom::value,
                              notice_atom::value, id);
      if (auto rec = self->state.repo->get(id))
        return std::move(*rec);
      return make_error(booking_errc::not_found, id);
    },
    [=](list_atom, const notification_filter& filter)
      -> caf::result<std::vector<notification_record>> {
      if (self->state.store)
        return self->delegate(self->state.store, list_atom::value, filter);
      return self->state.repo->list(filter);
    },
    [=](forget_atom, const std::string& booking_id) {
      // After the sends that wait for this booking, if any; only what a
      // store keeps may go.
      auto& st = self->state;
      if (!st.store)
        return;
      st.loads.run(
        self, st.store, booking_id, true, [](booking_parts&) {},
        [self, booking_id] {
          self->state.repo->forget(booking_id);
          self->state.loads.forget(booking_id);
        });
    },
    [=](fresh_atom, const std::string& booking_id) {
      self->state.loads.fresh(booking_id);
    },
    [=](deliver_atom, uint64_t) { self->state.delayed.deliver(self); },
  };
}

} // namespace

notification_actor
spawn_notification_worker(caf::actor_system& sys,
                          std::shared_ptr<notification_repository> repo,
                          notification_options opts, store_actor store) {
  return sys.spawn(notification_impl, std::move(repo), std::move(opts),
                   std::move(store));
}

} // namespace booking
