// Notification workers: render the outcome email and deliver it.
//
// Delivery contract: idempotent per booking and kind. A request for a
// notification that was already sent answers true and sends nothing. A failed
// delivery is recorded (status "failed", attempts counted) and answered with
// `notification_error`, so the saga retries it. The wiring puts K workers
// behind one pool handle; they share the repository.

#pragma once

#include <functional>
#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/faults.hpp"
#include "actors/messages.hpp"
#include "actors/store/repositories.hpp"
#include "actors/store/store_actor.hpp"

namespace booking {

/// Interface of a notification worker (and of the pool in front of them).
using notification_actor = caf::typed_actor<
  // Answers once the notification is delivered: true if it was delivered
  // now, false if it had been before (nothing was sent); the record stays
  // with the worker.
  caf::replies_to<send_atom, notification_request>::with<bool>,
  // One notification by id (fails with not_found).
  caf::replies_to<caf::get_atom, std::string>::with<notification_record>,
  // Notifications matching a filter, ordered by id.
  caf::replies_to<list_atom,
                  notification_filter>::with<std::vector<notification_record>>,
  // Forgets a booking's notifications once its saga has ended (sent with a
  // durable store, which keeps them and answers the reads above then).
  caf::reacts_to<forget_atom, std::string>,
  caf::reacts_to<fresh_atom, std::string>,
  caf::reacts_to<deliver_atom, uint64_t>>;

/// Delivers a rendered notification (the email or SMS provider), with the
/// trace context of the saga that sends it; returns false if delivery
/// failed.
using notification_sink
  = std::function<bool(const notification_record&, const trace_context&)>;

/// A sink that delivers by writing one log line per notification.
notification_sink log_sink();

/// Fault injection and delivery of one notification worker.
struct notification_options {
  double error_rate = 0;
  caf::timespan latency{0};
  uint64_t seed = 1;
  notification_sink sink;
  /// While `outages->notification` is on, every delivery fails transiently
  /// before anything is claimed or recorded; empty: never.
  std::shared_ptr<outage_switches> outages;
};

/// Renders the subject and body of a notification.
notification_record render(const notification_request& req);

/// Spawns one notification worker; with a `store`, every delivery attempt
/// is written there.
notification_actor
spawn_notification_worker(caf::actor_system& sys,
                          std::shared_ptr<notification_repository> repo,
                          notification_options opts, store_actor store = {});

} // namespace booking
