// Recording a saga instance: history entries, outcomes and checkpoints
// (written with each step in durable mode), and resuming an instance from
// its checkpoint after a restart.

#include "actors/saga/coordinator_state.hpp"

namespace booking::detail {

void serve_awaiters(saga_instance& s, const booking_record& rec) {
  for (auto& rp : s.awaiters)
    rp.deliver(rec);
  s.awaiters.clear();
}

/// Where `s` stands, for the store.
saga_checkpoint checkpoint(coordinator_pointer self, const saga_instance& s,
                           bool done) {
  saga_checkpoint cp;
  cp.key = saga_key(s.req.id, s.cancellation);
  cp.done = done;
  if (done)
    return cp;
  auto& rows = s.table->steps;
  cp.cancellation = s.cancellation;
  cp.req = s.req;
  cp.amount_cents = s.amount_cents;
  cp.currency = s.currency;
  cp.version = s.table->version;
  cp.phase = static_cast<uint8_t>(s.phase);
  if (s.row < rows.size())
    cp.step = to_string(rows[s.row].step);
  cp.attempt = s.attempt;
  cp.to_compensate.reserve(s.to_compensate.size());
  for (auto i : s.to_compensate)
    cp.to_compensate.push_back(to_string(rows[i].step));
  cp.compensation_failed = s.compensation_failed;
  cp.reason = s.reason;
  cp.outcome = s.outcome;
  cp.retry_at = s.retry_at;
  auto& st = self->state;
  if (!st.gave_up.empty() || !st.redriving.empty()) {
    if (auto i = st.gave_up.find(cp.key); i != st.gave_up.end())
      cp.gave_up = i->second;
    cp.redrive = st.redriving.count(cp.key) > 0;
  }
  return cp;
}

/// In durable mode, adds the saga's checkpoint and pending events to `upd`,
/// so the store writes them with the change in one transaction.
void attach_durable(coordinator_pointer self, saga_instance& s,
                    booking_update& upd, bool done) {
  if (!self->state.opts.durable)
    return;
  upd.checkpoint = checkpoint(self, s, done);
  if (s.outbox) {
    upd.events = std::move(*s.outbox);
    s.outbox.reset();
  }
}

void attach_checkpoint(coordinator_pointer self, saga_instance& s,
                       booking_update& upd) {
  if (self->state.opts.durable)
    attach_durable(self, s, upd);
  else
    upd.checkpoint = checkpoint(self, s);
}

/// Records one history entry, and the outcome status if `status` is set.
/// `next` continues the saga once the write is committed in durable mode
/// (so nothing follows from a step a crash could still undo: no
/// notification for an unstored outcome, no compensation the checkpoint
/// does not know of yet), else at once.
void record(coordinator_pointer self, saga_instance& s,
            caf::optional<saga_entry> entry,
            caf::optional<booking_status> status, saga_continuation next) {
  auto durable = self->state.opts.durable;
  if (!entry && !status && !durable) {
    if (next)
      next(s);
    return; // nothing to write
  }
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
  if (!status && !(durable && next)) {
    // Nobody waits on this write; order with the status changes is kept
    // because messages from one actor to another stay in order.
    self->send(shard, record_atom::value, std::move(upd));
    if (next)
      next(s);
    return;
  }
  auto is_outcome = status && is_terminal(*status);
  auto key = saga_key(s.req.id, s.cancellation);
  auto waits = durable && next;
  self->request(shard, caf::infinite, update_atom::value, std::move(upd))
    .then(
      [=](booking_record& rec) {
        auto found = self->state.sagas.find(saga_ref_from(key));
        if (found == nullptr)
          return;
        auto& inst = *found;
        if (is_outcome) {
          serve_awaiters(inst, rec);
          inst.outcome_stored = true;
        }
        if (waits)
          next(inst); // may end the saga: `inst` is gone then
        else if (is_outcome && inst.phase == saga_phase::done)
          finish(self, key);
      },
      [=](caf::error& e) {
        auto found = self->state.sagas.find(saga_ref_from(key));
        log_line(log_level::error, "booking update failed",
                 {{"booking_id", std::string{saga_ref_from(key).booking_id}},
                  {"saga", key},
                  found ? log_trace(found->req.trace) : log_field{nullptr, {}},
                  {"error", describe(e)}});
        if (found == nullptr)
          return;
        auto& inst = *found;
        if (is_outcome || waits) {
          // Nobody may wait forever for a saga that cannot go on.
          for (auto& rp : inst.awaiters)
            rp.deliver(e);
          inst.awaiters.clear();
        }
        if (is_outcome)
          inst.outcome_stored = true;
        if (waits) {
          // The store failed (it stops for good then): the write is not
          // durable, so nothing may follow from it. The saga stops here; a
          // restart resumes it from its last checkpoint.
          log_line(log_level::warn,
                   "saga stopped: its checkpoint is not stored",
                   {{"booking_id", inst.req.id}, log_trace(inst.req.trace)});
          forget_saga(self, saga_ref_from(key));
          drop_in_flight(self);
        } else if (is_outcome && inst.phase == saga_phase::done) {
          finish(self, key);
        }
      });
  if (!waits && next)
    next(s);
}

saga_entry make_entry(coordinator_pointer self, const saga_instance& s,
                      saga_step step, const attempt_result& r) {
  saga_entry e;
  e.step = step;
  e.action = current_action(s);
  e.outcome = r.outcome;
  e.attempt = s.attempt + attempts_before(self, s);
  e.at = caf::make_timestamp();
  e.error = r.outcome == step_outcome::ok ? std::string{} : r.error;
  return e;
}

namespace {

/// The entry of the current row of `s` among the steps that gave up, or
/// null.
gave_up_step* gave_up_entry(coordinator_pointer self, const saga_instance& s,
                            std::vector<gave_up_step>** list = nullptr) {
  auto& st = self->state;
  if (st.gave_up.empty())
    return nullptr;
  auto i = st.gave_up.find(saga_key(s.req.id, s.cancellation));
  if (i == st.gave_up.end())
    return nullptr;
  if (list)
    *list = &i->second;
  auto name = to_string(current_row(self, s).step);
  for (auto& g : i->second)
    if (g.step == name)
      return &g;
  return nullptr;
}

} // namespace

int32_t attempts_before(coordinator_pointer self, const saga_instance& s) {
  if (!is_redriving(self, s))
    return 0;
  auto g = gave_up_entry(self, s);
  return g != nullptr ? g->attempts : 0;
}

void note_gave_up(coordinator_pointer self, const saga_instance& s) {
  auto attempts = s.attempt + attempts_before(self, s);
  if (auto g = gave_up_entry(self, s)) {
    g->attempts = attempts;
    return;
  }
  auto& list = self->state.gave_up[saga_key(s.req.id, s.cancellation)];
  list.push_back({to_string(current_row(self, s).step), attempts});
  // In table order, whichever order they gave up in.
  auto& rows = s.table->steps;
  auto row_of = [&](const gave_up_step& g) {
    for (size_t i = 0; i < rows.size(); ++i)
      if (to_string(rows[i].step) == g.step)
        return i;
    return rows.size();
  };
  std::stable_sort(list.begin(), list.end(),
                   [&](const gave_up_step& x, const gave_up_step& y) {
                     return row_of(x) < row_of(y);
                   });
}

void note_recovered(coordinator_pointer self, const saga_instance& s) {
  std::vector<gave_up_step>* list = nullptr;
  auto g = gave_up_entry(self, s, &list);
  if (g == nullptr)
    return;
  list->erase(list->begin() + (g - list->data()));
}

/// Counts the outcome `s` just reached and how long it took to get there.
void count_outcome(coordinator_pointer self, const saga_instance& s) {
  auto& st = self->state.stats;
  auto reason = s.reason.empty() ? std::string{"none"} : s.reason;
  ++st.completed_by[to_string(s.outcome) + "/" + reason];
  if (is_redriving(self, s))
    ++st.redrives_by[to_string(s.outcome)];
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
            log_trace(s.req.trace),
            {"reason", s.reason}});
  // The event first, so it is written with the outcome.
  emit_outcome(self, s);
  record(self, s, std::move(entry), status, std::move(next));
}

