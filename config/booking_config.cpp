#include "config/booking_config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

#include <caf/atom.hpp>
#include <caf/config_value.hpp>
#include <caf/pec.hpp>
#include <caf/settings.hpp>

#include "actors/messages.hpp"
#include "bridges/amqp_url.hpp"

namespace booking {

namespace {

using caf::config_value;

constexpr const char* default_config_file = "config/booking.ini";

constexpr const char* default_tours_file = "config/tours.json";

constexpr double unbounded = std::numeric_limits<double>::infinity();

/// Why an input was rejected: one line that starts with the key.
using problem = std::optional<std::string>;

// -- converting between fields and config values ------------------------------

template <class T>
config_value to_value(const T& x) {
  if constexpr (std::is_same_v<T, bool>) {
    return config_value{x};
  } else if constexpr (std::is_integral_v<T>) {
    return config_value{static_cast<int64_t>(x)};
  } else if constexpr (std::is_same_v<
                         T, std::vector<std::pair<std::string, double>>>) {
    std::string text;
    for (auto& [value, weight] : x) {
      std::ostringstream w;
      w << weight;
      text += (text.empty() ? "" : ",") + value + ":" + w.str();
    }
    return config_value{text};
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    config_value::list xs;
    for (auto& str : x)
      xs.emplace_back(str);
    return config_value{std::move(xs)};
  } else {
    return config_value{x};
  }
}

// Expects `x` in the canonical form `normalize` produces.
template <class T>
void from_value(const config_value& x, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    out = *caf::get_if<bool>(&x);
  } else if constexpr (std::is_integral_v<T>) {
    out = static_cast<T>(*caf::get_if<int64_t>(&x));
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (auto atm = caf::get_if<caf::atom_value>(&x))
      out = to_string(*atm);
    else
      out = *caf::get_if<std::string>(&x);
  } else if constexpr (std::is_same_v<
                         T, std::vector<std::pair<std::string, double>>>) {
    out.clear();
    parse_weights(*caf::get_if<std::string>(&x), out);
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    out.clear();
    for (auto& item : *caf::get_if<config_value::list>(&x))
      out.push_back(*caf::get_if<std::string>(&item));
  } else {
    out = *caf::get_if<T>(&x);
  }
}

// -- the option table ---------------------------------------------------------

/// What an option accepts; also the form its value takes in CAF's content.
enum class value_kind {
  integer,  // int64 in [min, max]
  number,   // double in [min, max]
  duration, // timespan >= 0, or > 0 if `positive`
  text,     // string
  choice,   // one of `choices`, stored as atom
  list,     // non-empty list of `choices`, stored as a list of strings
  flag,     // true or false; alone on the command line it means true
  weights,  // weighted choices as text, e.g. "1:60,2:40" (parse_weights)
};

/// One option of the engine: name, checks, help, and where the value goes.
struct option_spec {
  std::string name; // "http.port"; global options have no section
  value_kind kind = value_kind::text;
  std::string help;
  double min = 0;
  double max = unbounded;
  bool positive = false;
  std::vector<std::string> choices;
  bool cli_only = false;
  std::string default_text; // shown when `get` is empty
  /// The one program that has this option; none: both.
  std::optional<program> only;
  std::function<config_value(const booking_config&)> get;
  std::function<void(booking_config&, const config_value&)> put;

  /// Refuses an empty (or blank) text.
  option_spec non_empty() && {
    positive = true;
    return std::move(*this);
  }

  /// Makes this an option of `prog` alone.
  option_spec for_program(program prog) && {
    only = prog;
    return std::move(*this);
  }

  /// Reads and writes the field of `engine_settings` that `field` returns.
  template <class Field>
  option_spec bind(Field field) && {
    return std::move(*this).bind_config([field](auto& cfg) -> auto& {
      return field(cfg.settings);
    });
  }

  /// Reads and writes the field of `booking_config` that `field` returns.
  template <class Field>
  option_spec bind_config(Field field) && {
    get = [field](const booking_config& cfg) { return to_value(field(cfg)); };
    put = [field](booking_config& cfg, const config_value& x) {
      from_value(x, field(cfg));
    };
    return std::move(*this);
  }

  /// Reads and writes the field of `scenario_settings` that `field` returns.
  template <class Field>
  option_spec bind_scenario(Field field) && {
    return std::move(*this)
      .bind_config([field](auto& cfg) -> auto& { return field(cfg.scenario); })
      .for_program(program::simulator);
  }

