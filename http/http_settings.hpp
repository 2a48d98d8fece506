// Settings of the HTTP API (section `http`), filled and validated by the
// config.

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/timespan.hpp>

namespace booking {

/// HTTP listener (used by the HTTP API).
struct http_settings {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  size_t threads = 1;
  size_t body_limit = 64 * 1024;
  caf::timespan read_timeout = std::chrono::seconds(30);
  caf::timespan idle_timeout = std::chrono::seconds(60);
  size_t max_connections = 10000;
  double rate_limit = 0;
  double rate_burst = 0;
  std::string cors_origins;
};

} // namespace booking
