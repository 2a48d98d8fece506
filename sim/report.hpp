// What a simulator run found, and the three ways of showing it.
//
// `run_scenario` (sim/simulator.hpp) fills a `sim_report`; the writers below
// turn it into the stdout table, the JSON document and the self-contained
// HTML page with SVG charts. Every writer is a pure function of the report,
// so a deterministic run gives byte-identical output.
//
//   auto report = booking::run_scenario(...);
//   booking::write_text(report, std::cout);
//   booking::write_json(report, json_file);
//   booking::write_html(report, html_file);

#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "actors/saga/invariants.hpp"

namespace booking {

/// A key and how often it happened, e.g. {"failed/sold_out", 12}.
using count_row = std::pair<std::string, int64_t>;

/// A span of time during which a fault was injected, in seconds from the
/// start of the run. An instant fault (an actor crash, the process crash)
/// has `end == start`.
struct fault_window {
  /// What was injected: "crash inventory#1", "broker outage", "notification
  /// outage", "process crash".
  std::string kind;
  double start = 0;
  double end = 0;
};

/// One sample of the number of sagas in flight.
struct in_flight_sample {
  /// Seconds from the start of the run.
  double time = 0;
  int64_t in_flight = 0;
};

/// Counters of the AMQP publisher; all zero without a broker.
struct broker_summary {
  bool configured = false;
  int64_t published = 0;
  int64_t confirmed = 0;
  int64_t reconnects = 0;
  /// Events still waiting in the outbox at the end.
  int64_t backlog = 0;
};

/// Everything one run found.
struct sim_report {
  // -- the run ----------------------------------------------------------------
  /// Scenario name (the file's stem unless it names itself).
  std::string scenario;
  /// "deterministic" (test scheduler, simulated clock) or "threaded".
  std::string mode;
  uint64_t seed = 0;
  /// Bookings the scenario asked for.
  int64_t requested = 0;
  /// Bookings the engine acknowledged (the create request succeeded).
  int64_t accepted = 0;
  /// Bookings the engine refused (e.g. backpressure), by error text.
  std::vector<count_row> refused;
  /// Confirmed bookings the simulator cancelled (cancellation sagas).
  int64_t cancelled_on_request = 0;
  /// Seconds from the first booking to quiescence; simulated time in the
  /// deterministic mode.
  double duration = 0;
  /// Sagas that reached an outcome per second of `duration`.
  double throughput = 0;

  // -- the sagas --------------------------------------------------------------
  /// Final booking statuses, keyed "status/reason" ("confirmed/none").
  std::vector<count_row> outcomes;
  /// Compensations that succeeded, by the step undone.
  std::vector<count_row> compensations_by_step;
  /// Retries, by step.
  std::vector<count_row> retries_by_step;
  /// Sagas started or resumed, by "saga/table version" (after a process
  /// crash: in the restarted process only).
  std::vector<count_row> sagas_by_version;
  int64_t compensations = 0;
  int64_t retries = 0;
  /// Payment timeouts whose outcome the saga resolved by a status query.
  int64_t uncertain_resolved = 0;

  // -- latency: milliseconds from a booking's request to its outcome ----------
  /// One value per booking that reached an outcome, in ascending order.
  std::vector<double> latencies_ms;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;

  // -- over time --------------------------------------------------------------
  /// Sagas in flight, sampled whenever the number changes (thinned out to
  /// a few hundred points), in time order.
  std::vector<in_flight_sample> in_flight;
  /// Every injected fault window, in time order.
  std::vector<fault_window> faults;
  /// Participant actors crashed and restarted.
  int64_t actor_crashes = 0;
  /// Process crashes (SIGKILL) and restarts from the store.
  int64_t process_restarts = 0;
  broker_summary broker;

  // -- the verdict ------------------------------------------------------------
  invariant_report invariants;

  /// True if every invariant holds.
  bool ok() const {
    return invariants.ok();
  }
};

/// The `q`-quantile (0..1) of ascending `sorted` values, by the nearest-rank
/// method; 0 if empty.
double quantile(const std::vector<double>& sorted, double q);

/// Writes the readable table printed on stdout.
void write_text(const sim_report& report, std::ostream& out);

/// Writes the report as one JSON document (see docs/simulator.md).
void write_json(const sim_report& report, std::ostream& out);

/// Writes a self-contained HTML page: the tables plus three SVG charts
/// (latency histogram, outcome bars, sagas in flight over time with the
/// fault windows shaded). No scripts, fonts or images from elsewhere.
void write_html(const sim_report& report, std::ostream& out);

} // namespace booking
