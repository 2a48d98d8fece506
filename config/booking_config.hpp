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

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/config_option_set.hpp>
#include <caf/optional.hpp>

#include "actors/settings.hpp"

namespace booking {

/// CAF config with every option of the engine registered.
struct booking_config : caf::actor_system_config {
  /// Registers all options and message types and sets every default.
  booking_config();

  /// The validated settings the wiring hands to the actors.
  engine_settings settings;

  /// `--demo N`: run N demo bookings, then exit (0: serve).
  int32_t demo = 0;

  /// `--tours FILE`: tours to create or replace at start; empty = none.
  std::string tours_file;

  /// The config file that was read; empty if none.
  std::string config_file;

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

/// Fully qualified names of the engine's options (`http.port`, `roles`), in
/// the order of the help text.
std::vector<std::string> option_names();

} // namespace booking
