#include "actors/messages/saga.hpp"

#include <algorithm>
#include <cstdio>

namespace booking {

const std::vector<double>& saga_duration_buckets() {
  static const std::vector<double> bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                          0.5,   1,    2.5,   5,    10,  30};
  return bounds;
}

namespace {

template <class Map>
void add_counts(Map& x, const Map& y) {
  for (auto& [key, n] : y)
    x[key] += n;
}

} // namespace

std::string version_text(uint64_t version) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(version));
  return buf;
}

bool parse_version(const std::string& text, uint64_t& version) {
  if (text.size() != 16)
    return false;
  uint64_t x = 0;
  for (char c : text) {
    x <<= 4;
    if (c >= '0' && c <= '9')
      x |= static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      x |= static_cast<uint64_t>(c - 'a' + 10);
    else
      return false;
  }
  version = x;
  return true;
}

saga_stats& operator+=(saga_stats& x, const saga_stats& y) {
  x.started += y.started;
  x.in_flight += y.in_flight;
  x.completed += y.completed;
  x.retries += y.retries;
  x.compensations += y.compensations;
  x.uncertain_resolved += y.uncertain_resolved;
  x.starting += y.starting;
  add_counts(x.completed_by, y.completed_by);
  add_counts(x.redrives_by, y.redrives_by);
  add_counts(x.compensations_by_step, y.compensations_by_step);
  add_counts(x.retries_by_step, y.retries_by_step);
  add_counts(x.in_flight_by_version, y.in_flight_by_version);
  add_counts(x.started_by_version, y.started_by_version);
  // Default-constructed stats have every bucket; others must lose no counts.
  if (x.duration_counts.size() < y.duration_counts.size())
    x.duration_counts.resize(y.duration_counts.size());
  for (size_t i = 0; i < y.duration_counts.size(); ++i)
    x.duration_counts[i] += y.duration_counts[i];
  x.duration_sum += y.duration_sum;
  return x;
}

void observe_duration(saga_stats& x, double seconds) {
  auto& bounds = saga_duration_buckets();
  if (x.duration_counts.size() <= bounds.size())
    x.duration_counts.resize(bounds.size() + 1);
  // Bounds are inclusive: a sample on a bound counts in that bucket.
  auto i = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  ++x.duration_counts[static_cast<size_t>(i - bounds.begin())];
  x.duration_sum += seconds;
}

} // namespace booking
