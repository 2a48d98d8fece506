// Prometheus metrics of the HTTP layer, and the text exposition of all the
// engine's metrics (format 0.0.4).
//
// The HTTP counters live here, behind one mutex, because several I/O threads
// record into them. The saga figures are pulled from the coordinators at
// scrape time (`saga_stats`), so the actors keep no shared state.

#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "actors/messages.hpp"

namespace booking {

/// Counters of the AMQP bridge; all zero while AMQP is off.
struct amqp_counters {
  int64_t published = 0;
  int64_t confirmed = 0;
  int64_t nacked = 0;
  int64_t returned = 0;
  int64_t consumed = 0;
  int64_t acked = 0;
  int64_t rejected = 0;
  int64_t dead_lettered = 0;
  int64_t outbox_backlog = 0;
  int64_t reconnects = 0;
  /// Age of the oldest unconfirmed event, in seconds.
  double outbox_lag_seconds = 0;
};

/// Counters of the durable store (zero, and up, without one).
struct store_counters {
  int64_t commits = 0;
  int64_t batches = 0;
  bool up = true;
  /// Bookings held in memory (in flight and cached).
  int64_t cached_bookings = 0;
  /// Heap SQLite holds, its page cache included.
  int64_t sqlite_memory_bytes = 0;
  /// Sagas in the store this release cannot resume (see `locate`).
  int64_t suspended_sagas = 0;
};

/// A histogram with fixed upper bounds (non-cumulative counts).
struct histogram {
  std::vector<int64_t> counts;
  double sum = 0;
  int64_t total = 0;
};

/// Request counters and latency histograms of the HTTP server.
class http_metrics {
public:
  /// Records one answered request.
  void record(const std::string& route, const std::string& method,
              unsigned status, double seconds);

  /// Writes the HTTP families.
  void render(std::string& out) const;

private:
  mutable std::mutex mtx_;
  std::map<std::tuple<std::string, std::string, unsigned>, int64_t> requests_;
  std::map<std::string, histogram> durations_;
};

/// Upper bounds of the HTTP latency buckets, in seconds.
const std::vector<double>& http_duration_buckets();

/// The whole exposition: HTTP, sagas, AMQP, the store and actor counts.
std::string
render_metrics(const http_metrics& http, const saga_stats& sagas,
               const amqp_counters& amqp, const store_counters& store,
               const std::vector<std::pair<std::string, size_t>>& actors);

} // namespace booking
