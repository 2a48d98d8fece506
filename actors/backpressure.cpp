#include "actors/backpressure.hpp"

#include <algorithm>

namespace booking {

const char* to_string(overload_cause x) {
  switch (x) {
    case overload_cause::max_in_flight:
      return "max-in-flight";
    case overload_cause::outbox_backlog:
      return "outbox-backlog";
  }
  return "unknown";
}

backpressure::backpressure(size_t max_in_flight, int64_t max_backlog)
    : max_in_flight_(max_in_flight), max_backlog_(max_backlog) {
  // nop
}

bool backpressure::backlog_full() const {
  return max_backlog_ > 0 && outbox_backlog.load() >= max_backlog_;
}

std::optional<overload_cause> backpressure::try_enter() {
  auto n = in_flight_.load();
  do {
    if (n >= max_in_flight_)
      return overload_cause::max_in_flight;
  } while (!in_flight_.compare_exchange_weak(n, n + 1));
  if (backlog_full()) {
    leave();
    return overload_cause::outbox_backlog;
  }
  return std::nullopt;
}

void backpressure::enter() {
  ++in_flight_;
}

void backpressure::leave() {
  --in_flight_;
}

std::optional<overload_cause> backpressure::cause() const {
  if (in_flight_.load() >= max_in_flight_)
    return overload_cause::max_in_flight;
  if (backlog_full())
    return overload_cause::outbox_backlog;
  return std::nullopt;
}

double backpressure::outbox_lag(caf::timestamp now) const {
  auto oldest = oldest_unconfirmed.load();
  if (oldest == 0 || outbox_backlog.load() <= 0)
    return 0.0;
  auto age = now.time_since_epoch().count() - oldest;
  return std::max(0.0, static_cast<double>(age) / 1e9);
}

} // namespace booking