/// Picks up a saga an earlier run of the engine left unfinished, where its
/// last checkpoint says it stood: the step in progress runs again (every
/// command and compensation is idempotent per booking), a pending retry
/// waits out the rest of its backoff, and an outcome stands.
void resume(coordinator_pointer self, const saga_checkpoint& cp) {
  if (self->state.sagas.contains(saga_ref_from(cp.key)))
    return; // resumed already
  if (cp.parked())
    return; // waits for an operator's re-drive
  std::string why;
  auto pos = locate(self->state.opts.tables, cp, why);
  if (!pos) {
    // Never on another table: the saga waits, as stored, for a release
    // that has its version.
    log_line(log_level::error, "saga suspended",
             {{"booking_id", cp.req.id},
              log_trace(cp.req.trace),
              {"saga", cp.key},
              {"why", why}});
    return;
  }
  saga_instance s;
  s.table = pos->table;
  s.cancellation = cp.cancellation;
  s.req = cp.req;
  s.amount_cents = cp.amount_cents;
  s.currency = cp.currency;
  s.phase = static_cast<saga_phase>(cp.phase);
  s.row = pos->row;
  s.attempt = std::max(1, cp.attempt);
  s.to_compensate = std::move(pos->to_compensate);
  s.compensation_failed = cp.compensation_failed;
  s.reason = cp.reason;
  s.outcome = cp.outcome;
  if (s.outcome != booking_status::pending) {
    // The outcome is stored: awaiters read it from the booking.
    s.outcome_stored = true;
  }
  auto key = cp.key;
  if (!cp.gave_up.empty())
    self->state.gave_up[key] = cp.gave_up;
  if (cp.redrive)
    self->state.redriving.insert(key);
  // A saga already accepted is never refused: it takes its place whatever
  // the limit.
  self->state.opts.gate->enter();
  log_line(log_level::info, "saga resumed",
           {{"booking_id", s.req.id},
            {"correlation_id", s.req.correlation_id},
            log_trace(s.req.trace),
            {"phase", std::to_string(cp.phase)},
            {"step", cp.step.empty() ? std::string{"end"} : cp.step},
            {"version", version_text(cp.version)}});
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
    inst.epoch = ++self->state.last_epoch;
    self->delayed_send(self, cp.retry_at - now, timer_atom::value, key,
                       inst.epoch);
    return;
  }
  issue(self, key);
}

} // namespace booking::detail

