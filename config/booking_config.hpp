// The engine's configuration: every option, its checks and its defaults.
//
// `booking_config` registers all options with CAF; `load_config` reads the
// INI file and the command line, rejects anything unknown, ill-typed or out
// of range with one line naming the key, and fills `booking_config::settings`
// for the wiring. Secrets never live here: they come from the environment.
//
//   booking::booking_config cfg;
//   if (auto rc = booking::early_exit(booking::load_config(cfg, argc, argv)))
//     return *rc;
//   caf::actor_system sys{cfg};

#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/config_option_set.hpp>
#include <caf/optional.hpp>

#include "config/engine_settings.hpp"

namespace booking {

/// The programs that read this configuration. Most options are shared; a
/// few belong to one of them (`--demo` to the server, `[sim]` to the
/// simulator), and the other one rejects them by name.
enum class program { server, simulator };

/// What `booking-sim` runs: the `[sim]` section of a scenario file, plus
/// its command-line-only options. See docs/simulator.md.
struct scenario_settings {
  /// Shown in the report; empty: the scenario file's stem.
  std::string name;
  /// Bookings to request, and how many are in flight at once.
  int32_t bookings = 1000;
  int32_t concurrency = 64;
  /// Tours, departures per tour, and seats per departure.
  int32_t tours = 3;
  int32_t dates = 2;
  int32_t capacity = 100;
  /// Seats per booking and payment tokens, as weighted choices.
  std::vector<std::pair<std::string, double>> seats{
    {"1", 50}, {"2", 30}, {"3", 15}, {"4", 5}};
  std::vector<std::pair<std::string, double>> tokens{{"tok_ok", 1}};
  /// Share of confirmed bookings cancelled right after their outcome.
  double cancel_rate = 0;
  /// Crash a participant worker of `crash_roles` every `crash_interval`
  /// (0: never).
  caf::timespan crash_interval{0};
  std::vector<std::string> crash_roles{"inventory", "payment", "notification"};
  /// A window in which every call to one role fails ("none": no window).
  std::string outage_role = "none";
  caf::timespan outage_start{0};
  caf::timespan outage_duration{0};
  /// A window in which the broker is unreachable (needs a broker).
  caf::timespan broker_outage_start{0};
  caf::timespan broker_outage_duration{0};
  /// Kill the process after this many accepted bookings and restart it from
  /// the store (0: never). The store is `store.path`, which must not exist
  /// yet, or with `:memory:` a file in a fresh temporary directory.
  int32_t crash_after = 0;
  /// The restart after the crash runs a later release: this release's
  /// tables plus `verifying_booking_saga`, on which new sagas start.
  bool upgrade = false;
  /// Longest run, from the first booking to quiescence; a run still busy
  /// then fails invariant 4.
  caf::timespan timeout = std::chrono::minutes(10);
  /// Seed of the bookings, the faults and the retry jitter.
  uint64_t seed = 1;
  /// CAF's test coordinator and a simulated clock instead of real threads.
  bool deterministic = false;
  /// Where the report goes besides stdout; empty: nowhere.
  std::string json_file;
  std::string html_file;
};

/// CAF config with every option of the engine registered.
struct booking_config : caf::actor_system_config {
  /// Registers all options of `prog` and message types and sets every
  /// default.
  explicit booking_config(program prog = program::server);

  /// The program these options are for.
  program prog;

  /// The simulator's scenario (only read by booking-sim).
  scenario_settings scenario;

  /// The validated settings the wiring hands to the actors.
  engine_settings settings;

  /// `--demo N`: run N demo bookings, then exit (0: serve).
  int32_t demo = 0;

  /// `--redrive-all`: re-drive every compensation_failed booking at start.
  bool redrive_all = false;

  /// `--tours FILE`: tours to create or replace at start; empty = none.
  std::string tours_file;

  /// The config file that was read; empty if none.
  std::string config_file;

  /// Checks of the whole configuration that the program adds, run by
  /// `load_config` once every key is valid and before `--dump-config`, for
  /// either program (booking-sim checks its scenario here; booking-server
  /// adds none yet). Returns the line naming the key at fault, or none.
  std::function<std::optional<std::string>(const booking_config&)> check;

  /// All registered options, CAF's own included.
  const caf::config_option_set& options() const noexcept {
    return custom_options_;
  }
};

/// What `main` should do after `load_config`.
struct config_outcome {
  enum kind_t { run, help, fail } kind = run;
  /// For `fail`: one line that starts with the key, e.g.
  /// `http.port: expected an integer in 0..65535, got "abc"`.
  std::string message;
};

/// The exit status a program returns right away after `load_config`: 0
/// after `--help`, 2 after a bad option (whose message it prints to stderr),
/// none if the program runs.
caf::optional<int> early_exit(const config_outcome& x);

/// Reads the INI file and the command line (without the program name),
/// validates every key and fills `cfg.settings`. Prints the help text to
/// stdout for `--help`.
config_outcome load_config(booking_config& cfg, std::vector<std::string> args);

/// Like above; skips `argv[0]`.
config_outcome load_config(booking_config& cfg, int argc, char** argv);

/// The text `--help` prints: every option with its type, range and default.
std::string help_text(const booking_config& cfg);

/// Fully qualified names of the options of `prog` (`http.port`, `roles`),
/// in the order of the help text.
std::vector<std::string> option_names(program prog = program::server);

/// Parses weighted choices such as `1:60,2:30,4:10` (a bare value weighs
/// 1); false if a weight is not a positive number or nothing is left.
bool parse_weights(const std::string& text,
                   std::vector<std::pair<std::string, double>>& out);

} // namespace booking
