// Everything the wiring needs, validated: the actors' settings and those
// of each edge.

#pragma once

#include <string>
#include <vector>

#include "actors/settings.hpp"
#include "bridges/amqp_settings.hpp"
#include "http/http_settings.hpp"

namespace booking {

/// Everything the wiring needs, validated.
struct engine_settings {
  worker_settings workers;
  saga_settings saga;
  fault_settings faults;
  http_settings http;
  amqp_settings amqp;
  store_settings store;
  std::vector<std::string> roles{"all"};
};

} // namespace booking
