// The domain events a saga instance emits, one per transition, in causal
// order; rows of the event table named by the saga tables.

#include "actors/saga/coordinator_state.hpp"

namespace booking::detail {

/// The only channel notifications are rendered for (see notification_actor).
constexpr const char* notification_channel = "email";

const std::string& no_reason() {
  static const std::string empty;
  return empty;
}

/// The booking's status as this saga knows it: its outcome once set, else
/// the status its table runs in (pending, or cancelling).
booking_status current_status(coordinator_pointer self,
                              const saga_instance& s) {
  return s.outcome != booking_status::pending
           ? s.outcome
           : definition(self, s).running_status;
}

/// Sends one domain event of `s` to the sink. Without a sink, or for a table
/// entry without an event, it returns before building anything.
void emit(coordinator_pointer self, saga_instance& s,
          std::optional<event_type> type, const std::string& reason,
          caf::optional<notification_kind> kind) {
  auto& sink = self->state.peers.events;
  if (!sink || !type)
    return;
  domain_event ev;
  ev.id = new_booking_id();
  ev.type = to_string(*type);
  ev.time = caf::make_timestamp(); // the clock of the saga history
  ev.correlation_id = s.req.correlation_id;
  ev.traceparent = s.req.trace.text();
  ev.booking_id = s.req.id;
  ev.tour_id = s.req.tour_id;
  ev.date = s.req.date;
  ev.seats = s.req.seats;
  ev.amount_cents = s.amount_cents;
  ev.currency = s.currency;
  ev.customer_email = s.req.cust.email;
  ev.status = to_string(current_status(self, s));
  ev.reason = reason;
  if (kind) {
    ev.kind = to_string(*kind);
    ev.channel = notification_channel;
  }
  // The outcome of a booking taken from the AMQP intake also goes to the
  // intake message's `reply_to`: the same event, with the same id, by the
  // same way, so a crash after the intake message was acked cannot lose it.
  std::optional<domain_event> reply;
  if (!s.cancellation && !s.req.reply_to.empty() && info(*type).intake_reply) {
    reply = ev;
    reply->reply_to = s.req.reply_to;
  }
  if (self->state.opts.durable) {
    // The transactional outbox: the event is written with the next state
    // change of this saga, and the store publishes it once committed.
    if (!s.outbox)
      s.outbox = std::make_unique<std::vector<domain_event>>();
    s.outbox->push_back(std::move(ev));
    if (reply)
      s.outbox->push_back(std::move(*reply));
    return;
  }
  // One-way sends from one actor to one sink keep their order, so the
  // events of a booking arrive in the order its saga emitted them.
  self->send(sink, std::move(ev));
  if (reply)
    self->send(sink, std::move(*reply));
}

/// The event of a row whose command succeeded.
void emit_success(coordinator_pointer self, saga_instance& s,
                  const saga_step_def& row) {
  if (!self->state.peers.events || !row.event_on_success)
    return;
  caf::optional<notification_kind> kind;
  if (row.command == saga_command::notify) {
    kind = notification_for(s);
    if (!kind)
      return; // nothing was sent
  }
  emit(self, s, row.event_on_success, no_reason(), kind);
}

/// The event of the outcome `s` just took, if its table names one.
void emit_outcome(coordinator_pointer self, saga_instance& s) {
  if (!self->state.peers.events)
    return;
  for (auto& x : definition(self, s).outcome_events)
    if (x.status == s.outcome) {
      emit(self, s, x.type, s.reason);
      return;
    }
}

} // namespace booking::detail
