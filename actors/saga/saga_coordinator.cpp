#include "actors/saga/saga_coordinator.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_map>

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/faults.hpp"
#include "actors/log.hpp"

namespace booking {

namespace {

// -- saga instances -----------------------------------------------------------

/// Where an instance is in its table. The values are stored in saga
/// checkpoints: never renumber them.
enum class saga_phase : uint8_t {
  /// Running rows in order.
  forward,
  /// Resolving an uncertain outcome of the current row.
  query,
  /// Undoing completed rows, last first.
  compensating,
  /// Running the final rows after a failure.
  finishing,
  /// Nothing left to run.
  done,
};

/// The outcome of one call to a participant.
struct attempt_result {
  step_outcome outcome = step_outcome::ok;
  /// Short text for the history; empty when ok.
  std::string error;
  /// Failure reason this result implies, if it ends the saga.
  std::string reason;
};

using booking_promise = caf::typed_response_promise<booking_record>;

/// One running saga.
struct saga_instance {
  bool cancellation = false;
  booking_request req;
  int64_t amount_cents = 0;
  std::string currency;
  saga_phase phase = saga_phase::forward;
  /// Current row.
  size_t row = 0;
  /// Attempt of the current (row, action), from 1.
  int32_t attempt = 1;
  /// Increments with every call issued; a reply for an older epoch is late.
  uint64_t epoch = 0;
  /// Rows to compensate; the last one first.
  std::vector<uint8_t> to_compensate;
  /// Set when a compensation ran out of retries.
  bool compensation_failed = false;
  std::string reason;
  /// The outcome, once known (`pending` until then).
  booking_status outcome = booking_status::pending;
  /// The booking as stored with its outcome, once the store confirmed it.
  caf::optional<booking_record> final_record;
  std::vector<booking_promise> awaiters;
  /// For the duration histogram; the actor clock, so tests control it.
  caf::actor_clock::time_point started;
  /// Domain events not yet handed to the store (durable mode only): they
  /// go with the next update of the booking, in the same transaction.
  std::vector<domain_event> outbox;
  /// When the pending retry is due (for the checkpoint).
  caf::timestamp retry_at;
};

/// Who waits on a booking that is still being priced and stored.
struct starting_booking {
  /// The first create and its repetitions: all get the same answer.
  std::vector<booking_promise> creates;
  /// Awaiters; they move to the saga once it starts.
  std::vector<booking_promise> awaiters;
};

std::string saga_key(const std::string& booking_id, bool cancellation) {
  return cancellation ? booking_id + "#cancel" : booking_id;
}

attempt_result classify(const caf::error& e) {
  attempt_result r;
  r.error = describe(e);
  if (e == caf::sec::request_timeout) {
    r.outcome = step_outcome::timeout;
    r.reason = "timeout";
    return r;
  }
  r.outcome = step_outcome::error;
  if (e.category() != booking_error_category)
    return r;
  switch (static_cast<booking_errc>(e.code())) {
    case booking_errc::sold_out:
      r.outcome = step_outcome::declined;
      r.reason = "sold_out";
      break;
    case booking_errc::payment_declined:
      r.outcome = step_outcome::declined;
      r.reason = "payment_declined";
      break;
    case booking_errc::payment_conflict:
      r.outcome = step_outcome::declined;
      r.reason = "payment_error";
      break;
    case booking_errc::unknown_tour:
    case booking_errc::unknown_date:
      r.outcome = step_outcome::declined;
      r.reason = "inventory_error";
      break;
    case booking_errc::payment_error:
      r.reason = "payment_error";
      break;
    case booking_errc::inventory_error:
      r.reason = "inventory_error";
      break;
    default:
      break;
  }
  return r;
}

// -- coordinator state --------------------------------------------------------

struct coordinator_state {
  saga_participants peers;
  coordinator_options opts;
  std::unordered_map<std::string, saga_instance> sagas;
  /// Bookings being priced and stored, counted against the in-flight limit.
  size_t starting = 0;
  /// Bookings being priced and stored (not cancellations), by booking id.
  std::unordered_map<std::string, starting_booking> starting_bookings;
  saga_stats stats;
  fault_dice dice{1};
  static inline const char* name = "saga_coordinator";
};

using coordinator_pointer
  = saga_coordinator_actor::stateful_pointer<coordinator_state>;

using result_handler = std::function<void(attempt_result)>;

const saga_definition& definition(coordinator_pointer self,
                                  const saga_instance& s) {
  return s.cancellation ? self->state.opts.cancellation
                        : self->state.opts.booking;
}

const saga_step_def& current_row(coordinator_pointer self,
                                 const saga_instance& s) {
  auto& def = definition(self, s);
  if (s.phase == saga_phase::compensating)
    return def.steps[s.to_compensate.back()];
  return def.steps[s.row];
}

saga_action current_action(const saga_instance& s) {
  switch (s.phase) {
    case saga_phase::query:
      return saga_action::query;
    case saga_phase::compensating:
      return saga_action::compensate;
    default:
      return saga_action::execute;
  }
}

saga_command current_command(coordinator_pointer self, const saga_instance& s) {
  auto& row = current_row(self, s);
  switch (s.phase) {
    case saga_phase::query:
      return row.query;
    case saga_phase::compensating:
      return row.compensation;
    default:
      return row.command;
  }
}

const retry_policy& current_policy(coordinator_pointer self,
                                   const saga_instance& s) {
  auto& row = current_row(self, s);
  return s.phase == saga_phase::compensating ? row.compensation_retry
                                             : row.retry;
}

caf::timespan backoff(coordinator_pointer self, const retry_policy& p,
                      int32_t attempt) {
  // attempt is the attempt that just failed, so the first retry waits
  // initial_backoff.
  auto base = static_cast<double>(p.initial_backoff.count())
              * std::pow(p.multiplier, std::max(0, attempt - 1));
  base = std::min(base, static_cast<double>(p.max_backoff.count()));
  auto jittered = base * (1.0 - p.jitter * self->state.dice.uniform());
  return caf::timespan{static_cast<int64_t>(jittered)};
}

/// The notification an outcome calls for, if any.
caf::optional<notification_kind> notification_for(const saga_instance& s) {
  switch (s.outcome) {
    case booking_status::confirmed:
      return notification_kind::booking_confirmed;
    case booking_status::cancelled:
      return notification_kind::booking_cancelled;
    case booking_status::failed:
      return notification_kind::booking_failed;
    case booking_status::compensation_failed:
      // The customer of a booking that never stood learns it failed; a
      // stuck cancellation is for an operator, not a second email.
      if (!s.cancellation)
        return notification_kind::booking_failed;
      return caf::none;
    default:
      return caf::none;
  }
}

// -- domain events ------------------------------------------------------------

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
void emit(coordinator_pointer self, saga_instance& s, const std::string& type,
          const std::string& reason = no_reason(),
          caf::optional<notification_kind> kind = caf::none) {
  auto& sink = self->state.peers.events;
  if (!sink || type.empty())
    return;
  domain_event ev;
  ev.id = new_booking_id();
  ev.type = type;
  ev.time = caf::make_timestamp(); // the clock of the saga history
  ev.correlation_id = s.req.correlation_id;
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
  if (self->state.opts.durable) {
    // The transactional outbox: the event is written with the next state
    // change of this saga, and the store publishes it once committed.
    s.outbox.push_back(std::move(ev));
    return;
  }
  // One-way sends from one actor to one sink keep their order, so the
  // events of a booking arrive in the order its saga emitted them.
  self->send(sink, std::move(ev));
}

/// The event of a row whose command succeeded.
void emit_success(coordinator_pointer self, saga_instance& s,
                  const saga_step_def& row) {
  if (!self->state.peers.events || row.event_on_success.empty())
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

// -- forward declarations -----------------------------------------------------

void issue(coordinator_pointer self, const std::string& key);
void on_result(coordinator_pointer self, const std::string& key, uint64_t epoch,
               attempt_result r);

// -- talking to participants --------------------------------------------------

template <class T>
auto on_reply(result_handler done) {
  return [done](T&) { done(attempt_result{}); };
}

auto on_error(result_handler done) {
  return [done](caf::error& e) { done(classify(e)); };
}

void dispatch(coordinator_pointer self, const saga_instance& s,
              saga_command cmd, caf::timespan timeout, result_handler done) {
  auto& peers = self->state.peers;
  auto& id = s.req.id;
  switch (cmd) {
    case saga_command::none:
      done(attempt_result{});
      return;
    case saga_command::reserve_seats: {
      seat_hold h{id, s.req.tour_id, s.req.date, s.req.seats, false};
      self
        ->request(shard_for(peers.inventory, s.req.tour_id), timeout,
                  reserve_atom::value, std::move(h))
        .then(on_reply<departure_counts>(done), on_error(done));
      return;
    }
    case saga_command::release_seats:
      self
        ->request(shard_for(peers.inventory, s.req.tour_id), timeout,
                  release_atom::value, id)
        .then(on_reply<bool>(done), on_error(done));
      return;
    case saga_command::authorize_payment: {
      payment_request req{id, s.amount_cents, s.currency, s.req.payment_token};
      self
        ->request(peers.payment, timeout, authorize_atom::value, std::move(req))
        .then(on_reply<payment_intent>(done), on_error(done));
      return;
    }
    case saga_command::void_payment:
      self->request(peers.payment, timeout, void_atom::value, id)
        .then(on_reply<payment_intent>(done), on_error(done));
      return;
    case saga_command::query_payment:
      self->request(peers.payment, timeout, status_atom::value, id)
        .then(on_reply<payment_intent>(done), on_error(done));
      return;
    case saga_command::refund_payment:
      self->request(peers.payment, timeout, refund_atom::value, id)
        .then(on_reply<payment_intent>(done), on_error(done));
      return;
    case saga_command::capture_and_commit: {
      auto inventory = shard_for(peers.inventory, s.req.tour_id);
      self->request(peers.payment, timeout, capture_atom::value, id)
        .then(
          [=](payment_intent&) {
            self->request(inventory, timeout, commit_atom::value, id)
              .then(on_reply<departure_counts>(done), on_error(done));
          },
          on_error(done));
      return;
    }
    case saga_command::notify: {
      auto kind = notification_for(s);
      if (!kind) {
        done(attempt_result{});
        return;
      }
      notification_request req;
      req.booking_id = id;
      req.kind = *kind;
      req.to = s.req.cust.email;
      req.customer_name = s.req.cust.name;
      req.tour_id = s.req.tour_id;
      req.date = s.req.date;
      req.seats = s.req.seats;
      req.amount_cents = s.amount_cents;
      req.currency = s.currency;
      req.reason = s.reason;
      req.settled = s.outcome != booking_status::compensation_failed;
      req.correlation_id = s.req.correlation_id;
      self
        ->request(peers.notification, timeout, send_atom::value, std::move(req))
        .then(on_reply<notification_record>(done), on_error(done));
      return;
    }
  }
}

// -- recording ----------------------------------------------------------------

void serve_awaiters(saga_instance& s, const booking_record& rec) {
  for (auto& rp : s.awaiters)
    rp.deliver(rec);
  s.awaiters.clear();
}

void finish(coordinator_pointer self, const std::string& key);

/// Where `s` stands, for the store.
saga_checkpoint checkpoint(const saga_instance& s, bool done = false) {
  saga_checkpoint cp;
  cp.key = saga_key(s.req.id, s.cancellation);
  cp.done = done;
  if (done)
    return cp;
  cp.cancellation = s.cancellation;
  cp.req = s.req;
  cp.amount_cents = s.amount_cents;
  cp.currency = s.currency;
  cp.phase = static_cast<uint8_t>(s.phase);
  cp.row = static_cast<int32_t>(s.row);
  cp.attempt = s.attempt;
  cp.to_compensate = s.to_compensate;
  cp.compensation_failed = s.compensation_failed;
  cp.reason = s.reason;
  cp.outcome = s.outcome;
  cp.retry_at = s.retry_at;
  return cp;
}

/// In durable mode, adds the saga's checkpoint and pending events to `upd`,
/// so the store writes them with the change in one transaction.
void attach_durable(coordinator_pointer self, saga_instance& s,
                    booking_update& upd, bool done = false) {
  if (!self->state.opts.durable)
    return;
  upd.checkpoint = checkpoint(s, done);
  upd.events = std::move(s.outbox);
  s.outbox.clear();
}

/// What a saga does once its outcome is recorded.
using saga_continuation = std::function<void(saga_instance&)>;

/// Records one history entry, and the outcome status if `status` is set.
/// `next` continues the saga after an outcome: in durable mode once the
/// outcome is committed (so no notification goes out for an outcome a crash
/// could still undo), else at once.
void record(coordinator_pointer self, saga_instance& s,
            caf::optional<saga_entry> entry,
            caf::optional<booking_status> status, saga_continuation next = {}) {
  if (!entry && !status && !self->state.opts.durable)
    return; // nothing to write
  booking_update upd;
  upd.id = s.req.id;
  attach_durable(self, s, upd);
  if (entry)
    upd.entries.push_back(std::move(*entry));
  if (status) {
    upd.has_status = true;
    upd.status = *status;
    upd.reason = s.reason;
  }
  auto& shard = shard_for(self->state.peers.bookings, s.req.id);
  if (!status) {
    // Nobody waits on a history entry; order with the status changes is
    // kept because messages from one actor to another stay in order.
    self->send(shard, record_atom::value, std::move(upd));
    return;
  }
  auto is_outcome = is_terminal(*status);
  auto key = saga_key(s.req.id, s.cancellation);
  auto durable = self->state.opts.durable;
  self->request(shard, caf::infinite, update_atom::value, std::move(upd))
    .then(
      [=](booking_record& rec) {
        if (!is_outcome)
          return;
        auto i = self->state.sagas.find(key);
        if (i == self->state.sagas.end())
          return;
        auto& inst = i->second;
        serve_awaiters(inst, rec);
        inst.final_record = std::move(rec);
        if (durable && next)
          next(inst); // may end the saga: `inst` is gone then
        else if (inst.phase == saga_phase::done)
          finish(self, key);
      },
      [=](caf::error& e) {
        log_line(log_level::error, "booking update failed",
                 {{"booking_id", key}, {"error", describe(e)}});
        if (!is_outcome)
          return;
        auto i = self->state.sagas.find(key);
        if (i == self->state.sagas.end())
          return;
        // Nobody may wait forever for an outcome that could not be stored.
        for (auto& rp : i->second.awaiters)
          rp.deliver(e);
        i->second.awaiters.clear();
        i->second.final_record = booking_record{};
        if (durable && next) {
          // The store failed (it stops for good then): the outcome is not
          // durable, so nothing may follow from it, no notification above
          // all. The saga stops here; a restart resumes it from its last
          // checkpoint.
          log_line(log_level::warn, "saga stopped: its outcome is not stored",
                   {{"booking_id", i->second.req.id}});
          self->state.sagas.erase(i);
          --self->state.stats.in_flight;
        } else if (i->second.phase == saga_phase::done) {
          finish(self, key);
        }
      });
  if (!durable && next)
    next(s);
}

saga_entry make_entry(const saga_instance& s, saga_step step,
                      const attempt_result& r) {
  saga_entry e;
  e.step = step;
  e.action = current_action(s);
  e.outcome = r.outcome;
  e.attempt = s.attempt;
  e.at = caf::make_timestamp();
  e.error = r.outcome == step_outcome::ok ? std::string{} : r.error;
  return e;
}

/// Counts the outcome `s` just reached and how long it took to get there.
void count_outcome(coordinator_pointer self, const saga_instance& s) {
  auto& st = self->state.stats;
  auto reason = s.reason.empty() ? std::string{"none"} : s.reason;
  ++st.completed_by[to_string(s.outcome) + "/" + reason];
  auto elapsed = self->clock().now() - s.started;
  observe_duration(st, std::chrono::duration<double>(elapsed).count());
}

void set_outcome(coordinator_pointer self, saga_instance& s,
                 booking_status status, caf::optional<saga_entry> entry,
                 saga_continuation next) {
  s.outcome = status;
  count_outcome(self, s);
  log_line(log_level::info, "booking " + to_string(status),
           {{"booking_id", s.req.id},
            {"correlation_id", s.req.correlation_id},
            {"reason", s.reason}});
  // The event first, so it is written with the outcome.
  emit_outcome(self, s);
  record(self, s, std::move(entry), status, std::move(next));
}

// -- moving through the table -------------------------------------------------

/// Removes a finished instance once its outcome is stored.
void finish(coordinator_pointer self, const std::string& key) {
  auto i = self->state.sagas.find(key);
  if (i == self->state.sagas.end())
    return;
  if (i->second.outcome != booking_status::pending && !i->second.final_record)
    return; // the outcome's reply will call us again
  self->state.sagas.erase(i);
}

void complete(coordinator_pointer self, const std::string& key,
              saga_instance& s) {
  s.phase = saga_phase::done;
  if (self->state.opts.durable) {
    // The saga's row goes, with any event still pending.
    booking_update upd;
    upd.id = s.req.id;
    attach_durable(self, s, upd, true);
    self->send(shard_for(self->state.peers.bookings, s.req.id),
               record_atom::value, std::move(upd));
  }
  auto& st = self->state.stats;
  --st.in_flight;
  ++st.completed;
  finish(self, key);
}

/// Starts the first final row at or after `from`, or completes the saga.
void run_final_rows(coordinator_pointer self, const std::string& key,
                    saga_instance& s, size_t from) {
  auto& def = definition(self, s);
  auto nothing_to_do = [&](const saga_step_def& row) {
    return !row.final
           || (row.command == saga_command::notify && !notification_for(s));
  };
  while (from < def.steps.size() && nothing_to_do(def.steps[from]))
    ++from;
  if (from == def.steps.size()) {
    complete(self, key, s);
    return;
  }
  s.phase = saga_phase::finishing;
  s.row = from;
  s.attempt = 1;
  issue(self, key);
}

/// Compensation is over: the saga ends in `status`.
void end_failed(coordinator_pointer self, const std::string& key,
                saga_instance& s, booking_status status,
                caf::optional<saga_entry> entry) {
  // Checkpointed as finishing: a resumed saga only runs the final rows.
  s.phase = saga_phase::finishing;
  s.row = 0;
  s.attempt = 1;
  set_outcome(self, s, status, std::move(entry),
              [=](saga_instance& inst) { run_final_rows(self, key, inst, 0); });
}

/// Starts compensating (or ends at once if nothing needs undoing).
void fail(coordinator_pointer self, const std::string& key, saga_instance& s,
          std::string reason, caf::optional<saga_entry> entry) {
  s.reason = std::move(reason);
  if (s.to_compensate.empty()) {
    end_failed(self, key, s, definition(self, s).failure_status,
               std::move(entry));
    return;
  }
  s.phase = saga_phase::compensating;
  s.attempt = 1;
  log_line(log_level::debug, "saga compensating",
           {{"booking_id", s.req.id}, {"reason", s.reason}});
  emit(self, s, definition(self, s).event_on_compensating);
  // Checkpointed as compensating, with the event, in one write.
  record(self, s, std::move(entry), caf::none);
  issue(self, key);
}

void retry_later(coordinator_pointer self, const std::string& key,
                 saga_instance& s, saga_entry entry) {
  auto delay = backoff(self, current_policy(self, s), s.attempt);
  ++s.attempt;
  s.retry_at = caf::make_timestamp() + delay;
  record(self, s, std::move(entry), caf::none);
  s.retry_at = caf::timestamp{};
  auto& st = self->state.stats;
  ++st.retries;
  ++st.retries_by_step[to_string(current_row(self, s).step)];
  self->delayed_send(self, delay, timer_atom::value, key, s.epoch);
}

void issue(coordinator_pointer self, const std::string& key) {
  auto& s = self->state.sagas.at(key);
  auto epoch = ++s.epoch;
  dispatch(self, s, current_command(self, s), current_row(self, s).timeout,
           [=](attempt_result r) {
             on_result(self, key, epoch, std::move(r));
           });
}

void on_forward_result(coordinator_pointer self, const std::string& key,
                       saga_instance& s, attempt_result r) {
  auto& def = definition(self, s);
  auto& row = def.steps[s.row];
  auto entry = make_entry(s, row.step, r);
  auto past_pivot = s.outcome != booking_status::pending;
  if (r.outcome == step_outcome::ok) {
    if (row.compensation != saga_command::none)
      s.to_compensate.push_back(static_cast<uint8_t>(s.row));
    // Before the status change, so the event carries the status before it
    // (payment.captured is `pending`, booking.confirmed `confirmed`).
    emit_success(self, s, row);
    // Moved on before recording, so the checkpoint names the next row.
    ++s.row;
    s.attempt = 1;
    auto next = [=](saga_instance& inst) {
      if (inst.row == definition(self, inst).steps.size())
        complete(self, key, inst);
      else
        issue(self, key);
    };
    if (row.on_success != booking_status::pending)
      set_outcome(self, s, row.on_success, std::move(entry), next);
    else {
      record(self, s, std::move(entry), caf::none);
      next(s);
    }
    return;
  }
  auto uncertain = r.outcome == step_outcome::timeout
                   || r.outcome == step_outcome::error;
  if (uncertain && r.outcome == step_outcome::timeout
      && row.query != saga_command::none) {
    s.phase = saga_phase::query;
    s.attempt = 1;
    record(self, s, std::move(entry), caf::none);
    issue(self, key);
    return;
  }
  if (uncertain && s.attempt < row.retry.max_attempts) {
    retry_later(self, key, s, std::move(entry));
    return;
  }
  auto& reason = r.reason.empty() ? row.error_reason : r.reason;
  if (r.outcome == step_outcome::declined)
    emit(self, s, row.event_on_decline, reason);
  if (past_pivot) {
    // After the pivot nothing is undone: give up on this row, keep going.
    record(self, s, std::move(entry), caf::none);
    log_line(log_level::warn, "saga step gave up after the pivot",
             {{"booking_id", s.req.id}, {"step", to_string(row.step)}});
    run_final_rows(self, key, s, s.row + 1);
    return;
  }
  // The call may have taken effect: undo it too (compensations are
  // idempotent, so undoing what never happened is harmless).
  if (uncertain && row.compensation != saga_command::none)
    s.to_compensate.push_back(static_cast<uint8_t>(s.row));
  fail(self, key, s, reason, std::move(entry));
}

void on_query_result(coordinator_pointer self, const std::string& key,
                     saga_instance& s, attempt_result r) {
  auto& row = current_row(self, s);
  auto entry = make_entry(s, row.step, r);
  if (r.outcome != step_outcome::ok && s.attempt < row.retry.max_attempts) {
    retry_later(self, key, s, std::move(entry));
    return;
  }
  if (r.outcome == step_outcome::ok)
    ++self->state.stats.uncertain_resolved;
  // Whatever the answer, the step is compensated: a void also blocks an
  // authorization still on its way to the gateway.
  if (row.compensation != saga_command::none)
    s.to_compensate.push_back(static_cast<uint8_t>(s.row));
  fail(self, key, s, "timeout", std::move(entry));
}

void on_compensation_result(coordinator_pointer self, const std::string& key,
                            saga_instance& s, attempt_result r) {
  auto& row = current_row(self, s);
  auto entry = make_entry(s, row.step, r);
  if (r.outcome != step_outcome::ok
      && s.attempt < row.compensation_retry.max_attempts) {
    retry_later(self, key, s, std::move(entry));
    return;
  }
  if (r.outcome == step_outcome::ok) {
    // Counted once per step undone, when it succeeds: not per attempt.
    auto& st = self->state.stats;
    ++st.compensations;
    ++st.compensations_by_step[to_string(row.step)];
    emit(self, s, row.event_on_compensation);
  } else {
    // Out of retries: leave this one for an operator, but still undo the
    // other steps, so as little as possible stays taken.
    s.compensation_failed = true;
    log_line(log_level::error, "compensation failed",
             {{"booking_id", s.req.id},
              {"correlation_id", s.req.correlation_id},
              {"step", to_string(row.step)}});
  }
  s.to_compensate.pop_back();
  if (s.to_compensate.empty()) {
    auto status = s.compensation_failed ? booking_status::compensation_failed
                                        : definition(self, s).failure_status;
    end_failed(self, key, s, status, std::move(entry));
    return;
  }
  s.attempt = 1;
  record(self, s, std::move(entry), caf::none);
  issue(self, key);
}

void on_final_result(coordinator_pointer self, const std::string& key,
                     saga_instance& s, attempt_result r) {
  auto& row = current_row(self, s);
  auto entry = make_entry(s, row.step, r);
  if (r.outcome != step_outcome::ok && s.attempt < row.retry.max_attempts) {
    retry_later(self, key, s, std::move(entry));
    return;
  }
  record(self, s, std::move(entry), caf::none);
  if (r.outcome == step_outcome::ok)
    emit_success(self, s, row);
  else
    log_line(log_level::warn, "final saga step gave up",
             {{"booking_id", s.req.id}, {"step", to_string(row.step)}});
  run_final_rows(self, key, s, s.row + 1);
}

void on_result(coordinator_pointer self, const std::string& key, uint64_t epoch,
               attempt_result r) {
  auto i = self->state.sagas.find(key);
  if (i == self->state.sagas.end() || i->second.epoch != epoch
      || i->second.phase == saga_phase::done)
    return; // an abandoned attempt: its saga has moved on
  auto& s = i->second;
  switch (s.phase) {
    case saga_phase::forward:
      on_forward_result(self, key, s, std::move(r));
      break;
    case saga_phase::query:
      on_query_result(self, key, s, std::move(r));
      break;
    case saga_phase::compensating:
      on_compensation_result(self, key, s, std::move(r));
      break;
    case saga_phase::finishing:
      on_final_result(self, key, s, std::move(r));
      break;
    case saga_phase::done:
      break;
  }
}

/// Registers a new instance and emits its start event (unless `announced`
/// already did); runs its first row unless `defer` is set.
saga_instance& start(coordinator_pointer self, saga_instance s,
                     bool defer = false, bool announced = false) {
  auto key = saga_key(s.req.id, s.cancellation);
  s.started = self->clock().now();
  auto& st = self->state;
  ++st.stats.started;
  ++st.stats.in_flight;
  auto& inst = st.sagas.emplace(key, std::move(s)).first->second;
  if (!announced)
    emit(self, inst, definition(self, inst).event_on_start);
  if (!defer)
    issue(self, key);
  return inst;
}

/// Picks up a saga an earlier run of the engine left unfinished, where its
/// last checkpoint says it stood: the step in progress runs again (every
/// command and compensation is idempotent per booking), a pending retry
/// waits out the rest of its backoff, and an outcome stands.
void resume(coordinator_pointer self, const saga_checkpoint& cp) {
  if (self->state.sagas.count(cp.key) > 0)
    return; // resumed already
  saga_instance s;
  s.cancellation = cp.cancellation;
  s.req = cp.req;
  s.amount_cents = cp.amount_cents;
  s.currency = cp.currency;
  s.phase = static_cast<saga_phase>(cp.phase);
  s.row = static_cast<size_t>(cp.row);
  s.attempt = std::max(1, cp.attempt);
  s.to_compensate = cp.to_compensate;
  s.compensation_failed = cp.compensation_failed;
  s.reason = cp.reason;
  s.outcome = cp.outcome;
  if (s.outcome != booking_status::pending) {
    // The outcome is stored: awaiters read it from the booking.
    s.final_record = booking_record{};
  }
  auto key = cp.key;
  log_line(log_level::info, "saga resumed",
           {{"booking_id", s.req.id},
            {"correlation_id", s.req.correlation_id},
            {"phase", std::to_string(cp.phase)},
            {"row", std::to_string(cp.row)}});
  auto& inst = start(self, std::move(s), true, true);
  auto& def = definition(self, inst);
  auto rows = def.steps.size();
  switch (inst.phase) {
    case saga_phase::forward:
    case saga_phase::query:
      if (inst.row >= rows) {
        complete(self, key, inst);
        return;
      }
      break;
    case saga_phase::compensating:
      if (inst.to_compensate.empty()) {
        auto status = inst.compensation_failed
                        ? booking_status::compensation_failed
                        : def.failure_status;
        end_failed(self, key, inst, status, caf::none);
        return;
      }
      break;
    case saga_phase::finishing:
      run_final_rows(self, key, inst, inst.row);
      return;
    case saga_phase::done:
      complete(self, key, inst);
      return;
  }
  auto now = caf::make_timestamp();
  if (cp.retry_at > now) {
    self->delayed_send(self, cp.retry_at - now, timer_atom::value, key,
                       inst.epoch);
    return;
  }
  issue(self, key);
}

bool at_capacity(coordinator_pointer self) {
  auto& st = self->state;
  return static_cast<size_t>(st.stats.in_flight) + st.starting
         >= st.opts.max_in_flight;
}

// -- starting and awaiting bookings -------------------------------------------

/// Ends the start of booking `id` (stored or refused) and hands back who
/// waits on it.
starting_booking take_start(coordinator_pointer self, const std::string& id) {
  auto& st = self->state;
  --st.starting;
  starting_booking result;
  if (auto i = st.starting_bookings.find(id); i != st.starting_bookings.end()) {
    result = std::move(i->second);
    st.starting_bookings.erase(i);
  }
  return result;
}

template <class T>
void deliver_all(std::vector<booking_promise>& promises, const T& x) {
  for (auto& rp : promises)
    rp.deliver(x);
}

/// Answers `rp` with booking `id` once it has an outcome: from a saga of
/// this coordinator that is about to set one, else from the store.
void await_outcome(coordinator_pointer self, const std::string& id,
                   booking_promise rp) {
  auto& sagas = self->state.sagas;
  for (auto cancellation : {true, false}) {
    auto i = sagas.find(saga_key(id, cancellation));
    if (i == sagas.end())
      continue;
    auto& s = i->second;
    if (s.final_record)
      break; // the store has the outcome, or something newer
    s.awaiters.push_back(std::move(rp));
    return;
  }
  rp.delegate(shard_for(self->state.peers.bookings, id), caf::get_atom::value,
              id);
}

void log_repeated(const booking_request& req) {
  log_line(log_level::info, "booking requested again",
           {{"booking_id", req.id}, {"correlation_id", req.correlation_id}});
}

// -- behavior -----------------------------------------------------------------

saga_coordinator_actor::behavior_type
coordinator_impl(coordinator_pointer self, saga_participants peers,
                 coordinator_options opts) {
  self->state.peers = std::move(peers);
  self->state.dice = fault_dice{opts.seed};
  auto recovered = std::move(opts.recovered);
  opts.recovered.clear();
  self->state.opts = std::move(opts);
  for (auto& cp : recovered)
    resume(self, cp);
  return {
    [=](create_atom, booking_request& req) -> caf::result<booking_record> {
      auto& st = self->state;
      if (req.seats < 1)
        return make_error(booking_errc::invalid_request, "seats");
      if (req.id.empty())
        return make_error(booking_errc::invalid_request, "id");
      // A create may come again with the same id (a client's retry, a
      // redelivered message): it gets the booking the first one made and
      // starts nothing. Checked before the in-flight limit, so a retry of an
      // accepted booking is never refused as overloaded.
      if (auto i = st.starting_bookings.find(req.id);
          i != st.starting_bookings.end()) {
        log_repeated(req);
        auto rp = self->make_response_promise<booking_record>();
        i->second.creates.push_back(rp);
        return rp;
      }
      auto shard = shard_for(st.peers.bookings, req.id);
      if (st.sagas.count(saga_key(req.id, false)) > 0
          || st.sagas.count(saga_key(req.id, true)) > 0) {
        log_repeated(req);
        return self->delegate(shard, caf::get_atom::value, req.id);
      }
      if (at_capacity(self)) {
        // The booking may be stored already, its saga long over.
        auto rp = self->make_response_promise<booking_record>();
        self
          ->request(shard, st.opts.lookup_timeout, caf::get_atom::value, req.id)
          .then(
            [=](booking_record& rec) mutable { rp.deliver(std::move(rec)); },
            [=](caf::error&) mutable {
              rp.deliver(make_error(booking_errc::overloaded));
            });
        return rp;
      }
      ++st.starting;
      log_line(log_level::info, "booking requested",
               {{"booking_id", req.id},
                {"correlation_id", req.correlation_id}});
      auto rp = self->make_response_promise<booking_record>();
      st.starting_bookings[req.id].creates.push_back(rp);
      auto fail_start = [=](caf::error& e) {
        auto waiting = take_start(self, req.id);
        deliver_all(waiting.creates, e);
        deliver_all(waiting.awaiters, e);
      };
      auto timeout = st.opts.lookup_timeout;
      self
        ->request(st.peers.availability, timeout, quote_atom::value,
                  req.tour_id, req.date, req.seats)
        .then(
          [=](quote& q) mutable {
            booking_record rec;
            rec.id = req.id;
            rec.tour_id = req.tour_id;
            rec.date = req.date;
            rec.seats = req.seats;
            rec.amount_cents = q.amount_cents;
            rec.currency = q.currency;
            rec.cust = req.cust;
            rec.correlation_id = req.correlation_id;
            rec.created_at = rec.updated_at = caf::make_timestamp();
            // In durable mode the booking, its saga's first checkpoint and
            // its start event are written in one transaction.
            auto durable = self->state.opts.durable;
            booking_update first;
            if (durable) {
              saga_instance s;
              s.req = req;
              s.amount_cents = q.amount_cents;
              s.currency = q.currency;
              emit(self, s, self->state.opts.booking.event_on_start);
              first.id = req.id;
              attach_durable(self, s, first);
            }
            auto on_stored = [=](booking_record& stored) mutable {
              auto waiting = take_start(self, req.id);
              saga_instance s;
              s.awaiters = std::move(waiting.awaiters);
              s.req = std::move(req);
              s.amount_cents = stored.amount_cents;
              s.currency = stored.currency;
              start(self, std::move(s), false, durable);
              deliver_all(waiting.creates, stored);
            };
            // No timeout on the write: giving up on it while the shard still
            // stores the booking would leave a pending booking without saga.
            auto pending
              = durable
                  ? self->request(shard, caf::infinite, create_atom::value,
                                  std::move(rec), std::move(first))
                  : self->request(shard, caf::infinite, create_atom::value,
                                  std::move(rec));
            pending.then(on_stored, [=](caf::error& e) {
              if (!is(e, booking_errc::duplicate)) {
                fail_start(e);
                return;
              }
              // Stored before, by a create whose saga is over: answer
              // with the booking as it is now.
              log_repeated(req);
              self->request(shard, timeout, caf::get_atom::value, req.id)
                .then(
                  [=](booking_record& current) {
                    auto waiting = take_start(self, req.id);
                    deliver_all(waiting.creates, current);
                    for (auto& waiter : waiting.awaiters)
                      await_outcome(self, req.id, std::move(waiter));
                  },
                  fail_start);
            });
          },
          fail_start);
      return rp;
    },
    [=](await_atom, const std::string& id) -> caf::result<booking_record> {
      auto rp = self->make_response_promise<booking_record>();
      if (auto i = self->state.starting_bookings.find(id);
          i != self->state.starting_bookings.end())
        i->second.awaiters.push_back(rp);
      else
        await_outcome(self, id, rp);
      return rp;
    },
    [=](cancel_atom, const std::string& id,
        const std::string& correlation_id) -> caf::result<booking_record> {
      auto& st = self->state;
      auto shard = shard_for(st.peers.bookings, id);
      if (st.sagas.count(saga_key(id, true)) > 0)
        return self->delegate(shard, caf::get_atom::value, id);
      if (auto i = st.sagas.find(saga_key(id, false));
          i != st.sagas.end() && i->second.outcome == booking_status::pending)
        return make_error(booking_errc::wrong_status, "pending");
      if (at_capacity(self))
        return make_error(booking_errc::overloaded);
      ++st.starting;
      auto rp = self->make_response_promise<booking_record>();
      auto fail_start = [=](caf::error& e) mutable {
        --self->state.starting;
        rp.deliver(std::move(e));
      };
      self->request(shard, st.opts.lookup_timeout, caf::get_atom::value, id)
        .then(
          [=](booking_record& rec) mutable {
            auto& st = self->state;
            auto key = saga_key(id, true);
            if (st.sagas.count(key) > 0) {
              // Another cancel won the race; read again, so the answer shows
              // its `cancelling` (messages to one shard stay in order).
              --st.starting;
              rp.delegate(shard, caf::get_atom::value, id);
              return;
            }
            if (rec.status == booking_status::cancelled
                || rec.status == booking_status::cancelling) {
              --st.starting;
              rp.deliver(std::move(rec));
              return;
            }
            if (rec.status != booking_status::confirmed) {
              --st.starting;
              rp.deliver(
                make_error(booking_errc::wrong_status, to_string(rec.status)));
              return;
            }
            saga_instance s;
            s.cancellation = true;
            s.req.id = rec.id;
            s.req.tour_id = rec.tour_id;
            s.req.date = rec.date;
            s.req.seats = rec.seats;
            s.req.cust = rec.cust;
            s.req.correlation_id = correlation_id;
            s.amount_cents = rec.amount_cents;
            s.currency = rec.currency;
            --st.starting;
            // Registered before the status change, so a second cancel sees
            // it at once; the first row runs once `cancelling` is stored.
            auto& inst = start(self, std::move(s), true);
            log_line(log_level::info, "booking cancelling",
                     {{"booking_id", id}, {"correlation_id", correlation_id}});
            booking_update upd;
            upd.id = id;
            upd.has_status = true;
            upd.status = booking_status::cancelling;
            // The saga's first checkpoint goes with the status change.
            attach_durable(self, inst, upd);
            self->request(shard, caf::infinite, update_atom::value, upd)
              .then(
                [=](booking_record& updated) mutable {
                  rp.deliver(std::move(updated));
                  issue(self, key);
                },
                [=](caf::error& e) mutable {
                  auto& st = self->state;
                  if (auto i = st.sagas.find(key); i != st.sagas.end()) {
                    for (auto& waiter : i->second.awaiters)
                      waiter.deliver(e);
                    st.sagas.erase(i);
                  }
                  --st.stats.started;
                  --st.stats.in_flight;
                  rp.deliver(std::move(e));
                });
          },
          fail_start);
      return rp;
    },
    [=](caf::get_atom) {
      auto stats = self->state.stats;
      stats.starting = static_cast<int64_t>(self->state.starting);
      return stats;
    },
    [=](timer_atom, const std::string& key, uint64_t epoch) {
      auto i = self->state.sagas.find(key);
      if (i != self->state.sagas.end() && i->second.epoch == epoch)
        issue(self, key);
    },
  };
}

} // namespace

saga_coordinator_actor spawn_saga_coordinator(caf::actor_system& sys,
                                              saga_participants peers,
                                              coordinator_options opts) {
  return sys.spawn(coordinator_impl, std::move(peers), std::move(opts));
}

} // namespace booking
