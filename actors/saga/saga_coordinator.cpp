#include "actors/saga/saga_coordinator.hpp"

#include "actors/saga/coordinator_state.hpp"

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

using namespace detail;

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
    auto found = sagas.find(make_saga_ref(id, cancellation));
    if (found == nullptr)
      continue;
    auto& s = *found;
    if (s.outcome_stored)
      break; // the store has the outcome, or something newer
    s.awaiters.push_back(std::move(rp));
    return;
  }
  rp.delegate(shard_for(self->state.peers.bookings, id), caf::get_atom::value,
              id);
}

/// Tells the participants that booking `req` is new, so they need not read
/// back what the store holds of it (nothing): its saga's calls all reach
/// them before the `forget` that ends it.
void announce_fresh(coordinator_pointer self, const booking_request& req) {
  auto& peers = self->state.peers;
  self->send(shard_for(peers.inventory, req.tour_id), fresh_atom::value,
             req.id);
  self->send(peers.payment, fresh_atom::value, req.id);
  self->send(peers.notification, fresh_atom::value, req.id);
}

void log_repeated(const booking_request& req) {
  log_line(log_level::info, "booking requested again",
           {{"booking_id", req.id},
            {"correlation_id", req.correlation_id},
            log_trace(req.trace)});
}

// -- re-driving ---------------------------------------------------------------

/// Starts re-driving `cp`, the parked saga of a compensation_failed
/// booking, with a place taken for it: its booking goes back to the status
/// its saga runs under, with the re-drive's first checkpoint, and once that
/// is stored `rp` (if valid) gets the booking and the first step goes out.
void start_redrive(coordinator_pointer self, saga_checkpoint cp,
                   const std::string& correlation_id, trace_context trace,
                   booking_promise rp) {
  auto& st = self->state;
  auto refuse = [&](std::string why) {
    give_place(self);
    log_line(log_level::warn, "re-drive refused",
             {{"booking_id", cp.req.id}, log_trace(trace), {"why", why}});
    if (rp.pending())
      rp.deliver(
        make_error(booking_errc::wrong_status, "compensation_failed: " + why));
  };
  std::string why;
  auto pos = locate(st.opts.tables, cp, why);
  if (!pos)
    return refuse(why);
  if (cp.gave_up.empty())
    return refuse("no step is recorded as having given up");
  auto& rows = pos->table->steps;
  std::vector<uint8_t> gave_up;
  for (auto& g : cp.gave_up) {
    auto row = find_step_named(*pos->table, g.step);
    if (row == rows.size())
      return refuse("step '" + g.step + "' is not in the saga's table");
    gave_up.push_back(static_cast<uint8_t>(row));
  }
  std::sort(gave_up.begin(), gave_up.end());
  saga_instance s;
  s.table = pos->table;
  s.cancellation = cp.cancellation;
  s.req = std::move(cp.req);
  if (!correlation_id.empty())
    s.req.correlation_id = correlation_id;
  s.req.trace = trace;
  s.amount_cents = cp.amount_cents;
  s.currency = std::move(cp.currency);
  // A booking saga fails again with its reason; a cancellation has none
  // until it gives up again.
  if (!cp.cancellation)
    s.reason = std::move(cp.reason);
  // The outcome reached the intake's reply queue when it was parked: a
  // re-drive sends no second reply.
  s.req.reply_to.clear();
  if (s.cancellation) {
    // The step that gave up runs again, and the saga goes on from it.
    s.phase = saga_phase::forward;
    s.row = gave_up.front();
  } else {
    // The compensations that gave up, the last row first.
    s.phase = saga_phase::compensating;
    s.to_compensate = std::move(gave_up);
  }
  auto key = saga_key(s.req.id, s.cancellation);
  st.gave_up[key] = std::move(cp.gave_up);
  st.redriving.insert(key);
  auto id = s.req.id;
  auto& inst = start(self, std::move(s), true, true);
  auto& def = definition(self, inst);
  log_line(log_level::info, "saga re-driven",
           {{"booking_id", id},
            {"correlation_id", inst.req.correlation_id},
            log_trace(inst.req.trace),
            {"saga", def.name}});
  if (!inst.cancellation)
    emit(self, inst, def.event_on_compensating);
  booking_update upd;
  upd.id = id;
  upd.has_status = true;
  upd.status = def.running_status;
  attach_checkpoint(self, inst, upd);
  auto shard = shard_for(st.peers.bookings, id);
  self->request(shard, caf::infinite, update_atom::value, std::move(upd))
    .then(
      [=](booking_record& updated) mutable {
        if (rp.pending())
          rp.deliver(std::move(updated));
        issue(self, key);
      },
      [=](caf::error& e) mutable {
        auto& st = self->state;
        auto s = st.sagas.find(saga_ref_from(key));
        log_line(log_level::error, "re-drive not stored",
                 {{"booking_id", id},
                  s ? log_trace(s->req.trace) : log_field{nullptr, {}},
                  {"error", describe(e)}});
        if (s) {
          for (auto& waiter : s->awaiters)
            waiter.deliver(e);
          --st.stats.started;
          --st.started_on[s->table];
          forget_saga(self, saga_ref_from(key));
        }
        drop_in_flight(self);
        if (rp.pending())
          rp.deliver(std::move(e));
      });
}

