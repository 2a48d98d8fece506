// The simulated payment gateway the payment workers talk to.
//
// It stands for an external card processor: thread-safe, keyed by booking id
// (the idempotency key a real processor would get), and driven by the test
// tokens of the product spec:
//   tok_decline      declined
//   tok_timeout      authorizes, but the answer never arrives (for a repeated
//                    authorization neither)
//   tok_flaky        the first two authorizations fail transiently
//   tok_refund_fail  the first two voids or refunds fail transiently
// A void of an unknown payment leaves a tombstone, so an authorization that
// arrives after it is refused rather than left dangling. A transient failure
// (an injected fault) changes nothing, not even the list of payments.

#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "actors/messages.hpp"
#include "actors/store/keyed_table.hpp"
#include "actors/store/store_types.hpp"

namespace booking {

/// A fault the payment worker injects into one gateway call.
enum class injected_fault { none, decline, timeout, error };

/// How the gateway answered a call.
struct gateway_result {
  enum kind_t {
    /// Done; `intent` holds the new state.
    ok,
    /// A business "no" (declined card, voided payment).
    declined,
    /// A transient failure; nothing changed.
    error,
    /// The call took effect but its answer is lost.
    no_answer,
  };
  kind_t kind = ok;
  payment_intent intent;
  std::string detail;
};

/// The simulated card processor.
class payment_gateway {
public:
  /// Authorizes `req.amount_cents`; idempotent per booking id.
  gateway_result authorize(const payment_request& req,
                           injected_fault fault = injected_fault::none);

  /// Captures an authorized payment; idempotent.
  gateway_result capture(const std::string& booking_id,
                         injected_fault fault = injected_fault::none);

  /// Voids an authorization (or leaves a tombstone); idempotent.
  gateway_result void_payment(const std::string& booking_id,
                              injected_fault fault = injected_fault::none);

  /// Refunds a capture, or voids a mere authorization; idempotent.
  gateway_result refund(const std::string& booking_id,
                        injected_fault fault = injected_fault::none);

  /// The current state of a payment (`none` if unknown).
  gateway_result status(const std::string& booking_id,
                        injected_fault fault = injected_fault::none);

  /// Every payment the gateway knows.
  std::vector<payment_intent> intents() const;

  /// A payment with its token, as the durable store keeps it.
  caf::optional<payment_row> row_of(const std::string& booking_id) const;

  /// Puts back a payment an earlier run stored, unless one is held.
  void restore(const payment_row& row);

  /// True if the payment of `booking_id` is held.
  bool knows(const std::string& booking_id) const;

  /// Forgets a payment (a durable store keeps it).
  void forget(const std::string& booking_id);

private:
  struct entry {
    payment_intent intent;
    std::string token;
    int32_t failed_authorizations = 0;
    int32_t failed_reversals = 0;
  };

  /// The payment as it stands, without creating an entry (an injected
  /// transient failure leaves no trace).
  payment_intent current(const std::string& booking_id) const;

  /// Applies the token's reversal rule; true if this reversal must fail.
  static bool reversal_fails(entry& e);

  entry& lookup(const std::string& booking_id);

  mutable std::mutex mtx_;
  struct entry_key {
    std::string_view operator()(const entry& e) const {
      return e.intent.booking_id;
    }
  };

  keyed_table<entry, entry_key> entries_;
};

} // namespace booking
