#include "actors/saga/booking_saga.hpp"

#include <stdexcept>

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

saga_definition verifying_booking_saga(const saga_settings& cfg) {
  auto def = booking_saga(cfg);
  saga_step_def check;
  check.step = saga_step::verify_payment;
  check.participant = "payment";
  check.command = saga_command::query_payment;
  check.timeout = cfg.payment_timeout;
  check.retry = cfg.step_retry;
  check.compensation_retry = cfg.compensation_retry;
  check.error_reason = "payment_error";
  auto pivot = find_step(def, saga_step::confirm_booking);
  def.steps.insert(def.steps.begin() + static_cast<std::ptrdiff_t>(pivot),
                   check);
  return def;
}

size_t find_step(const saga_definition& def, saga_step step) {
  for (size_t i = 0; i < def.steps.size(); ++i)
    if (def.steps[i].step == step)
      return i;
  return def.steps.size();
}

size_t find_step_named(const saga_definition& def, const std::string& name) {
  for (size_t i = 0; i < def.steps.size(); ++i)
    if (to_string(def.steps[i].step) == name)
      return i;
  return def.steps.size();
}

// -- versions -----------------------------------------------------------------

namespace {

const char* name_of(saga_command x) {
  switch (x) {
    case saga_command::none:
      return "none";
    case saga_command::reserve_seats:
      return "reserve_seats";
    case saga_command::release_seats:
      return "release_seats";
    case saga_command::authorize_payment:
      return "authorize_payment";
    case saga_command::void_payment:
      return "void_payment";
    case saga_command::query_payment:
      return "query_payment";
    case saga_command::capture_and_commit:
      return "capture_and_commit";
    case saga_command::refund_payment:
      return "refund_payment";
    case saga_command::notify:
      return "notify";
  }
  throw std::logic_error("saga command without a name");
}

std::string name_of(const std::optional<event_type>& x) {
  return x ? to_string(*x) : std::string{"-"};
}

} // namespace

std::string table_structure(const saga_definition& def) {
  // One line per item, fields separated by spaces; names, never enum
  // values, so renumbering an enum changes nothing.
  std::string out = "saga " + def.name + "\n";
  out += "running " + to_string(def.running_status) + "\n";
  out += "failure " + to_string(def.failure_status) + "\n";
  out += "start " + name_of(def.event_on_start) + "\n";
  out += "compensating " + name_of(def.event_on_compensating) + "\n";
  for (auto& o : def.outcome_events)
    out += "outcome " + to_string(o.status) + " " + to_string(o.type) + "\n";
  for (auto& r : def.steps) {
    out += "row " + to_string(r.step);
    out += std::string{" "} + name_of(r.command);
    out += std::string{" "} + name_of(r.compensation);
    out += std::string{" "} + name_of(r.query);
    out += " " + to_string(r.on_success);
    out += r.pivot ? " pivot" : " -";
    out += r.final ? " final" : " -";
    out += " " + (r.error_reason.empty() ? std::string{"-"} : r.error_reason);
    out += " " + name_of(r.event_on_success);
    out += " " + name_of(r.event_on_decline);
    out += " " + name_of(r.event_on_compensation);
    out += "\n";
  }
  return out;
}

uint64_t table_version(const saga_definition& def) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : table_structure(def)) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

namespace {

/// Checkpoints find rows by step name: a table must name each row once,
/// with a name the step enum has.
void check_names(const saga_definition& def) {
  for (size_t i = 0; i < def.steps.size(); ++i) {
    auto name = to_string(def.steps[i].step);
    if (name == "unknown")
      throw std::logic_error("saga table " + def.name
                             + ": a step without a name");
    for (size_t j = 0; j < i; ++j)
      if (def.steps[j].step == def.steps[i].step)
        throw std::logic_error("saga table " + def.name + ": step " + name
                               + " named twice");
  }
}

} // namespace

saga_definition stamp(saga_definition def) {
  check_names(def);
  def.version = table_version(def);
  return def;
}

const saga_definition& saga_tables::current(bool cancellation_saga) const {
  return cancellation_saga ? cancellation.back() : booking.back();
}

const saga_definition* saga_tables::find(bool cancellation_saga,
                                         uint64_t version) const {
  for (auto& def : cancellation_saga ? cancellation : booking)
    if (def.version == version)
      return &def;
  return nullptr;
}

void saga_tables::stamp_all() {
  for (auto* defs : {&booking, &cancellation})
    for (auto& def : *defs) {
      check_names(def);
      def.version = table_version(def);
    }
}

saga_tables release_tables(const saga_settings& cfg) {
  // A release that changes a table appends its new version here and keeps
  // the old one (renamed, e.g. `booking_saga_v1`) until no stored saga runs
  // on it: see docs/upgrades.md.
  saga_tables t;
  t.booking.push_back(stamp(booking_saga(cfg)));
  t.cancellation.push_back(stamp(cancellation_saga(cfg)));
  return t;
}

} // namespace booking
