#include "actors/saga/booking_saga.hpp"

namespace booking {

saga_definition booking_saga(const saga_settings& cfg) {
  using c = saga_command;
  using bs = booking_status;
  using e = event_type;
  saga_definition def;
  def.name = "booking";
  def.failure_status = bs::failed;
  def.running_status = bs::pending;
  def.event_on_start = e::booking_requested;
  def.event_on_compensating = e::saga_compensating;
  def.outcome_events = {
    {bs::confirmed, e::booking_confirmed},
    {bs::failed, e::booking_failed},
    {bs::compensation_failed, e::saga_compensation_failed},
  };
  // clang-format off
  //   step                          participant
  //   command                 compensation       query
  //   timeout                 retry              compensation retry
  //   reason when exhausted   status on success  pivot  final
  //   event on success        event on decline   event on compensation
  //   ({} = no event)
  def.steps = {
    {saga_step::reserve_seats,     "inventory",
     c::reserve_seats,         c::release_seats,  c::none,
     cfg.inventory_timeout,    cfg.step_retry,    cfg.compensation_retry,
     "inventory_error",        bs::pending,       false, false,
     e::inventory_reserved,     e::inventory_rejected, e::inventory_released},
    {saga_step::authorize_payment, "payment",
     c::authorize_payment,     c::void_payment,   c::query_payment,
     cfg.payment_timeout,      cfg.step_retry,    cfg.compensation_retry,
     "payment_error",          bs::pending,       false, false,
     e::payment_authorized,     e::payment_declined, e::payment_voided},
    // Capture and commit are idempotent, so the whole step is retried; its
    // compensation refunds whatever was captured (or voids the rest).
    // Success emits payment.captured, then the outcome booking.confirmed.
    {saga_step::confirm_booking,   "payment, inventory, booking",
     c::capture_and_commit,    c::refund_payment, c::none,
     cfg.payment_timeout,      cfg.compensation_retry, cfg.compensation_retry,
     "payment_error",          bs::confirmed,     true,  false,
     e::payment_captured,       {},                e::payment_refunded},
    {saga_step::send_notification, "notification",
     c::notify,                c::none,           c::none,
     cfg.notification_timeout, cfg.notification_retry, cfg.notification_retry,
     "",                       bs::pending,       false, true,
     e::notification_sent,      {},                {}},
  };
  // clang-format on
  return def;
}

saga_definition cancellation_saga(const saga_settings& cfg) {
  using c = saga_command;
  using bs = booking_status;
  using e = event_type;
  saga_definition def;
  def.name = "cancellation";
  // Nothing here is undone: a step that keeps failing leaves the booking
  // for an operator, visibly.
  def.failure_status = bs::compensation_failed;
  // The coordinator stores `cancelling` before the first row runs.
  def.running_status = bs::cancelling;
  def.outcome_events = {
    {bs::cancelled, e::booking_cancelled},
    {bs::compensation_failed, e::saga_compensation_failed},
  };
  // clang-format off
  def.steps = {
    {saga_step::refund_payment,    "payment",
     c::refund_payment,        c::none,           c::none,
     cfg.payment_timeout,      cfg.compensation_retry, cfg.compensation_retry,
     "payment_error",          bs::pending,       false, false,
     e::payment_refunded,       {},                {}},
    {saga_step::release_seats,     "inventory",
     c::release_seats,         c::none,           c::none,
     cfg.inventory_timeout,    cfg.compensation_retry, cfg.compensation_retry,
     "inventory_error",        bs::pending,       false, false,
     e::inventory_released,     {},                {}},
    {saga_step::cancel_booking,    "booking",
     c::none,                  c::none,           c::none,
     cfg.inventory_timeout,    cfg.compensation_retry, cfg.compensation_retry,
     "",                       bs::cancelled,     true,  false,
     {},                       {},                {}},
    {saga_step::send_notification, "notification",
     c::notify,                c::none,           c::none,
     cfg.notification_timeout, cfg.notification_retry, cfg.notification_retry,
     "",                       bs::pending,       false, true,
     e::notification_sent,      {},                {}},
  };
  // clang-format on
  return def;
}

size_t find_step(const saga_definition& def, saga_step step) {
  for (size_t i = 0; i < def.steps.size(); ++i)
    if (def.steps[i].step == step)
      return i;
  return def.steps.size();
}

} // namespace booking
