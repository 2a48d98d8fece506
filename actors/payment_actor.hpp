// Payment workers in front of the payment gateway.
//
// The wiring puts M workers behind one pool handle with this same interface
// (round robin). Workers keep no state of their own: the gateway holds the
// payment intents, keyed by booking id, so any worker can serve any call.
// Injected faults (decline, timeout, transient error, failed reversal,
// latency, outage) apply here; the test tokens are handled by the gateway and
// work whatever the rates.

#pragma once

#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/faults.hpp"
#include "actors/messages.hpp"
#include "actors/payment_gateway.hpp"
#include "actors/store/store_actor.hpp"

namespace booking {

/// Interface of a payment worker (and of the pool in front of them).
using payment_actor = caf::typed_actor<
  caf::replies_to<authorize_atom, payment_request>::with<payment_intent>,
  caf::replies_to<capture_atom, std::string>::with<payment_intent>,
  caf::replies_to<void_atom, std::string>::with<payment_intent>,
  caf::replies_to<refund_atom, std::string>::with<payment_intent>,
  caf::replies_to<status_atom, std::string>::with<payment_intent>,
  // Forgets a booking's payment once its saga has ended (sent with a
  // durable store, which keeps it).
  caf::reacts_to<forget_atom, std::string>,
  caf::reacts_to<fresh_atom, std::string>,
  caf::reacts_to<deliver_atom, uint64_t>>;

/// Fault injection of one payment worker.
struct payment_options {
  double decline_rate = 0;
  double timeout_rate = 0;
  /// Share of all gateway calls that fail transiently.
  double error_rate = 0;
  caf::timespan latency{0};
  uint64_t seed = 1;
  /// Share of voids and refunds that fail transiently (besides `error_rate`).
  double refund_error_rate = 0;
  /// While `outages->payment` is on, every gateway call fails transiently
  /// without reaching the gateway; empty: never.
  std::shared_ptr<outage_switches> outages;
  /// A lost answer (`timeout_rate`) is released this long after the call,
  /// as a `request_timeout` error. The caller's deadline has passed by then
  /// (unless it is longer than this, and then the error reads as the same
  /// timeout, earlier); but a caller that asked untimed
  /// does not keep waiting for it for good.
  caf::timespan lost_answer_after = std::chrono::minutes(1);
};

/// Spawns one payment worker; with a `store`, every payment a call changed
/// is written there.
payment_actor spawn_payment_worker(caf::actor_system& sys,
                                   std::shared_ptr<payment_gateway> gateway,
                                   payment_options opts,
                                   store_actor store = {});

} // namespace booking
