// Moving a saga instance through its table: calls to the participants,
// retries with backoff, queries of uncertain outcomes, compensations and
// the final rows.

#include "actors/saga/coordinator_state.hpp"

#include <mutex>

namespace booking::detail {

const std::string reason_text::none_;

reason_text& reason_text::operator=(const std::string& x) {
  if (x.empty()) {
    text_ = &none_;
    return *this;
  }
  static std::mutex mtx;
  static std::unordered_set<std::string> texts;
  std::lock_guard<std::mutex> guard{mtx};
  text_ = &*texts.insert(x).first;
  return *this;
}

std::string saga_key(const std::string& booking_id, bool cancellation) {
  return cancellation ? booking_id + std::string{cancel_suffix} : booking_id;
}

bool is_redriving(coordinator_pointer self, const saga_instance& s) {
  auto& redriving = self->state.redriving;
  return !redriving.empty()
         && redriving.count(saga_key(s.req.id, s.cancellation)) > 0;
}

bool skip_repeated(coordinator_pointer self, const saga_instance& s,
                   const attempt_result& r) {
  return r.repeated && is_redriving(self, s);
}

void forget_saga(coordinator_pointer self, saga_ref ref) {
  auto& st = self->state;
  if (auto s = st.sagas.find(ref)) {
    if (auto i = st.calls.find(s->epoch); i != st.calls.end() && i->second == s)
      st.calls.erase(i);
    if (!st.gave_up.empty() || !st.redriving.empty()) {
      auto key = saga_key(s->req.id, s->cancellation);
      st.gave_up.erase(key);
      st.redriving.erase(key);
    }
    st.sagas.erase(ref);
  }
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

const saga_definition& definition(coordinator_pointer, const saga_instance& s) {
  return *s.table;
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

template <class T>
auto on_reply(const result_handler& done) {
  return [done](T&) { done(attempt_result{}); };
}

auto on_error(const result_handler& done) {
  return [done](caf::error& e) { done(classify(e)); };
}

// Every call goes out untimed: its deadline is the coordinator's (see
// `arm_deadline`).
void dispatch(coordinator_pointer self, const saga_instance& s,
              saga_command cmd, const result_handler& done) {
  auto& peers = self->state.peers;
  auto& id = s.req.id;
  switch (cmd) {
    case saga_command::none:
      done(attempt_result{});
      return;
    case saga_command::reserve_seats: {
      seat_hold h{id, s.req.tour_id, s.req.date, s.req.seats, false};
      self
        ->request(shard_for(peers.inventory, s.req.tour_id), caf::infinite,
                  reserve_atom::value, std::move(h))
        .then(on_reply<departure_counts>(done), on_error(done));
      return;
    }
    case saga_command::release_seats:
      self
        ->request(shard_for(peers.inventory, s.req.tour_id), caf::infinite,
                  release_atom::value, id)
        .then(on_reply<bool>(done), on_error(done));
      return;
    case saga_command::authorize_payment: {
      payment_request req{id, s.amount_cents, s.currency, s.req.payment_token};
      self
        ->request(peers.payment, caf::infinite, authorize_atom::value,
                  std::move(req))
        .then(on_reply<payment_intent>(done), on_error(done));
      return;
    }
    case saga_command::void_payment:
      self->request(peers.payment, caf::infinite, void_atom::value, id)
        .then(on_reply<payment_intent>(done), on_error(done));
      return;
    case saga_command::query_payment:
      self->request(peers.payment, caf::infinite, status_atom::value, id)
        .then(on_reply<payment_intent>(done), on_error(done));
      return;
    case saga_command::refund_payment:
      self->request(peers.payment, caf::infinite, refund_atom::value, id)
        .then(on_reply<payment_intent>(done), on_error(done));
      return;
    case saga_command::capture_and_commit: {
      auto inventory = shard_for(peers.inventory, s.req.tour_id);
      auto key = saga_key(id, s.cancellation);
      auto epoch = s.epoch;
      self->request(peers.payment, caf::infinite, capture_atom::value, id)
        .then(
          [=](payment_intent&) {
            // A capture answered after its deadline commits nothing: the
            // saga has moved on (a retry, or compensation).
            if (!attempt_of(self, key, epoch))
              return;
            self->request(inventory, caf::infinite, commit_atom::value, id)
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
      req.trace = s.req.trace;
      self
        ->request(peers.notification, caf::infinite, send_atom::value,
                  std::move(req))
        .then(
          [done](bool now) {
            attempt_result r;
            r.repeated = !now;
            done(std::move(r));
          },
          on_error(done));
      return;
    }
  }
}

/// Removes a finished instance once its outcome is stored.
void finish(coordinator_pointer self, const std::string& key) {
  auto ref = saga_ref_from(key);
  auto s = self->state.sagas.find(ref);
  if (s == nullptr)
    return;
  if (s->outcome != booking_status::pending && !s->outcome_stored)
    return; // the outcome's reply will call us again
  forget_saga(self, ref);
}

void complete(coordinator_pointer self, const std::string& key,
              saga_instance& s) {
  s.phase = saga_phase::done;
  auto& peers = self->state.peers;
  // A saga that ended in compensation_failed is parked: its checkpoint
  // stays, with the steps that gave up, for a re-drive (in memory too).
  // Any other saga's row goes, with any event still pending.
  auto parked = s.outcome == booking_status::compensation_failed;
  if (parked || self->state.opts.durable) {
    booking_update upd;
    upd.id = s.req.id;
    if (parked)
      attach_checkpoint(self, s, upd);
    else
      attach_durable(self, s, upd, true);
    self->send(shard_for(peers.bookings, s.req.id), record_atom::value,
               std::move(upd));
  }
  if (self->state.opts.durable) {
    // The participants may forget the booking: the store keeps what they
    // wrote of it (every call of the saga has been answered, so each
    // wrote before this goes out) and gives it back if it is worked on
    // again.
    self->send(shard_for(peers.inventory, s.req.tour_id), forget_atom::value,
               s.req.id);
    self->send(peers.payment, forget_atom::value, s.req.id);
    self->send(peers.notification, forget_atom::value, s.req.id);
  }
  ++self->state.stats.completed;
  drop_in_flight(self);
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
  log_line(
    log_level::debug, "saga compensating",
    {{"booking_id", s.req.id}, log_trace(s.req.trace), {"reason", s.reason}});
  emit(self, s, definition(self, s).event_on_compensating);
  // Checkpointed as compensating, with the event, in one write, and in
  // durable mode committed before the first compensation goes out. The
  // participant stores what the compensation did on its own path to the
  // store; were it to commit first and the process to die, a resume from
  // the older checkpoint would run the step again into its own undo (an
  // authorization into a void).
  record(self, s, std::move(entry), caf::none,
         [=](saga_instance&) { issue(self, key); });
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
  auto found = self->state.sagas.find(saga_ref_from(key));
  if (found == nullptr) {
    // Every caller holds the saga; never dereference a missing one.
    log_line(log_level::error, "no saga to issue a call for",
             {{"booking_id", std::string{saga_ref_from(key).booking_id}}});
    return;
  }
  auto& s = *found;
  auto& st = self->state;
  st.calls.erase(s.epoch);
  s.epoch = ++st.last_epoch;
  st.calls.emplace(s.epoch, &s);
  arm_deadline(self, s, current_row(self, s).timeout);
  dispatch(self, s, current_command(self, s), result_handler{self, s.epoch});
}

void result_handler::operator()(attempt_result r) const {
  auto& calls = self->state.calls;
  auto i = calls.find(epoch);
  if (i == calls.end())
    return; // answered, timed out, or its saga is gone
  auto& s = *i->second;
  on_result(self, saga_key(s.req.id, s.cancellation), epoch, std::move(r));
}

saga_instance* attempt_of(coordinator_pointer self, const std::string& key,
                          uint64_t epoch) {
  auto s = self->state.sagas.find(saga_ref_from(key));
  if (s == nullptr || s->epoch != epoch)
    return nullptr;
  return s;
}

namespace {

void schedule_tick(coordinator_pointer self, caf::actor_clock::time_point at) {
  auto& st = self->state;
  st.tick_at = at;
  auto delay = std::max(caf::timespan{0}, at - self->clock().now());
  self->delayed_send(self, delay, deadline_atom::value, ++st.tick_generation);
}

} // namespace

void arm_deadline(coordinator_pointer self, saga_instance& s,
                  caf::timespan timeout) {
  s.deadline.unlink();
  auto& st = self->state;
  // Calls of one timeout are due in the order they go out, so the new one
  // goes last in its list and only a list's first call can be due.
  s.due = self->clock().now() + timeout;
  st.deadlines[timeout].push_back(s);
  if (!st.tick_at || s.due < *st.tick_at)
    schedule_tick(self, s.due);
}

void expire_deadlines(coordinator_pointer self) {
  auto& st = self->state;
  st.tick_at.reset();
  auto now = self->clock().now();
  std::vector<std::pair<std::string, uint64_t>> expired;
  for (auto& [timeout, calls] : st.deadlines) {
    while (!calls.empty() && calls.front().due <= now) {
      auto& s = calls.front();
      calls.pop_front();
      expired.emplace_back(saga_key(s.req.id, s.cancellation), s.epoch);
    }
  }
  for (auto& [key, epoch] : expired)
    on_result(self, key, epoch, classify(caf::sec::request_timeout));
  // Running the timed out sagas on may have issued calls, and scheduled a
  // tick for them; the tick must come at the earliest deadline.
  for (auto& [timeout, calls] : st.deadlines)
    if (!calls.empty() && (!st.tick_at || calls.front().due < *st.tick_at))
      schedule_tick(self, calls.front().due);
}

void on_forward_result(coordinator_pointer self, const std::string& key,
                       saga_instance& s, attempt_result r) {
  auto& def = definition(self, s);
  auto& row = def.steps[s.row];
  auto entry = make_entry(self, s, row.step, r);
  auto past_pivot = s.outcome != booking_status::pending;
  if (r.outcome == step_outcome::ok) {
    note_recovered(self, s);
    if (row.compensation != saga_command::none)
      s.to_compensate.push_back(static_cast<uint8_t>(s.row));
    // Before the status change, so the event carries the status before it
    // (payment.captured is `pending`, booking.confirmed `confirmed`).
    if (!skip_repeated(self, s, r))
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
             {{"booking_id", s.req.id},
              log_trace(s.req.trace),
              {"step", to_string(row.step)}});
    run_final_rows(self, key, s, s.row + 1);
    return;
  }
  // The call may have taken effect: undo it too (compensations are
  // idempotent, so undoing what never happened is harmless).
  if (uncertain && row.compensation != saga_command::none)
    s.to_compensate.push_back(static_cast<uint8_t>(s.row));
  // In a table where nothing is undone (a cancellation), the step that
  // gave up is what an operator re-drives.
  if (def.failure_status == booking_status::compensation_failed)
    note_gave_up(self, s);
  fail(self, key, s, reason, std::move(entry));
}

void on_query_result(coordinator_pointer self, const std::string& key,
                     saga_instance& s, attempt_result r) {
  auto& row = current_row(self, s);
  auto entry = make_entry(self, s, row.step, r);
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
  if (definition(self, s).failure_status == booking_status::compensation_failed)
    note_gave_up(self, s);
  fail(self, key, s, "timeout", std::move(entry));
}

void on_compensation_result(coordinator_pointer self, const std::string& key,
                            saga_instance& s, attempt_result r) {
  auto& row = current_row(self, s);
  auto entry = make_entry(self, s, row.step, r);
  if (r.outcome != step_outcome::ok
      && s.attempt < row.compensation_retry.max_attempts) {
    retry_later(self, key, s, std::move(entry));
    return;
  }
  if (r.outcome == step_outcome::ok) {
    note_recovered(self, s);
    // Counted once per step undone, when it succeeds: not per attempt.
    auto& st = self->state.stats;
    ++st.compensations;
    ++st.compensations_by_step[to_string(row.step)];
    emit(self, s, row.event_on_compensation);
  } else {
    // Out of retries: leave this one for an operator, but still undo the
    // other steps, so as little as possible stays taken.
    s.compensation_failed = true;
    note_gave_up(self, s);
    log_line(log_level::error, "compensation failed",
             {{"booking_id", s.req.id},
              {"correlation_id", s.req.correlation_id},
              log_trace(s.req.trace),
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
  auto entry = make_entry(self, s, row.step, r);
  if (r.outcome != step_outcome::ok && s.attempt < row.retry.max_attempts) {
    retry_later(self, key, s, std::move(entry));
    return;
  }
  record(self, s, std::move(entry), caf::none);
  if (r.outcome == step_outcome::ok && !skip_repeated(self, s, r))
    emit_success(self, s, row);
  else
    log_line(log_level::warn, "final saga step gave up",
             {{"booking_id", s.req.id},
              log_trace(s.req.trace),
              {"step", to_string(row.step)}});
  run_final_rows(self, key, s, s.row + 1);
}

void on_result(coordinator_pointer self, const std::string& key, uint64_t epoch,
               attempt_result r) {
  auto found = attempt_of(self, key, epoch);
  if (!found || found->phase == saga_phase::done)
    return; // an abandoned attempt: its saga has moved on
  auto& s = *found;
  // The attempt is answered (or timed out): whatever else comes for it is
  // late.
  s.deadline.unlink();
  auto& st = self->state;
  st.calls.erase(s.epoch);
  s.epoch = ++st.last_epoch;
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
saga_instance& start(coordinator_pointer self, saga_instance s, bool defer,
                     bool announced) {
  auto key = saga_key(s.req.id, s.cancellation);
  s.started = self->clock().now();
  auto& st = self->state;
  ++st.stats.started;
  ++st.stats.in_flight;
  ++st.started_on[s.table];
  auto& inst = *st.sagas.insert(std::move(s)).first;
  if (!announced)
    emit(self, inst, definition(self, inst).event_on_start);
  if (!defer)
    issue(self, key);
  return inst;
}

caf::error take_place(coordinator_pointer self) {
  if (auto cause = self->state.opts.gate->try_enter())
    return make_error(booking_errc::overloaded, to_string(*cause));
  return caf::none;
}

void give_place(coordinator_pointer self) {
  self->state.opts.gate->leave();
}

void drop_start(coordinator_pointer self) {
  --self->state.starting;
  give_place(self);
}

void drop_in_flight(coordinator_pointer self) {
  --self->state.stats.in_flight;
  give_place(self);
}

} // namespace booking::detail
