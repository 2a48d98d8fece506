#include "sim/scenario_checks.hpp"

#include <cstdlib>
#include <filesystem>

namespace booking {

std::optional<std::string> check_scenario(const booking_config& cfg) {
  auto& sc = cfg.scenario;
  auto& s = cfg.settings;
  for (auto& [seats, weight] : sc.seats) {
    char* end = nullptr;
    auto n = std::strtol(seats.c_str(), &end, 10);
    if (seats.empty() || *end != 0 || n < 1 || n > 1000)
      return std::string{"sim.seats: expected seat counts in 1..1000, got \""
                         + seats + "\""};
  }
  if (sc.crash_after >= sc.bookings)
    return std::string{"sim.crash-after: expected fewer than sim.bookings ("
                       + std::to_string(sc.bookings) + "), got "
                       + std::to_string(sc.crash_after)};
  if (sc.upgrade && sc.crash_after == 0)
    return std::string{"sim.upgrade: needs a process crash to upgrade at "
                       "(sim.crash-after > 0)"};
  auto in_memory = s.store.path == ":memory:";
  if (!in_memory && std::filesystem::exists(s.store.path))
    return std::string{
      "store.path: " + s.store.path
      + " exists; a simulation starts from an empty store (remove "
        "it or name another file)"};
  if (sc.broker_outage_duration.count() > 0 && s.amqp.url.empty())
    return std::string{
      "sim.broker-outage-duration: needs a broker (amqp.url or "
      "BOOKING_AMQP_URL)"};
  if (sc.outage_role != "none" && sc.outage_duration.count() == 0)
    return std::string{"sim.outage-duration: expected a duration > 0 for the "
                       "outage of "
                       + sc.outage_role + ", got 0s"};
  if (sc.deterministic) {
    // Real threads and real time would decide these, not the seed.
    if (!in_memory || sc.crash_after > 0)
      return std::string{
        "deterministic: runs in memory only, without a process "
        "crash (sim.crash-after) or a file store (store.path)"};
    if (!s.amqp.url.empty())
      return std::string{
        "deterministic: runs without a broker, but amqp.url is "
        "set"};
  }
  return std::nullopt;
}

} // namespace booking