namespace booking {

std::optional<saga_position>
locate(const saga_tables& tables, const saga_checkpoint& cp, std::string& why) {
  auto saga = cp.cancellation ? "cancellation" : "booking";
  auto* def = tables.find(cp.cancellation, cp.version);
  if (def == nullptr) {
    why = std::string{"this release has no version "} + version_text(cp.version)
          + " of the " + saga + " saga";
    return std::nullopt;
  }
  auto row_of = [&](const std::string& name, size_t& row) {
    for (size_t i = 0; i < def->steps.size(); ++i)
      if (to_string(def->steps[i].step) == name) {
        row = i;
        return true;
      }
    why = "the " + std::string{saga} + " saga's version "
          + version_text(cp.version) + " has no step '" + name + "'";
    return false;
  };
  if (cp.phase > static_cast<uint8_t>(detail::saga_phase::done)) {
    why = "unknown phase " + std::to_string(cp.phase);
    return std::nullopt;
  }
  saga_position pos;
  pos.table = def;
  pos.row = def->steps.size();
  if (!cp.step.empty() && !row_of(cp.step, pos.row))
    return std::nullopt;
  for (auto& name : cp.to_compensate) {
    size_t row = 0;
    if (!row_of(name, row))
      return std::nullopt;
    if (def->steps[row].compensation == saga_command::none) {
      why = "step '" + name + "' has nothing to compensate";
      return std::nullopt;
    }
    pos.to_compensate.push_back(static_cast<uint8_t>(row));
  }
  return pos;
}

std::vector<suspended_saga>
find_suspended(const saga_tables& tables,
               const std::vector<saga_checkpoint>& recovered) {
  std::vector<suspended_saga> result;
  std::string why;
  for (auto& cp : recovered)
    if (!locate(tables, cp, why))
      result.push_back({cp.key, why});
  return result;
}

} // namespace booking
