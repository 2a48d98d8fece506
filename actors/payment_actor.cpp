#include "actors/payment_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/faults.hpp"
#include "actors/store/read_back.hpp"

namespace booking {

namespace {

struct payment_state_t {
  std::shared_ptr<payment_gateway> gateway;
  store_actor store;
  payment_options opts;
  fault_dice dice{1};
  delayed_replies delayed;
  /// Payments being read back from the store.
  read_back loads;
  static inline const char* name = "payment";
};

using payment_pointer = payment_actor::stateful_pointer<payment_state_t>;

/// Which kind of gateway call a fault is rolled for.
enum class call_kind { authorization, reversal, other };

injected_fault roll(payment_pointer self, call_kind kind) {
  auto& st = self->state;
  if (st.dice.roll(st.opts.error_rate))
    return injected_fault::error;
  switch (kind) {
    case call_kind::authorization:
      if (st.dice.roll(st.opts.decline_rate))
        return injected_fault::decline;
      if (st.dice.roll(st.opts.timeout_rate))
        return injected_fault::timeout;
      break;
    case call_kind::reversal:
      // A rate of 0 draws nothing, so the other faults keep their stream.
      if (st.dice.roll(st.opts.refund_error_rate))
        return injected_fault::error;
      break;
    case call_kind::other:
      break;
  }
  return injected_fault::none;
}

/// True while the gateway is switched off: the call fails without reaching
/// it, so nothing changes there (and nothing is written).
bool in_outage(payment_pointer self) {
  auto& outages = self->state.opts.outages;
  return outages && outages->payment.load(std::memory_order_relaxed);
}

caf::result<payment_intent> unavailable(payment_pointer self) {
  auto& st = self->state;
  caf::expected<payment_intent> value{
    make_error(booking_errc::payment_error, "gateway unavailable (outage)")};
  return st.delayed.reply(self, st.opts.latency, std::move(value));
}

/// What the gateway said, as an answer. The payment as the gateway now has
/// it goes to the store first, failures included (the gateway counts them
/// for its test tokens), and after a status query too: another worker may
/// have changed it without having sent it to the store yet.
caf::expected<payment_intent> outcome_of(payment_pointer self,
                                         const gateway_result& r) {
  auto& st = self->state;
  store_batch b;
  if (st.store)
    if (auto row = st.gateway->row_of(r.intent.booking_id))
      b.payments.push_back(std::move(*row));
  persist_later(self, st.store, std::move(b));
  switch (r.kind) {
    case gateway_result::ok:
    case gateway_result::no_answer:
      break;
    case gateway_result::declined:
      return make_error(r.intent.state == payment_state::declined
                          ? booking_errc::payment_declined
                          : booking_errc::payment_conflict,
                        r.detail);
    case gateway_result::error:
      return make_error(booking_errc::payment_error, r.detail);
  }
  return r.intent;
}

/// The answer to a call whose answer is lost on the way (what the gateway
/// did is kept all the same): the caller's deadline fires first.
caf::expected<payment_intent> lost() {
  return caf::make_error(caf::sec::request_timeout);
}

/// Answers with what the gateway said, or a lost answer late.
caf::result<payment_intent> answer(payment_pointer self, gateway_result r) {
  auto value = outcome_of(self, r);
  auto& st = self->state;
  if (r.kind == gateway_result::no_answer)
    return st.delayed.reply(self, st.opts.lost_answer_after, lost());
  return st.delayed.reply(self, st.opts.latency, std::move(value));
}

/// Runs `call` once the payment of `booking_id` is in memory (see
/// `read_back`) and answers with what the gateway said. An outage or an
/// injected fault is decided at once, so the faults keep the order of the
/// calls.
template <class Call>
caf::result<payment_intent> on_payment(payment_pointer self,
                                       const std::string& booking_id,
                                       call_kind kind, Call call) {
  if (in_outage(self))
    return unavailable(self);
  auto fault = roll(self, kind);
  auto& st = self->state;
  if (!st.store)
    return answer(self, call(fault));
  auto rp = self->make_response_promise<payment_intent>();
  auto restore = [self](booking_parts& parts) {
    for (auto& row : parts.payments)
      self->state.gateway->restore(row);
  };
  st.loads.run(
    self, st.store, booking_id, st.gateway->knows(booking_id), restore,
    [self, rp, call, fault]() mutable {
      auto r = call(fault);
      auto value = outcome_of(self, r);
      auto& st = self->state;
      if (r.kind == gateway_result::no_answer)
        st.delayed.reply_to(self, st.opts.lost_answer_after, rp, lost());
      else
        st.delayed.reply_to(self, st.opts.latency, rp, std::move(value));
    });
  return rp;
}

payment_actor::behavior_type
payment_impl(payment_pointer self, std::shared_ptr<payment_gateway> gateway,
             payment_options opts, store_actor store) {
  self->state.gateway = std::move(gateway);
  self->state.store = std::move(store);
  self->state.dice = fault_dice{opts.seed};
  self->state.opts = std::move(opts);
  auto& gw = *self->state.gateway;
  return {
    [=, &gw](authorize_atom, const payment_request& req) {
      return on_payment(self, req.booking_id, call_kind::authorization,
                        [&gw, req](injected_fault f) {
                          return gw.authorize(req, f);
                        });
    },
    [=, &gw](capture_atom, const std::string& id) {
      return on_payment(self, id, call_kind::other,
                        [&gw, id](injected_fault f) {
                          return gw.capture(id, f);
                        });
    },
    [=, &gw](void_atom, const std::string& id) {
      return on_payment(self, id, call_kind::reversal,
                        [&gw, id](injected_fault f) {
                          return gw.void_payment(id, f);
                        });
    },
    [=, &gw](refund_atom, const std::string& id) {
      return on_payment(self, id, call_kind::reversal,
                        [&gw, id](injected_fault f) {
                          return gw.refund(id, f);
                        });
    },
    [=, &gw](status_atom, const std::string& id) {
      return on_payment(self, id, call_kind::other,
                        [&gw, id](injected_fault f) {
                          return gw.status(id, f);
                        });
    },
    [=, &gw](forget_atom, const std::string& id) {
      // After the calls that wait for this payment, if any; only what a
      // store keeps may go.
      auto& st = self->state;
      if (!st.store)
        return;
      st.loads.run(
        self, st.store, id, true, [](booking_parts&) {},
        [self, &gw, id] {
          gw.forget(id);
          self->state.loads.forget(id);
        });
    },
    [=](fresh_atom, const std::string& id) { self->state.loads.fresh(id); },
    [=](deliver_atom, uint64_t) { self->state.delayed.deliver(self); },
  };
}

} // namespace

payment_actor spawn_payment_worker(caf::actor_system& sys,
                                   std::shared_ptr<payment_gateway> gateway,
                                   payment_options opts, store_actor store) {
  return sys.spawn(payment_impl, std::move(gateway), opts, std::move(store));
}

} // namespace booking