// -- behavior -----------------------------------------------------------------

saga_coordinator_actor::behavior_type
coordinator_impl(coordinator_pointer self, saga_participants peers,
                 coordinator_options opts) {
  self->state.peers = std::move(peers);
  self->state.dice = fault_dice{opts.seed};
  auto recovered = std::move(opts.recovered);
  opts.recovered.clear();
  if (!opts.gate)
    opts.gate = std::make_shared<backpressure>(10000, 0);
  opts.tables.stamp_all();
  self->state.opts = std::move(opts);
  for (auto& cp : recovered)
    resume(self, cp);
  auto redrive = std::move(self->state.opts.redrive);
  self->state.opts.redrive.clear();
  for (auto& cp : redrive) {
    // Asked for at start: never refused by the limit.
    self->state.opts.gate->enter();
    auto correlation_id = cp.req.correlation_id;
    start_redrive(self, std::move(cp), correlation_id, trace_context::make(),
                  {});
  }
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
      if (st.sagas.contains(make_saga_ref(req.id, false))
          || st.sagas.contains(make_saga_ref(req.id, true))) {
        log_repeated(req);
        return self->delegate(shard, caf::get_atom::value, req.id);
      }
      if (auto refusal = take_place(self)) {
        // The booking may be stored already, its saga long over.
        auto rp = self->make_response_promise<booking_record>();
        self
          ->request(shard, st.opts.lookup_timeout, caf::get_atom::value, req.id)
          .then(
            [=](booking_record& rec) mutable { rp.deliver(std::move(rec)); },
            [=](caf::error&) mutable { rp.deliver(refusal); });
        return rp;
      }
      ++st.starting;
      log_line(log_level::info, "booking requested",
               {{"booking_id", req.id},
                {"correlation_id", req.correlation_id},
                log_trace(req.trace)});
      auto rp = self->make_response_promise<booking_record>();
      st.starting_bookings[req.id].creates.push_back(rp);
      auto fail_start = [=](caf::error& e) {
        auto waiting = take_start(self, req.id);
        give_place(self);
        deliver_all(waiting.creates, e);
        deliver_all(waiting.awaiters, e);
      };
      auto timeout = st.opts.lookup_timeout;
      // Untimed, like the saga's calls: the availability actor answers
      // every quote at once, from memory, and a dead one bounces it.
      self
        ->request(st.peers.availability, caf::infinite, quote_atom::value,
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
              s.table = &self->state.opts.tables.current(false);
              s.req = req;
              s.amount_cents = q.amount_cents;
              s.currency = q.currency;
              emit(self, s, s.table->event_on_start);
              first.id = req.id;
              attach_durable(self, s, first);
            }
            auto on_stored = [=](booking_record& stored) mutable {
              auto waiting = take_start(self, req.id);
              saga_instance s;
              s.table = &self->state.opts.tables.current(false);
              s.awaiters = std::move(waiting.awaiters);
              s.req = std::move(req);
              s.amount_cents = stored.amount_cents;
              s.currency = stored.currency;
              if (durable)
                announce_fresh(self, s.req);
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
                    give_place(self);
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
    [=](cancel_atom, const std::string& id, const std::string& correlation_id,
        const std::string& traceparent) -> caf::result<booking_record> {
      auto& st = self->state;
      auto shard = shard_for(st.peers.bookings, id);
      if (st.sagas.contains(make_saga_ref(id, true)))
        return self->delegate(shard, caf::get_atom::value, id);
      if (auto s = st.sagas.find(make_saga_ref(id, false));
          s != nullptr && s->outcome == booking_status::pending)
        return make_error(booking_errc::wrong_status, "pending");
      if (auto refusal = take_place(self))
        return refusal;
      ++st.starting;
      auto rp = self->make_response_promise<booking_record>();
      auto fail_start = [=](caf::error& e) mutable {
        drop_start(self);
        rp.deliver(std::move(e));
      };
      self->request(shard, st.opts.lookup_timeout, caf::get_atom::value, id)
        .then(
          [=](booking_record& rec) mutable {
            auto& st = self->state;
            auto key = saga_key(id, true);
            if (st.sagas.contains(make_saga_ref(id, true))) {
              // Another cancel won the race; read again, so the answer shows
              // its `cancelling` (messages to one shard stay in order).
              drop_start(self);
              rp.delegate(shard, caf::get_atom::value, id);
              return;
            }
            if (rec.status == booking_status::cancelled
                || rec.status == booking_status::cancelling) {
              drop_start(self);
              rp.deliver(std::move(rec));
              return;
            }
            if (rec.status != booking_status::confirmed) {
              drop_start(self);
              rp.deliver(
                make_error(booking_errc::wrong_status, to_string(rec.status)));
              return;
            }
            saga_instance s;
            s.table = &st.opts.tables.current(true);
            s.cancellation = true;
            s.req.id = rec.id;
            s.req.tour_id = rec.tour_id;
            s.req.date = rec.date;
            s.req.seats = rec.seats;
            s.req.cust = rec.cust;
            s.req.correlation_id = correlation_id;
            s.req.trace = trace_context::parse(traceparent);
            s.amount_cents = rec.amount_cents;
            s.currency = rec.currency;
            --st.starting;
            // Registered before the status change, so a second cancel sees
            // it at once; the first row runs once `cancelling` is stored.
            auto& inst = start(self, std::move(s), true);
            log_line(log_level::info, "booking cancelling",
                     {{"booking_id", id},
                      {"correlation_id", correlation_id},
                      log_trace(inst.req.trace)});
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
                  if (auto s = st.sagas.find(make_saga_ref(id, true))) {
                    for (auto& waiter : s->awaiters)
                      waiter.deliver(e);
                    forget_saga(self, make_saga_ref(id, true));
                  }
                  --st.stats.started;
                  --st.started_on[&st.opts.tables.current(true)];
                  drop_in_flight(self);
                  rp.deliver(std::move(e));
                });
          },
          fail_start);
      return rp;
    },
    [=](redrive_atom, const std::string& id, const std::string& correlation_id,
        const std::string& traceparent) -> caf::result<booking_record> {
      auto& st = self->state;
      for (auto cancellation : {false, true})
        if (auto s = st.sagas.find(make_saga_ref(id, cancellation))) {
          auto status = current_status(self, *s);
          // An outcome stands, but the saga still runs its last rows (the
          // notification): in a moment it is parked.
          return make_error(booking_errc::wrong_status,
                            status == booking_status::compensation_failed
                              ? "compensation_failed, its saga still "
                                "finishing; retry in a moment"
                              : to_string(status));
        }
      if (auto refusal = take_place(self))
        return refusal;
      ++st.starting;
      auto rp = self->make_response_promise<booking_record>();
      auto fail_start = [=](caf::error& e) mutable {
        drop_start(self);
        rp.deliver(std::move(e));
      };
      auto shard = shard_for(st.peers.bookings, id);
      auto timeout = st.opts.lookup_timeout;
      self->request(shard, timeout, caf::get_atom::value, id)
        .then(
          [=](booking_record& rec) mutable {
            if (rec.status != booking_status::compensation_failed) {
              drop_start(self);
              rp.deliver(
                make_error(booking_errc::wrong_status, to_string(rec.status)));
              return;
            }
            self
              ->request(shard, timeout, caf::get_atom::value, saga_atom::value,
                        id)
              .then(
                [=](saga_checkpoint& cp) mutable {
                  auto& st = self->state;
                  --st.starting;
                  if (st.sagas.contains(make_saga_ref(id, false))
                      || st.sagas.contains(make_saga_ref(id, true))) {
                    // Another re-drive won the race.
                    give_place(self);
                    rp.deliver(make_error(booking_errc::wrong_status,
                                          "being re-driven"));
                    return;
                  }
                  start_redrive(self, std::move(cp), correlation_id,
                                trace_context::parse_or_make(traceparent), rp);
                },
                [=](caf::error& e) mutable {
                  if (is(e, booking_errc::not_found))
                    e = make_error(booking_errc::wrong_status,
                                   "compensation_failed: no record of the "
                                   "steps that gave up");
                  fail_start(e);
                });
          },
          fail_start);
      return rp;
    },
    [=](cancel_atom a, std::string& id, std::string& correlation_id) {
      // Without a trace context: none is carried.
      return self->delegate(caf::actor_cast<saga_coordinator_actor>(self), a,
                            std::move(id), std::move(correlation_id),
                            std::string{});
    },
    [=](caf::get_atom) {
      auto& st = self->state;
      auto stats = st.stats;
      stats.starting = static_cast<int64_t>(st.starting);
      auto key = [](const saga_definition& def) {
        return def.name + "/" + version_text(def.version);
      };
      for (auto* defs : {&st.opts.tables.booking, &st.opts.tables.cancellation})
        for (auto& def : *defs) {
          stats.in_flight_by_version[key(def)] += 0;
          auto i = st.started_on.find(&def);
          stats.started_by_version[key(def)]
            += i != st.started_on.end() ? i->second : 0;
        }
      // Those counted in `in_flight`: not the ones whose end is being
      // stored.
      st.sagas.for_each([&](const detail::saga_instance& s) {
        if (s.phase != detail::saga_phase::done)
          ++stats.in_flight_by_version[key(*s.table)];
      });
      return stats;
    },
    [=](timer_atom, const std::string& key, uint64_t epoch) {
      if (attempt_of(self, key, epoch))
        issue(self, key);
    },
    [=](deadline_atom, uint64_t generation) {
      if (generation == self->state.tick_generation)
        expire_deadlines(self);
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
