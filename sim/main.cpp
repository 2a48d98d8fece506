// booking-sim: runs a scenario against the real engine, prints the report,
// writes it as JSON and HTML if asked. Exits 0 if every invariant holds, 1
// if one fails, 2 on a bad option, 3 if the run could not be done.
//
//   booking-sim --scenario=config/scenarios/payment-chaos.ini --seed=7
//     --sim.bookings=5000 --json=report.json --html=report.html

#include <fstream>
#include <iostream>

#include "actors/log.hpp"
#include "config/booking_config.hpp"
#include "sim/report.hpp"
#include "sim/scenario_checks.hpp"
#include "sim/simulator.hpp"

using namespace booking;

namespace {

/// Writes the report with `write` to `path`; false (and a message) if the
/// file cannot be written.
template <class Writer>
bool write_file(const std::string& path, const sim_report& report,
                Writer write) {
  if (path.empty())
    return true;
  std::ofstream out{path};
  if (out)
    write(report, out);
  if (!out) {
    std::cerr << "cannot write the report to " << path << '\n';
    return false;
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  booking_config cfg{program::simulator};
  cfg.check = check_scenario;
  if (auto rc = early_exit(load_config(cfg, argc, argv)))
    return *rc;
  // The report is the output; the engine's own log only shows trouble.
  set_log_level(log_level::warn);
  sim_report report;
  try {
    report = run_scenario(cfg);
  } catch (const std::exception& ex) {
    std::cerr << "booking-sim: " << ex.what() << '\n';
    return 3;
  }
  write_text(report, std::cout);
  std::cout.flush();
  auto written = write_file(cfg.scenario.json_file, report, write_json)
                 && write_file(cfg.scenario.html_file, report, write_html);
  if (!written)
    return 3;
  return report.ok() ? 0 : 1;
}
