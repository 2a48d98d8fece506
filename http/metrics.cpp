#include "http/metrics.hpp"

#include <cstdio>

namespace booking {

namespace {

std::string escape_label(const std::string& x) {
  std::string out;
  out.reserve(x.size());
  for (char c : x) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", x);
  return buf;
}

void header(std::string& out, const char* name, const char* type,
            const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const std::string& name,
            const std::string& labels, const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

/// Writes the `_bucket`, `_sum` and `_count` samples of one histogram.
void histogram_samples(std::string& out, const std::string& name,
                       const std::string& labels,
                       const std::vector<double>& bounds,
                       const std::vector<int64_t>& counts, double sum) {
  auto prefix = labels.empty() ? std::string{} : labels + ",";
  int64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    auto le = i < bounds.size() ? number(bounds[i]) : std::string{"+Inf"};
    sample(out, name + "_bucket", prefix + "le=\"" + le + "\"",
           std::to_string(cumulative));
  }
  sample(out, name + "_sum", labels, number(sum));
  sample(out, name + "_count", labels, std::to_string(cumulative));
}

/// Writes a counter family keyed by one label.
void by_label(std::string& out, const char* name, const char* label,
              const std::map<std::string, int64_t>& values) {
  for (auto& [key, n] : values)
    sample(out, name, std::string{label} + "=\"" + escape_label(key) + "\"",
           std::to_string(n));
}

} // namespace

const std::vector<double>& http_duration_buckets() {
  static const std::vector<double> bounds{
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return bounds;
}

void http_metrics::record(const std::string& route, const std::string& method,
                          unsigned status, double seconds) {
  auto& bounds = http_duration_buckets();
  size_t bucket = 0;
  while (bucket < bounds.size() && seconds > bounds[bucket])
    ++bucket;
  std::lock_guard<std::mutex> guard{mtx_};
  ++requests_[std::make_tuple(route, method, status)];
  auto& h = durations_[route];
  if (h.counts.empty())
    h.counts.resize(bounds.size() + 1);
  ++h.counts[bucket];
  h.sum += seconds;
  ++h.total;
}

void http_metrics::render(std::string& out) const {
  std::lock_guard<std::mutex> guard{mtx_};
  header(out, "booking_http_requests_total", "counter",
         "HTTP requests by route template, method and status.");
  for (auto& [key, n] : requests_) {
    auto& [route, method, status] = key;
    sample(out, "booking_http_requests_total",
           "route=\"" + escape_label(route) + "\",method=\""
             + escape_label(method) + "\",status=\"" + std::to_string(status)
             + "\"",
           std::to_string(n));
  }
  header(out, "booking_http_request_duration_seconds", "histogram",
         "Time from a complete request to its response, by route template.");
  for (auto& [route, h] : durations_)
    histogram_samples(out, "booking_http_request_duration_seconds",
                      "route=\"" + escape_label(route) + "\"",
                      http_duration_buckets(), h.counts, h.sum);
}

std::string
render_metrics(const http_metrics& http, const saga_stats& sagas,
               const amqp_counters& amqp, const store_counters& store,
               const std::vector<std::pair<std::string, size_t>>& actors) {
  std::string out;
  out.reserve(8192);
  http.render(out);
  header(out, "booking_sagas_started_total", "counter",
         "Booking and cancellation sagas started.");
  sample(out, "booking_sagas_started_total", "", std::to_string(sagas.started));
  header(out, "booking_sagas_completed_total", "counter",
         "Sagas that reached an outcome, by outcome and failure reason.");
  for (auto& [key, n] : sagas.completed_by) {
    auto slash = key.find('/');
    auto outcome = key.substr(0, slash);
    auto reason = slash == std::string::npos ? std::string{"none"}
                                             : key.substr(slash + 1);
    sample(out, "booking_sagas_completed_total",
           "outcome=\"" + escape_label(outcome) + "\",reason=\""
             + escape_label(reason) + "\"",
           std::to_string(n));
  }
  header(out, "booking_saga_duration_seconds", "histogram",
         "Time from a saga's start to its outcome.");
  histogram_samples(out, "booking_saga_duration_seconds", "",
                    saga_duration_buckets(), sagas.duration_counts,
                    sagas.duration_sum);
  header(out, "booking_saga_compensations_total", "counter",
         "Compensations issued, by the step they undo.");
  by_label(out, "booking_saga_compensations_total", "step",
           sagas.compensations_by_step);
  header(out, "booking_saga_redrives_total", "counter",
         "Re-drives of compensation_failed bookings that reached an outcome, "
         "by it.");
  {
    // Every outcome a re-drive can reach, at 0 until it happens.
    auto redrives = sagas.redrives_by;
    for (auto outcome : {"failed", "cancelled", "compensation_failed"})
      redrives[outcome] += 0;
    by_label(out, "booking_saga_redrives_total", "outcome", redrives);
  }
  header(out, "booking_saga_retries_total", "counter",
         "Step attempts after the first, by step.");
  by_label(out, "booking_saga_retries_total", "step", sagas.retries_by_step);
  header(out, "booking_sagas_in_flight", "gauge",
         "Sagas running or being started.");
  sample(out, "booking_sagas_in_flight", "",
         std::to_string(sagas.in_flight + sagas.starting));
  header(out, "booking_sagas_in_flight_by_version", "gauge",
         "Sagas running, by saga and table version.");
  for (auto& [key, n] : sagas.in_flight_by_version) {
    auto slash = key.find('/');
    sample(out, "booking_sagas_in_flight_by_version",
           "saga=\"" + escape_label(key.substr(0, slash)) + "\",version=\""
             + escape_label(slash == std::string::npos ? std::string{}
                                                       : key.substr(slash + 1))
             + "\"",
           std::to_string(n));
  }
  struct amqp_family {
    const char* name;
    const char* type;
    const char* help;
    int64_t value;
  };
  const amqp_family families[] = {
    {"booking_amqp_published_total", "counter", "Events published.",
     amqp.published},
    {"booking_amqp_confirmed_total", "counter", "Events the broker confirmed.",
     amqp.confirmed},
    {"booking_amqp_nacked_total", "counter", "Events the broker nacked.",
     amqp.nacked},
    {"booking_amqp_returned_total", "counter", "Events returned as unroutable.",
     amqp.returned},
    {"booking_amqp_consumed_total", "counter", "Messages consumed.",
     amqp.consumed},
    {"booking_amqp_acked_total", "counter", "Messages acknowledged.",
     amqp.acked},
    {"booking_amqp_rejected_total", "counter", "Messages rejected.",
     amqp.rejected},
    {"booking_amqp_dead_lettered_total", "counter",
     "Messages sent to a dead-letter queue.", amqp.dead_lettered},
    {"booking_amqp_outbox_backlog", "gauge",
     "Events waiting for the broker's confirm.", amqp.outbox_backlog},
    {"booking_amqp_reconnects_total", "counter", "Reconnections to the broker.",
     amqp.reconnects},
    {"booking_store_commits_total", "counter",
     "Transactions the durable store committed.", store.commits},
    {"booking_store_batches_total", "counter",
     "Changes those transactions wrote (group commit: several per commit).",
     store.batches},
    {"booking_store_up", "gauge",
     "1 while the durable store can write, 0 once a write failed.",
     store.up ? 1 : 0},
    {"booking_store_cached_bookings", "gauge",
     "Bookings held in memory: those with a saga in flight and the most "
     "recently used finished ones (store.cache-bookings).",
     store.cached_bookings},
    {"booking_sagas_suspended", "gauge",
     "Sagas in the store whose table version this release lacks: left as "
     "they are, resumed by a release that has it.",
     store.suspended_sagas},
    {"booking_store_sqlite_memory_bytes", "gauge",
     "Heap SQLite holds, its page cache (16 MiB at most) included, after the "
     "last commit.",
     store.sqlite_memory_bytes},
  };
  for (auto& f : families) {
    header(out, f.name, f.type, f.help);
    sample(out, f.name, "", std::to_string(f.value));
  }
  header(out, "booking_amqp_outbox_lag_seconds", "gauge",
         "Age of the oldest event the broker has not confirmed.");
  sample(out, "booking_amqp_outbox_lag_seconds", "",
         number(amqp.outbox_lag_seconds));
  header(out, "booking_actors", "gauge", "Actors per role.");
  for (auto& [role, n] : actors)
    sample(out, "booking_actors", "role=\"" + escape_label(role) + "\"",
           std::to_string(n));
  return out;
}

} // namespace booking