  /// Writes `member` of all three retry policies of the sagas.
  template <class T>
  option_spec bind_retry(T retry_policy::*member) && {
    put = [member](booking_config& cfg, const config_value& x) {
      auto& s = cfg.settings.saga;
      for (auto* policy :
           {&s.step_retry, &s.compensation_retry, &s.notification_retry})
        from_value(x, policy->*member);
    };
    // The policies may default to different values; show them all then.
    saga_settings d;
    auto& a = d.step_retry.*member;
    auto& b = d.compensation_retry.*member;
    auto& c = d.notification_retry.*member;
    if (a == b && b == c) {
      get = [member](const booking_config& cfg) {
        return to_value(cfg.settings.saga.step_retry.*member);
      };
    } else {
      default_text = "steps " + to_string(to_value(a)) + ", compensations "
                     + to_string(to_value(b)) + ", notifications "
                     + to_string(to_value(c));
    }
    return std::move(*this);
  }
};

option_spec integer(std::string name, double min, double max,
                    std::string help) {
  option_spec x;
  x.name = std::move(name);
  x.kind = value_kind::integer;
  x.min = min;
  x.max = max;
  x.help = std::move(help);
  return x;
}

option_spec number(std::string name, double min, double max, std::string help) {
  auto x = integer(std::move(name), min, max, std::move(help));
  x.kind = value_kind::number;
  return x;
}

/// A duration that must be > 0 (`positive`) or >= 0.
option_spec duration(std::string name, bool positive, std::string help) {
  auto x = integer(std::move(name), 0, unbounded, std::move(help));
  x.kind = value_kind::duration;
  x.positive = positive;
  return x;
}

option_spec text(std::string name, std::string help) {
  option_spec x;
  x.name = std::move(name);
  x.help = std::move(help);
  return x;
}

option_spec one_of(std::string name, std::vector<std::string> choices,
                   std::string help) {
  auto x = text(std::move(name), std::move(help));
  x.kind = value_kind::choice;
  x.choices = std::move(choices);
  return x;
}

/// A string that must be one of `choices` (for choices longer than an
/// atom's 10 characters).
option_spec text_of(std::string name, std::vector<std::string> choices,
                    std::string help) {
  auto x = text(std::move(name), std::move(help));
  x.choices = std::move(choices);
  return x;
}

option_spec flag(std::string name, std::string help) {
  auto x = text(std::move(name), std::move(help));
  x.kind = value_kind::flag;
  return x;
}

option_spec weights(std::string name, std::string help) {
  auto x = text(std::move(name), std::move(help));
  x.kind = value_kind::weights;
  return x;
}

option_spec list_of(std::string name, std::vector<std::string> choices,
                    std::string help) {
  auto x = one_of(std::move(name), std::move(choices), std::move(help));
  x.kind = value_kind::list;
  return x;
}

/// Every option of the engine, in the order of the help text. Adding an
/// option means adding a row; registration, checks and help follow.
const std::vector<option_spec>& option_table() {
  constexpr double int32_max = std::numeric_limits<int32_t>::max();
  // clang-format off
  static const std::vector<option_spec> table{
    // -- global ---------------------------------------------------------------
    [] {
      auto x = text("config", "config file to read");
      x.cli_only = true;
      x.default_text = std::string{default_config_file} + ", if it exists";
      return x;
    }(),
    list_of("roles",
            {"api", "saga", "booking", "inventory", "payment", "notification",
             "all"},
            "roles this process is to run (validated, not yet acted on: every "
            "process runs every role until cluster mode)")
      .bind([](auto& s) -> auto& { return s.roles; }),
    integer("demo", 0, int32_max, "run N demo bookings, then exit (0: serve)")
      .bind_config([](auto& c) -> auto& { return c.demo; })
      .for_program(program::server),
    flag("redrive-all", "at start, re-drive every booking whose saga ended "
                        "in compensation_failed")
      .bind_config([](auto& c) -> auto& { return c.redrive_all; })
      .for_program(program::server),
    [] {
      auto x = text("tours", "JSON file of tours to create or replace at start")
                 .bind_config([](auto& c) -> auto& { return c.tours_file; });
      x.default_text = std::string{default_tours_file} + ", if it exists";
      return std::move(x).for_program(program::server);
    }(),
    [] {
      auto x = text("scenario", "scenario file to run (its [sim] section and "
                                "any engine section)");
      x.cli_only = true;
      return std::move(x).for_program(program::simulator);
    }(),
    integer("seed", 0, unbounded,
            "seed of the bookings, the faults and the retry jitter")
      .bind_scenario([](auto& s) -> auto& { return s.seed; }),
    flag("deterministic", "CAF's test coordinator and a simulated clock: the "
                          "same seed gives the same report")
      .bind_scenario([](auto& s) -> auto& { return s.deterministic; }),
    text("json", "also write the report as JSON to this file")
      .bind_scenario([](auto& s) -> auto& { return s.json_file; }),
    text("html", "also write the report as an HTML page to this file")
      .bind_scenario([](auto& s) -> auto& { return s.html_file; }),
    // -- sim (booking-sim's scenario) -----------------------------------------
    text("sim.name", "name shown in the report (empty: the file's stem)")
      .bind_scenario([](auto& s) -> auto& { return s.name; }),
    integer("sim.bookings", 1, 10'000'000, "bookings to request")
      .bind_scenario([](auto& s) -> auto& { return s.bookings; }),
    integer("sim.concurrency", 1, 1'000'000, "bookings in flight at once")
      .bind_scenario([](auto& s) -> auto& { return s.concurrency; }),
    integer("sim.tours", 1, 1000, "tours")
      .bind_scenario([](auto& s) -> auto& { return s.tours; }),
    integer("sim.dates", 1, 366, "departures per tour")
      .bind_scenario([](auto& s) -> auto& { return s.dates; }),
    integer("sim.capacity", 1, 1'000'000, "seats per departure")
      .bind_scenario([](auto& s) -> auto& { return s.capacity; }),
    weights("sim.seats", "seats per booking, as SEATS:WEIGHT,...")
      .bind_scenario([](auto& s) -> auto& { return s.seats; }),
    weights("sim.tokens", "payment tokens, as TOKEN:WEIGHT,...")
      .bind_scenario([](auto& s) -> auto& { return s.tokens; }),
    number("sim.cancel-rate", 0, 1,
           "share of confirmed bookings cancelled after their outcome")
      .bind_scenario([](auto& s) -> auto& { return s.cancel_rate; }),
    duration("sim.crash-interval", false,
             "crash one participant worker this often (0: never)")
      .bind_scenario([](auto& s) -> auto& { return s.crash_interval; }),
    list_of("sim.crash-roles", {"inventory", "payment", "notification"},
            "roles whose workers crash")
      .bind_scenario([](auto& s) -> auto& { return s.crash_roles; }),
    text_of("sim.outage-role", {"none", "inventory", "payment", "notification"},
            "role whose every call fails during the outage window")
      .bind_scenario([](auto& s) -> auto& { return s.outage_role; }),
    duration("sim.outage-start", false, "start of the outage window")
      .bind_scenario([](auto& s) -> auto& { return s.outage_start; }),
    duration("sim.outage-duration", false, "length of the outage window")
      .bind_scenario([](auto& s) -> auto& { return s.outage_duration; }),
    duration("sim.broker-outage-start", false,
             "start of the broker outage window")
      .bind_scenario([](auto& s) -> auto& { return s.broker_outage_start; }),
    duration("sim.broker-outage-duration", false,
             "length of the broker outage window (0: none; needs a broker)")
      .bind_scenario([](auto& s) -> auto& { return s.broker_outage_duration; }),
    integer("sim.crash-after", 0, 10'000'000,
            "kill the process after this many accepted bookings and restart "
            "it from the store (0: never)")
      .bind_scenario([](auto& s) -> auto& { return s.crash_after; }),
    flag("sim.upgrade", "restart after the crash with a later version of the "
                        "booking saga added (a payment check before the "
                        "pivot); needs sim.crash-after")
      .bind_scenario([](auto& s) -> auto& { return s.upgrade; }),
    duration("sim.timeout", true,
             "longest run; one still busy then fails invariant 4")
      .bind_scenario([](auto& s) -> auto& { return s.timeout; }),
    // -- scheduler (CAF's own options, read by CAF) ---------------------------
    one_of("scheduler.policy", {"stealing", "sharing"},
           "CAF scheduler: work stealing or one shared queue"),
    integer("scheduler.max-threads", 1, 256,
            "CAF worker threads (default: number of cores)"),
    // -- workers --------------------------------------------------------------
    integer("workers.booking-shards", 1, 1024, "booking actors (shards)")
      .bind([](auto& s) -> auto& { return s.workers.booking_shards; }),
    integer("workers.inventory-shards", 1, 1024, "inventory actors (shards)")
      .bind([](auto& s) -> auto& { return s.workers.inventory_shards; }),
    integer("workers.payment", 1, 1024, "payment actors")
      .bind([](auto& s) -> auto& { return s.workers.payment_workers; }),
    integer("workers.notification", 1, 1024, "notification actors")
      .bind([](auto& s) -> auto& { return s.workers.notification_workers; }),
    integer("workers.saga-coordinators", 1, 1024, "saga coordinator actors")
      .bind([](auto& s) -> auto& { return s.workers.saga_coordinators; }),
    // -- saga -----------------------------------------------------------------
    duration("saga.inventory-timeout", true, "timeout of one inventory call")
      .bind([](auto& s) -> auto& { return s.saga.inventory_timeout; }),
    duration("saga.payment-timeout", true, "timeout of one payment call")
      .bind([](auto& s) -> auto& { return s.saga.payment_timeout; }),
    duration("saga.notification-timeout", true,
             "timeout of one notification delivery")
      .bind([](auto& s) -> auto& { return s.saga.notification_timeout; }),
    integer("saga.max-attempts", 1, 1000,
            "attempts per forward step (reserve, authorize, confirm)")
      .bind([](auto& s) -> auto& { return s.saga.step_retry.max_attempts; }),
    integer("saga.compensation-max-attempts", 1, 1000,
            "attempts per compensation before compensation_failed")
      .bind([](auto& s) -> auto& {
        return s.saga.compensation_retry.max_attempts;
      }),
    integer("saga.notification-max-attempts", 1, 1000,
            "attempts per notification")
      .bind([](auto& s) -> auto& {
        return s.saga.notification_retry.max_attempts;
      }),
    duration("saga.backoff-initial", true,
             "delay before the second attempt (all retry policies)")
      .bind_retry(&retry_policy::initial_backoff),
    duration("saga.backoff-max", true,
             "upper bound of one delay (all retry policies)")
      .bind_retry(&retry_policy::max_backoff),
    number("saga.backoff-multiplier", 1, unbounded,
           "growth of the delay per attempt (all retry policies)")
      .bind_retry(&retry_policy::multiplier),
    number("saga.backoff-jitter", 0, 1,
           "random fraction of each delay (all retry policies)")
      .bind_retry(&retry_policy::jitter),
    integer("saga.max-in-flight", 1, 10'000'000,
            "sagas in flight before new bookings are refused")
      .bind([](auto& s) -> auto& { return s.saga.max_in_flight; }),
    integer("saga.seed", 0, unbounded, "seed of the retry jitter")
      .bind([](auto& s) -> auto& { return s.saga.seed; })
      .for_program(program::server),
    // -- faults ---------------------------------------------------------------
    number("faults.payment-decline-rate", 0, 1,
           "share of authorizations the gateway declines")
      .bind([](auto& s) -> auto& { return s.faults.payment_decline_rate; }),
    number("faults.payment-timeout-rate", 0, 1,
           "share of authorizations that take effect but never answer")
      .bind([](auto& s) -> auto& { return s.faults.payment_timeout_rate; }),
    number("faults.payment-error-rate", 0, 1,
           "share of gateway calls that fail transiently")
      .bind([](auto& s) -> auto& { return s.faults.payment_error_rate; }),
    number("faults.inventory-error-rate", 0, 1,
           "share of inventory calls that fail transiently")
      .bind([](auto& s) -> auto& { return s.faults.inventory_error_rate; }),
    number("faults.notification-error-rate", 0, 1,
           "share of notification deliveries that fail transiently")
      .bind([](auto& s) -> auto& { return s.faults.notification_error_rate; }),
    number("faults.refund-error-rate", 0, 1,
           "share of voids and refunds that fail transiently")
      .bind([](auto& s) -> auto& { return s.faults.refund_error_rate; }),
    duration("faults.payment-latency", false, "added to every gateway call")
      .bind([](auto& s) -> auto& { return s.faults.payment_latency; }),
    duration("faults.inventory-latency", false, "added to every inventory call")
      .bind([](auto& s) -> auto& { return s.faults.inventory_latency; }),
    duration("faults.notification-latency", false,
             "added to every notification delivery")
      .bind([](auto& s) -> auto& { return s.faults.notification_latency; }),
    integer("faults.seed", 0, unbounded, "seed of every fault generator")
      .bind([](auto& s) -> auto& { return s.faults.seed; })
      .for_program(program::server),
    // -- http -----------------------------------------------------------------
    text("http.address", "IP address the HTTP API listens on")
      .bind([](auto& s) -> auto& { return s.http.address; }),
    integer("http.port", 0, 65535, "TCP port of the HTTP API (0: any free one)")
      .bind([](auto& s) -> auto& { return s.http.port; }),
    integer("http.threads", 1, 64, "HTTP I/O threads")
      .bind([](auto& s) -> auto& { return s.http.threads; }),
    integer("http.body-limit", 1, unbounded, "largest request body in bytes")
      .bind([](auto& s) -> auto& { return s.http.body_limit; }),
    duration("http.read-timeout", true, "time to receive a whole request")
      .bind([](auto& s) -> auto& { return s.http.read_timeout; }),
    duration("http.idle-timeout", true,
             "an idle keep-alive connection closes after this")
      .bind([](auto& s) -> auto& { return s.http.idle_timeout; }),
    integer("http.max-connections", 1, unbounded, "open connections at once")
      .bind([](auto& s) -> auto& { return s.http.max_connections; }),
    number("http.rate-limit", 0, unbounded,
           "requests per second per client (0: no limit)")
      .bind([](auto& s) -> auto& { return s.http.rate_limit; }),
    number("http.rate-burst", 0, unbounded,
           "requests a client may burst (0: same as rate-limit)")
      .bind([](auto& s) -> auto& { return s.http.rate_burst; }),
    text("http.cors-origins", "comma-separated allowed origins (empty: none)")
      .bind([](auto& s) -> auto& { return s.http.cors_origins; }),
    // -- amqp -----------------------------------------------------------------
    text("amqp.url",
         "broker URL (empty: BOOKING_AMQP_URL; neither: all in-process)")
      .bind([](auto& s) -> auto& { return s.amqp.url; }),
    text("amqp.ca-file", "CA certificates (PEM) trusted to sign the broker's "
                         "(amqps:// only; empty: the system's store)")
      .bind([](auto& s) -> auto& { return s.amqp.ca_file; }),
    text("amqp.cert-file", "client certificate (PEM) shown to the broker "
                           "(amqps:// only; with amqp.key-file)")
      .bind([](auto& s) -> auto& { return s.amqp.cert_file; }),
    text("amqp.key-file", "private key (PEM, not encrypted) of "
                          "amqp.cert-file")
      .bind([](auto& s) -> auto& { return s.amqp.key_file; }),
    flag("amqp.verify", "check the broker's certificate chain and host name "
                        "(amqps://); false only for throwaway certificates")
      .bind([](auto& s) -> auto& { return s.amqp.verify; }),
    integer("amqp.prefetch", 1, 65535, "unacknowledged deliveries per consumer")
      .bind([](auto& s) -> auto& { return s.amqp.prefetch; }),
    one_of("amqp.queue-type", {"classic", "quorum"}, "type of command queues")
      .bind([](auto& s) -> auto& { return s.amqp.queue_type; }),
    integer("amqp.delivery-limit", 1, 1000,
            "deliveries of one message before it is dead-lettered")
      .bind([](auto& s) -> auto& { return s.amqp.delivery_limit; }),
    integer("amqp.retry-limit", 0, 1000,
            "retries of a failed command before it is dead-lettered")
      .bind([](auto& s) -> auto& { return s.amqp.retry_limit; }),
    duration("amqp.retry-delay", true,
             "delay of the first retry of a failed intake message (doubles "
             "per retry, up to a minute)")
      .bind([](auto& s) -> auto& { return s.amqp.retry_delay; }),
    duration("amqp.heartbeat", false, "AMQP heartbeat interval (0: off)")
      .bind([](auto& s) -> auto& { return s.amqp.heartbeat; }),
    duration("amqp.stall-timeout", true,
             "a bridge stuck this long makes /readyz fail; the intake then "
             "gives its messages back and reconnects")
      .bind([](auto& s) -> auto& { return s.amqp.stall_timeout; }),
    integer("amqp.confirm-window", 1, 1'000'000,
            "published messages awaiting a broker confirm")
      .bind([](auto& s) -> auto& { return s.amqp.confirm_window; }),
    integer("amqp.max-backlog", 1, 100'000'000,
            "unconfirmed events before new bookings are refused")
      .bind([](auto& s) -> auto& { return s.amqp.max_backlog; }),
    // -- store ----------------------------------------------------------------
    text("store.path", "SQLite database file (WAL mode); :memory: keeps "
                       "everything in memory, without disk")
      .non_empty()
      .bind([](auto& s) -> auto& { return s.store.path; }),
    integer("store.cache-bookings", 1, 100'000'000,
            "finished bookings kept in memory; older ones are read from "
            "the file")
      .bind([](auto& s) -> auto& { return s.store.cache_bookings; }),
  };
  // clang-format on
  return table;
}

const option_spec* find_spec(const std::string& name) {
  for (auto& spec : option_table())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

bool available(program prog, const option_spec& spec) {
  return !spec.only || *spec.only == prog;
}

const char* program_name(program prog) {
  return prog == program::server ? "booking-server" : "booking-sim";
}

std::string category(const std::string& name) {
  auto dot = name.find('.');
  return dot == std::string::npos ? "global" : name.substr(0, dot);
}

std::string long_name(const std::string& name) {
  auto dot = name.find('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

/// The name CAF's option set and `set` expect.
std::string qualified(const std::string& name) {
  return category(name) + "." + long_name(name);
}

// -- rendering ----------------------------------------------------------------

std::string format_number(double x) {
  if (std::isfinite(x) && std::floor(x) == x && std::fabs(x) < 1e15)
    return std::to_string(static_cast<int64_t>(x));
  std::ostringstream out;
  out << x;
  return out.str();
}

/// Shows a value as the user wrote it: strings quoted, numbers plain.
std::string render(const config_value& x) {
  if (auto d = caf::get_if<double>(&x))
    return format_number(*d);
  if (auto t = caf::get_if<caf::timespan>(&x); t && t->count() == 0)
    return "0s"; // rather than CAF's "0d"
  return to_string(x);
}

/// Shows a default on the command line: no quotes, lists comma-separated.
std::string display(const config_value& x) {
  if (auto str = caf::get_if<std::string>(&x))
    return str->empty() ? "empty" : *str;
  if (auto atm = caf::get_if<caf::atom_value>(&x))
    return to_string(*atm);
  if (auto xs = caf::get_if<config_value::list>(&x)) {
    std::string result;
    for (auto& item : *xs)
      result += (result.empty() ? "" : ",") + display(item);
    return result;
  }
  return render(x);
}

std::string join(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs)
    result += (result.empty() ? "" : ", ") + x;
  return result;
}

std::string range_text(const option_spec& spec) {
  if (spec.kind == value_kind::duration)
    return spec.positive ? "> 0" : ">= 0";
  if (spec.max == unbounded)
    return ">= " + format_number(spec.min);
  return format_number(spec.min) + ".." + format_number(spec.max);
}

/// What `spec` accepts, as in "expected an integer in 0..65535".
std::string expectation(const option_spec& spec) {
  std::string in = spec.max == unbounded ? " " : " in ";
  switch (spec.kind) {
    case value_kind::integer:
      return "an integer" + in + range_text(spec);
    case value_kind::number:
      return "a number" + in + range_text(spec);
    case value_kind::duration:
      return "a duration " + range_text(spec)
             + " (like 500ms or 2s; a bare number is seconds)";
    case value_kind::text:
      if (!spec.choices.empty())
        return "one of " + join(spec.choices) + " in double quotes";
      return spec.positive ? "a non-empty string in double quotes"
                           : "a string in double quotes";
    case value_kind::choice:
      return "one of " + join(spec.choices);
    case value_kind::list:
      return "a comma-separated list of " + join(spec.choices)
             + ", each at most once";
    case value_kind::flag:
      return "true or false";
    case value_kind::weights:
      return "weighted choices like \"1:60,2:40\" (weights > 0)";
  }
  return {};
}

// -- checking values ----------------------------------------------------------

std::string trim(std::string str, const char* chars = " \t") {
  auto first = str.find_first_not_of(chars);
  if (first == std::string::npos)
    return {};
  auto last = str.find_last_not_of(chars);
  return str.substr(first, last - first + 1);
}

/// Accepts `a,b`, `[a, b]`, `["a", "b"]` and CAF lists of strings or atoms.
std::optional<std::vector<std::string>> list_items(const config_value& x) {
  std::vector<std::string> items;
  if (auto str = caf::get_if<std::string>(&x)) {
    auto body = trim(*str);
    if (body.size() >= 2 && body.front() == '[' && body.back() == ']')
      body = body.substr(1, body.size() - 2);
    std::istringstream in{body};
    for (std::string item; std::getline(in, item, ',');)
      items.push_back(trim(trim(item), "\"'"));
    if (!body.empty() && body.back() == ',')
      items.emplace_back();
  } else if (auto xs = caf::get_if<config_value::list>(&x)) {
    for (auto& item : *xs) {
      if (auto s = caf::get_if<std::string>(&item))
        items.push_back(*s);
      else if (auto atm = caf::get_if<caf::atom_value>(&item))
        items.push_back(to_string(*atm));
      else
        return std::nullopt;
    }
  } else if (auto atm = caf::get_if<caf::atom_value>(&x)) {
    items.push_back(to_string(*atm));
  } else {
    return std::nullopt;
  }
  return items;
}

bool in_range(const option_spec& spec, double x) {
  return (spec.positive ? x > spec.min : x >= spec.min) && x <= spec.max;
}

bool is_choice(const option_spec& spec, const std::string& x) {
  auto& xs = spec.choices;
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// Checks `x` against `spec` and brings it into the form CAF stores (e.g.
/// an atom for a choice). Returns false if `x` does not fit.
bool normalize(const option_spec& spec, config_value& x) {
  switch (spec.kind) {
    case value_kind::integer: {
      auto i = caf::get_if<int64_t>(&x);
      return i && in_range(spec, static_cast<double>(*i));
    }
    case value_kind::number: {
      if (auto i = caf::get_if<int64_t>(&x))
        x = config_value{static_cast<double>(*i)};
      auto d = caf::get_if<double>(&x);
      return d && in_range(spec, *d);
    }
    case value_kind::duration: {
      // A bare number counts seconds, as the HTTP timeouts are specified.
      if (auto i = caf::get_if<int64_t>(&x))
        x = config_value{caf::timespan{std::chrono::seconds(*i)}};
      else if (auto d = caf::get_if<double>(&x))
        x = config_value{std::chrono::duration_cast<caf::timespan>(
          std::chrono::duration<double>(*d))};
      auto t = caf::get_if<caf::timespan>(&x);
      return t && in_range(spec, static_cast<double>(t->count()));
    }
    case value_kind::text: {
      auto str = caf::get_if<std::string>(&x);
      if (str != nullptr && !spec.choices.empty())
        return is_choice(spec, *str);
      return str != nullptr && (!spec.positive || !trim(*str).empty());
    }
    case value_kind::choice: {
      std::string str;
      if (auto atm = caf::get_if<caf::atom_value>(&x))
        str = to_string(*atm);
      else if (auto s = caf::get_if<std::string>(&x))
        str = trim(*s);
      if (!is_choice(spec, str))
        return false;
      x = config_value{caf::atom_from_string(str)};
      return true;
    }
    case value_kind::list: {
      auto items = list_items(x);
      if (!items || items->empty())
        return false;
      config_value::list xs;
      for (auto& item : *items) {
        if (!is_choice(spec, item))
          return false;
        config_value y{item};
        if (std::find(xs.begin(), xs.end(), y) != xs.end())
          return false; // named twice: a typo, never meant
        xs.push_back(std::move(y));
      }
      x = config_value{std::move(xs)};
      return true;
    }
    case value_kind::flag: {
      if (auto str = caf::get_if<std::string>(&x)) {
        auto t = trim(*str);
        if (t != "true" && t != "false")
          return false;
        x = config_value{t == "true"};
      }
      return caf::holds_alternative<bool>(x);
    }
    case value_kind::weights: {
      auto str = caf::get_if<std::string>(&x);
      std::vector<std::pair<std::string, double>> ws;
      return str != nullptr && parse_weights(*str, ws);
    }
  }
  return false;
}

/// Turns command-line text into a value for `spec`. Strings are unquoted.
config_value from_cli(const option_spec& spec, const std::string& text) {
  switch (spec.kind) {
    case value_kind::integer:
    case value_kind::number:
    case value_kind::duration:
      if (auto x = config_value::parse(text))
        return std::move(*x);
      [[fallthrough]];
    default:
      return config_value{text};
  }
}

// -- applying input -----------------------------------------------------------

/// Checks one value of an engine option and stores it in `cfg.content`.
problem store(booking_config& cfg, const option_spec& spec, config_value x,
              const std::string& where) {
  auto original = x;
  if (!normalize(spec, x))
    return spec.name + ": expected " + expectation(spec) + ", got "
           + render(original) + where;
  cfg.set(qualified(spec.name), x);
  return std::nullopt;
}

std::string type_of(const caf::config_option& opt) {
  auto name = opt.type_name();
  return std::string{name.begin(), name.end()};
}

/// CAF's own options (`scheduler.max-throughput`, `logger.*`, ...) are
/// accepted and type-checked by CAF. Its global flags are CLI-only.
const caf::config_option* caf_option(const booking_config& cfg,
                                     const std::string& name) {
  if (name.find('.') == std::string::npos)
    return nullptr;
  return cfg.options().qualified_name_lookup(name);
}

problem apply_entry(booking_config& cfg, const std::string& name,
                    const config_value& x, const std::string& where) {
  if (auto spec = find_spec(name)) {
    if (!available(cfg.prog, *spec))
      return name + ": not an option of " + program_name(cfg.prog) + where;
    if (spec->cli_only)
      return name + ": only valid on the command line" + where;
    return store(cfg, *spec, x, where);
  }
  auto opt = caf_option(cfg, name);
  if (opt == nullptr)
    return name + ": unknown option" + where;
  if (opt->check(x))
    return name + ": expected a value of type " + type_of(*opt) + ", got "
           + render(x) + where;
  cfg.set(name, x);
  return std::nullopt;
}

bool has_section(const booking_config& cfg, const std::string& name) {
  auto& opts = cfg.options();
  return std::any_of(opts.begin(), opts.end(),
                     [&](auto& opt) { return opt.category() == name; });
}

std::string describe_parse_error(const caf::error& err) {
  if (err.category() != caf::atom("parser"))
    return caf::actor_system_config::render(err);
  auto what = to_string(static_cast<caf::pec>(err.code()));
  auto& ctx = err.context();
  if (ctx.match_elements<caf::settings>()) {
    auto& pos = ctx.get_as<caf::settings>(0);
    auto line = caf::get_if<int64_t>(&pos, "line");
    auto column = caf::get_if<int64_t>(&pos, "column");
    if (line && column)
      return "line " + std::to_string(*line) + ", column "
             + std::to_string(*column) + ": " + what;
  }
  return what;
}

/// CAF keeps the first of two equal keys in one section and drops the
/// other without a word. A repeated key is a typo or a merge gone wrong, so
/// it is refused, naming both lines. Reads `key=value` lines at the top
/// level only: the lines of a list or map that spans several lines are
/// skipped until its brackets close.
problem repeated_key(const std::string& file) {
  std::ifstream in{file};
  std::map<std::string, int> seen;
  std::string section;
  std::string line;
  int depth = 0; // open brackets and braces of a value spanning lines
  for (int n = 1; std::getline(in, line); ++n) {
    std::string text;
    char quote = 0;
    int opened = 0;
    for (char c : line) {
      if (quote != 0) {
        if (c == quote)
          quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == ';') {
        break; // a comment
      } else if (c == '[' || c == '{') {
        ++opened;
      } else if (c == ']' || c == '}') {
        --opened;
      }
      text += c;
    }
    text = trim(text, " \t\r");
    auto was_nested = depth > 0;
    depth = std::max(0, depth + opened);
    if (was_nested || text.empty())
      continue;
    if (text.front() == '[') {
      auto close = text.find(']');
      auto name = close == std::string::npos ? std::string{}
                                             : trim(text.substr(1, close - 1));
      if (!name.empty()
          && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
               == std::string::npos) {
        section = name == "global" ? std::string{} : name;
        depth = 0;
      }
      continue;
    }
    auto eq = text.find('=');
    if (eq == std::string::npos)
      continue;
    auto key = trim(text.substr(0, eq), " \t");
    if (key.empty() || key.find_first_of(" \t[]{}\"'") != std::string::npos)
      continue;
    auto name = section.empty() ? key : section + "." + key;
    auto [i, added] = seen.emplace(name, n);
    if (!added)
      return name + ": given twice (lines " + std::to_string(i->second)
             + " and " + std::to_string(n) + " of " + file + ")";
  }
  return std::nullopt;
}

problem apply_file(booking_config& cfg, const std::string& file) {
  if (auto err = repeated_key(file))
    return err;
  auto raw = caf::actor_system_config::parse_config_file(file.c_str());
  if (!raw)
    return "config: cannot parse " + file + ", "
           + describe_parse_error(raw.error())
           + " (strings take double quotes, choices single quotes)";
  auto where = " (in " + file + ")";
  // Keys before the first section (or under [global]) sit at the top.
  for (auto& [key, value] : *raw) {
    if (auto section = caf::get_if<caf::settings>(&value)) {
      if (!has_section(cfg, key))
        return key + ": unknown section" + where;
      for (auto& [sub_key, x] : *section)
        if (auto err = apply_entry(cfg, key + "." + sub_key, x, where))
          return err;
    } else if (auto err = apply_entry(cfg, key, value, where)) {
      return err;
    }
  }
  return std::nullopt;
}

problem apply_cli(booking_config& cfg, const std::string& name,
                  const std::optional<std::string>& text) {
  auto missing_value = name + ": expected --" + name + "=VALUE";
  if (auto spec = find_spec(name)) {
    if (!available(cfg.prog, *spec))
      return name + ": not an option of " + program_name(cfg.prog);
    if (!text && spec->kind == value_kind::flag)
      return store(cfg, *spec, config_value{true}, "");
    if (!text)
      return missing_value;
    return store(cfg, *spec, from_cli(*spec, *text), "");
  }
  auto opt = caf_option(cfg, name);
  if (opt == nullptr)
    return name + ": unknown option";
  config_value x{true};
  if (text) {
    auto parsed = opt->parse(*text);
    if (!parsed)
      return name + ": expected a value of type " + type_of(*opt) + ", got "
             + render(config_value{*text});
    x = std::move(*parsed);
  } else if (!opt->is_flag()) {
    return missing_value;
  }
  cfg.set(name, x);
  return std::nullopt;
}

/// The command line, split up before anything is applied.
struct cli_input {
  bool help = false;
  bool long_help = false;
  bool dump_config = false;
  std::optional<std::string> config;
  /// `--name=text`, or `--name` alone (no text) for flags.
  std::vector<std::pair<std::string, std::optional<std::string>>> options;
};

problem split_cli(program prog, const std::vector<std::string>& args,
                  cli_input& cli) {
  // The simulator's config file is its scenario.
  auto file_option = prog == program::server ? "config" : "scenario";
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    if (arg == "-h" || arg == "-?" || arg == "--help") {
      cli.help = true;
      continue;
    }
    if (arg == "--long-help") {
      cli.long_help = true;
      continue;
    }
    if (arg == "--dump-config") {
      cli.dump_config = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0)
      return arg
             + (arg[0] == '-' ? ": unknown option" : ": unexpected argument");
    auto eq = arg.find('=');
    auto name = arg.substr(2, eq == std::string::npos ? eq : eq - 2);
    std::optional<std::string> text;
    if (eq != std::string::npos)
      text = arg.substr(eq + 1);
    // `--config FILE` and `--demo N` take their value from the next argument.
    if (name == "config-file" && prog == program::server)
      name = "config";
    if (!text && (name == file_option || name == "demo")) {
      if (i + 1 == args.size())
        return name + ": expected --" + name + "=VALUE";
      text = args[++i];
    }
    if (name == file_option) {
      if (text->empty())
        return name + ": expected a file name";
      cli.config = *text;
      continue;
    }
    cli.options.emplace_back(std::move(name), std::move(text));
  }
  return std::nullopt;
}

/// Lets CAF handle one of its own informational flags.
config_outcome run_caf_flag(booking_config& cfg, const char* flag) {
  std::istringstream no_file;
  if (auto err = cfg.parse({flag}, no_file))
    return {config_outcome::fail, caf::actor_system_config::render(err)};
  return {config_outcome::help, {}};
}

/// Checks what no single key can: every policy's delays must fit together.
problem check_backoff(const booking_config& cfg) {
  auto& s = cfg.settings.saga;
  std::pair<const retry_policy*, const char*> policies[] = {
    {&s.step_retry, "steps"},
    {&s.compensation_retry, "compensations"},
    {&s.notification_retry, "notifications"},
  };
  auto max_given = caf::get_if(&cfg.content, "saga.backoff-max") != nullptr;
  for (auto [policy, label] : policies) {
    if (policy->max_backoff >= policy->initial_backoff)
      continue;
    auto initial = render(config_value{policy->initial_backoff});
    auto max = render(config_value{policy->max_backoff});
    if (max_given)
      return "saga.backoff-max: expected a duration >= the initial backoff "
             "of "
             + std::string{label} + " (" + initial + "), got " + max;
    return "saga.backoff-initial: expected a duration <= the maximum backoff "
           "of "
           + std::string{label} + " (" + max + "), got " + initial;
  }
  return std::nullopt;
}

config_outcome fail(std::string message) {
  return {config_outcome::fail, std::move(message)};
}

/// The roles of a process: `all` alone, or a set of roles without a role
/// named twice (`booking` is `saga`), each of which needs the broker.
std::optional<std::string> check_roles(const engine_settings& s) {
  auto& r = s.roles;
  auto has = [&](const char* x) {
    return std::find(r.begin(), r.end(), x) != r.end();
  };
  if (has("all") && r.size() > 1)
    return std::string{"roles: 'all' runs every role: give it alone, or "
                       "the roles without it"};
  if (has("saga") && has("booking"))
    return std::string{"roles: saga named twice (booking is another name "
                       "for saga)"};
  if (!has("all") && s.amqp.url.empty())
    return std::string{"roles: a process that runs some of the roles works "
                       "with the others over the broker: set amqp.url (or "
                       "BOOKING_AMQP_URL)"};
  return std::nullopt;
}

/// The TLS files: only with an `amqps://` URL (a plain connection would
/// ignore them, and its user would believe it encrypted), readable at
/// start rather than at the first connection, and a certificate only with
/// its key.
std::optional<std::string> check_amqp_tls(const amqp_settings& a, bool tls) {
  const std::pair<const char*, const std::string*> files[]
    = {{"amqp.ca-file", &a.ca_file},
       {"amqp.cert-file", &a.cert_file},
       {"amqp.key-file", &a.key_file}};
  for (auto& [name, path] : files) {
    if (path->empty())
      continue;
    if (!tls)
      return std::string{name} + ": TLS files need an amqps:// URL";
    std::ifstream in{*path};
    if (!in || !std::filesystem::is_regular_file(*path))
      return std::string{name} + ": cannot read " + *path;
  }
  if (a.cert_file.empty() != a.key_file.empty())
    return std::string{"amqp.cert-file and amqp.key-file go together: give "
                       "both or neither"};
  return std::nullopt;
}

/// Takes the broker's URL from the environment if the options left it
/// empty, and checks it (the message never shows the password).
std::optional<std::string> settle_amqp_url(engine_settings& s) {
  if (s.amqp.url.empty())
    if (auto url = std::getenv("BOOKING_AMQP_URL"))
      s.amqp.url = url;
  if (s.amqp.url.empty())
    return std::nullopt;
  std::string error;
  auto url = parse_amqp_url(s.amqp.url, error);
  if (!url)
    return "amqp.url: " + error;
  return check_amqp_tls(s.amqp, url->tls);
}

/// Completes the simulator's settings: the one seed drives every
/// generator, the report is named after the scenario, and the broker may
/// come from the environment. The program's own checks of the whole
/// scenario (`booking_config::check`) run next.
config_outcome finish_scenario(booking_config& cfg, const std::string& file,
                               bool dump_config) {
  auto& sc = cfg.scenario;
  auto& s = cfg.settings;
  if (sc.name.empty())
    sc.name = std::filesystem::path{file}.stem().string();
  s.faults.seed = sc.seed;
  s.saga.seed = sc.seed;
  if (auto err = settle_amqp_url(s))
    return fail(*err);
  if (auto err = check_roles(s))
    return fail(*err);
  if (cfg.check)
    if (auto err = cfg.check(cfg))
      return fail(*err);
  if (dump_config)
    return run_caf_flag(cfg, "--dump-config");
  return {};
}

} // namespace

// -- booking_config -----------------------------------------------------------

booking_config::booking_config(program prog) : prog(prog) {
  register_message_types(*this);
  // A simulation keeps its state in memory unless its scenario says
  // otherwise (a process crash needs a file).
  if (prog == program::simulator)
    settings.store.path = ":memory:";
  for (auto& spec : option_table()) {
    if (!available(prog, spec))
      continue;
    // string_view, or add<std::string>(cat, ...) would bind `cat` as storage.
    auto cat_str = category(spec.name);
    auto key_str = long_name(spec.name);
    caf::string_view cat{cat_str};
    caf::string_view key{key_str};
    if (custom_options_.qualified_name_lookup(cat, key) != nullptr)
      continue; // one of CAF's own, e.g. scheduler.policy
    switch (spec.kind) {
      case value_kind::integer:
        custom_options_.add<int64_t>(cat, key, spec.help);
        break;
      case value_kind::number:
        custom_options_.add<double>(cat, key, spec.help);
        break;
      case value_kind::duration:
        custom_options_.add<caf::timespan>(cat, key, spec.help);
        break;
      case value_kind::text:
        custom_options_.add<std::string>(cat, key, spec.help);
        break;
      case value_kind::choice:
        custom_options_.add<caf::atom_value>(cat, key, spec.help);
        break;
      case value_kind::list:
        custom_options_.add<std::vector<std::string>>(cat, key, spec.help);
        break;
      case value_kind::flag:
        custom_options_.add<bool>(cat, key, spec.help);
        break;
      case value_kind::weights:
        custom_options_.add<std::string>(cat, key, spec.help);
        break;
    }
  }
  // Defaults come from the fields, so `settings.hpp` stays the one source.
  for (auto& spec : option_table()) {
    if (!spec.get || !available(prog, spec))
      continue;
    auto x = spec.get(*this);
    if (!normalize(spec, x)) {
      std::cerr << "*** default of " << spec.name << " is out of range\n";
      std::abort();
    }
    set(qualified(spec.name), x);
  }
  auto cores = static_cast<int64_t>(std::thread::hardware_concurrency());
  set("scheduler.policy", caf::atom("stealing"));
  set("scheduler.max-threads", std::clamp<int64_t>(cores, 1, 256));
}

// -- free functions -----------------------------------------------------------

config_outcome load_config(booking_config& cfg, std::vector<std::string> args) {
  cli_input cli;
  if (auto err = split_cli(cfg.prog, args, cli))
    return fail(*err);
  if (cli.help) {
    std::cout << help_text(cfg) << std::flush;
    return {config_outcome::help, {}};
  }
  if (cli.long_help)
    return run_caf_flag(cfg, "--long-help");
  // Defaults, then the file, then the command line: the last one wins.
  std::string file;
  if (cli.config) {
    file = *cli.config;
    if (!std::filesystem::is_regular_file(file))
      return fail(
        std::string{cfg.prog == program::server ? "config" : "scenario"}
        + ": cannot open " + file);
  } else if (cfg.prog == program::simulator) {
    return fail("scenario: expected --scenario=FILE");
  } else if (std::filesystem::is_regular_file(default_config_file)) {
    file = default_config_file;
  }
  if (!file.empty()) {
    if (auto err = apply_file(cfg, file))
      return fail(*err);
    cfg.config_file = file;
  }
  for (auto& [name, text] : cli.options)
    if (auto err = apply_cli(cfg, name, text))
      return fail(*err);
  // `content` holds every default and every given value, all checked. The
  // backoff delays are in it only if given, so that otherwise each retry
  // policy keeps its own default.
  for (auto& spec : option_table())
    if (spec.put && available(cfg.prog, spec))
      if (auto x = caf::get_if(&cfg.content, spec.name))
        spec.put(cfg, *x);
  if (auto err = check_backoff(cfg))
    return fail(*err);
  if (cfg.prog == program::simulator)
    return finish_scenario(cfg, file, cli.dump_config);
  if (cfg.tours_file.empty()
      && std::filesystem::is_regular_file(default_tours_file))
    cfg.tours_file = default_tours_file;
  // The URL may carry credentials, so it usually comes from the environment.
  // It stays out of `content`, which --dump-config prints.
  if (auto err = settle_amqp_url(cfg.settings))
    return fail(*err);
  if (auto err = check_roles(cfg.settings))
    return fail(*err);
  if (cfg.check)
    if (auto err = cfg.check(cfg))
      return fail(*err);
  if (cli.dump_config)
    return run_caf_flag(cfg, "--dump-config");
  return {};
}

config_outcome load_config(booking_config& cfg, int argc, char** argv) {
  std::vector<std::string> args;
  if (argc > 1)
    args.assign(argv + 1, argv + argc);
  return load_config(cfg, std::move(args));
}

std::string help_text(const booking_config& cfg) {
  std::ostringstream out;
  out << "Options. Each one can also be set in the config file as KEY=VALUE\n"
         "under [SECTION]; keys without a section go before the first one.\n"
         "In the file, strings take double quotes and choices single quotes.\n"
         "Secrets come from the environment only: BOOKING_AMQP_URL,\n"
         "BOOKING_ADMIN_TOKEN, BOOKING_API_TOKEN.\n";
  std::string section;
  for (auto& spec : option_table()) {
    if (!available(cfg.prog, spec))
      continue;
    auto cat = category(spec.name);
    if (cat != section) {
      section = cat;
      out << '\n' << (cat == "global" ? "global" : "[" + cat + "]") << ":\n";
    }
    std::string value;
    switch (spec.kind) {
      case value_kind::integer:
        value = "INT (" + range_text(spec) + ", ";
        break;
      case value_kind::number:
        value = "NUM (" + range_text(spec) + ", ";
        break;
      case value_kind::duration:
        value = "DURATION (" + range_text(spec) + ", ";
        break;
      case value_kind::text:
        value = spec.cli_only ? "FILE (" : "STRING (";
        for (size_t i = 0; i < spec.choices.size(); ++i)
          value = (i == 0 ? "" : value.substr(0, value.size() - 2) + "|")
                  + spec.choices[i] + " (";
        break;
      case value_kind::choice: {
        for (auto& x : spec.choices)
          value += (value.empty() ? "" : "|") + x;
        value += " (";
        break;
      }
      case value_kind::list:
        value = "ROLE,... (ROLE: " + join(spec.choices) + "; ";
        break;
      case value_kind::flag:
        value = "BOOL (";
        break;
      case value_kind::weights:
        value = "VALUE:WEIGHT,... (";
        break;
    }
    auto x = caf::get_if(&cfg.content, spec.name);
    value += "default: " + (x ? display(*x) : spec.default_text) + ")";
    out << "  --" << spec.name << '=' << value << "\n      " << spec.help
        << '\n';
  }
  out << "\nmore:\n"
         "  -h, --help     this text\n"
         "  --long-help    every option, CAF's own (logger, stream, ...) too\n"
         "  --dump-config  print the resulting configuration and exit\n";
  return out.str();
}

std::vector<std::string> option_names(program prog) {
  std::vector<std::string> result;
  for (auto& spec : option_table())
    if (available(prog, spec))
      result.push_back(spec.name);
  return result;
}

bool parse_weights(const std::string& text,
                   std::vector<std::pair<std::string, double>>& out) {
  out.clear();
  std::istringstream in{text};
  for (std::string item; std::getline(in, item, ',');) {
    item = trim(item);
    if (item.empty())
      return false;
    auto colon = item.rfind(':');
    double weight = 1;
    if (colon != std::string::npos) {
      auto number = trim(item.substr(colon + 1));
      char* end = nullptr;
      weight = std::strtod(number.c_str(), &end);
      if (number.empty() || *end != 0 || !std::isfinite(weight) || weight <= 0)
        return false;
      item = trim(item.substr(0, colon));
      if (item.empty())
        return false;
    }
    out.emplace_back(item, weight);
  }
  return !out.empty();
}

caf::optional<int> early_exit(const config_outcome& x) {
  switch (x.kind) {
    case config_outcome::help:
      return 0;
    case config_outcome::fail:
      std::cerr << x.message << std::endl;
      return 2;
    default:
      return caf::none;
  }
}

} // namespace booking
