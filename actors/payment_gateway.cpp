#include "actors/payment_gateway.hpp"

namespace booking {

namespace {

gateway_result make(gateway_result::kind_t kind, const payment_intent& intent,
                    std::string detail = {}) {
  return {kind, intent, std::move(detail)};
}

gateway_result transient(const payment_intent& intent) {
  return make(gateway_result::error, intent, "gateway unavailable");
}

} // namespace

payment_intent payment_gateway::current(const std::string& id) const {
  if (auto e = entries_.find(id))
    return e->intent;
  payment_intent none;
  none.booking_id = id;
  return none;
}

payment_gateway::entry& payment_gateway::lookup(const std::string& id) {
  if (auto e = entries_.find(id))
    return *e;
  entry e;
  e.intent.booking_id = id;
  return *entries_.insert(std::move(e)).first;
}

bool payment_gateway::reversal_fails(entry& e) {
  if (e.token == "tok_refund_fail" && e.failed_reversals < 2) {
    ++e.failed_reversals;
    return true;
  }
  return false;
}

gateway_result payment_gateway::authorize(const payment_request& req,
                                          injected_fault fault) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (fault == injected_fault::error)
    return transient(current(req.booking_id));
  auto& e = lookup(req.booking_id);
  auto& p = e.intent;
  switch (p.state) {
    case payment_state::authorized:
      // A repeated authorization of tok_timeout is lost like the first.
      if (e.token == "tok_timeout")
        return make(gateway_result::no_answer, p);
      return make(gateway_result::ok, p);
    case payment_state::captured:
      return make(gateway_result::ok, p);
    case payment_state::voided:
    case payment_state::refunded:
      return make(gateway_result::declined, p, "payment voided");
    case payment_state::declined:
      return make(gateway_result::declined, p, "card declined");
    case payment_state::none:
      break;
  }
  e.token = req.token;
  if (req.token == "tok_flaky" && e.failed_authorizations < 2) {
    ++e.failed_authorizations;
    return transient(p);
  }
  if (req.token == "tok_decline" || fault == injected_fault::decline) {
    p.state = payment_state::declined;
    return make(gateway_result::declined, p, "card declined");
  }
  p.state = payment_state::authorized;
  p.authorized_cents = req.amount_cents;
  if (req.token == "tok_timeout" || fault == injected_fault::timeout)
    return make(gateway_result::no_answer, p);
  return make(gateway_result::ok, p);
}

gateway_result payment_gateway::capture(const std::string& booking_id,
                                        injected_fault fault) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (fault == injected_fault::error)
    return transient(current(booking_id));
  auto& p = lookup(booking_id).intent;
  if (p.state == payment_state::captured)
    return make(gateway_result::ok, p);
  if (p.state != payment_state::authorized)
    return make(gateway_result::declined, p, "not authorized");
  p.state = payment_state::captured;
  p.captured_cents = p.authorized_cents;
  return make(gateway_result::ok, p);
}

gateway_result payment_gateway::void_payment(const std::string& booking_id,
                                             injected_fault fault) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (fault == injected_fault::error)
    return transient(current(booking_id));
  auto& e = lookup(booking_id);
  auto& p = e.intent;
  if (reversal_fails(e))
    return transient(p);
  switch (p.state) {
    case payment_state::captured:
      return make(gateway_result::declined, p, "captured; refund instead");
    case payment_state::none:
    case payment_state::authorized:
      p.state = payment_state::voided;
      break;
    default:
      break; // voided, refunded, declined: nothing is reserved any more
  }
  return make(gateway_result::ok, p);
}

gateway_result payment_gateway::refund(const std::string& booking_id,
                                       injected_fault fault) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (fault == injected_fault::error)
    return transient(current(booking_id));
  auto& e = lookup(booking_id);
  auto& p = e.intent;
  if (reversal_fails(e))
    return transient(p);
  switch (p.state) {
    case payment_state::captured:
      p.state = payment_state::refunded;
      p.refunded_cents = p.captured_cents;
      break;
    case payment_state::none:
    case payment_state::authorized:
      p.state = payment_state::voided;
      break;
    default:
      break;
  }
  return make(gateway_result::ok, p);
}

gateway_result payment_gateway::status(const std::string& booking_id,
                                       injected_fault fault) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto e = entries_.find(booking_id);
  payment_intent none;
  none.booking_id = booking_id;
  auto& p = e == nullptr ? none : e->intent;
  if (fault == injected_fault::error)
    return transient(p);
  return make(gateway_result::ok, p);
}

std::vector<payment_intent> payment_gateway::intents() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<payment_intent> result;
  result.reserve(entries_.size());
  entries_.for_each([&](const entry& e) { result.push_back(e.intent); });
  return result;
}

caf::optional<payment_row>
payment_gateway::row_of(const std::string& booking_id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto e = entries_.find(booking_id);
  if (e == nullptr)
    return caf::none;
  return payment_row{e->intent, e->token, e->failed_authorizations,
                     e->failed_reversals};
}

bool payment_gateway::knows(const std::string& booking_id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.contains(booking_id);
}

void payment_gateway::forget(const std::string& booking_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  entries_.erase(booking_id);
}

void payment_gateway::restore(const payment_row& row) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (entries_.contains(row.intent.booking_id))
    return;
  entries_.insert(entry{row.intent, row.token, row.failed_authorizations,
                        row.failed_reversals});
}

} // namespace booking
