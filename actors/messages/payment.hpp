// Payments: authorization requests and the gateway's payment intents.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace booking {

/// State of a payment at the gateway.
enum class payment_state : uint8_t {
  none,
  authorized,
  captured,
  voided,
  refunded,
  declined,
};

std::string to_string(payment_state x);

/// An authorization request; `booking_id` is the idempotency key.
struct payment_request {
  std::string booking_id;
  int64_t amount_cents = 0;
  std::string currency;
  std::string token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_request& x) {
  return f(caf::meta::type_name("payment_request"), x.booking_id,
           x.amount_cents, x.currency, x.token);
}

/// The gateway's record of one booking's payment.
struct payment_intent {
  std::string booking_id;
  payment_state state = payment_state::none;
  int64_t authorized_cents = 0;
  int64_t captured_cents = 0;
  int64_t refunded_cents = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_intent& x) {
  return f(caf::meta::type_name("payment_intent"), x.booking_id, x.state,
           x.authorized_cents, x.captured_cents, x.refunded_cents);
}

} // namespace booking
