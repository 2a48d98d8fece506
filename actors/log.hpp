// Structured logging: one JSON object per line on stderr.
//
// Every line has `level`, `time` and `message`; callers add fields such as
// `correlation_id` and `booking_id`. Never pass secrets or payment tokens.

#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "actors/messages/booking.hpp"

namespace booking {

/// Severity of a log line.
enum class log_level { debug, info, warn, error, off };

/// Lines below `x` are dropped (default: info).
void set_log_level(log_level x);

/// True if a line at `x` would be written.
bool log_enabled(log_level x);

/// A key and its value, written as a JSON string (or as a number, see
/// `log_number`).
struct log_field {
  /// Null: the field is left out of the line.
  const char* key;
  std::string value;
  bool number = false;
};

/// A field written as a JSON number.
inline log_field log_number(const char* key, int64_t x) {
  return {key, std::to_string(x), true};
}

/// The `trace_id` of a saga's trace context; left out when there is none.
inline log_field log_trace(const trace_context& x) {
  if (x.empty())
    return {nullptr, {}};
  return {"trace_id", x.trace_id()};
}

/// Writes one line if `level` is enabled. Info and debug lines reach stderr
/// within a few milliseconds (batched); warnings and errors at once.
void log_line(log_level level, const std::string& message,
              std::initializer_list<log_field> fields = {});

/// Writes every pending line now (also runs at exit).
void flush_log();

/// Escapes `x` for use inside a JSON string.
std::string json_escape(const std::string& x);

/// Formats a timestamp as RFC 3339 in UTC with milliseconds.
std::string rfc3339(std::chrono::system_clock::time_point t);

} // namespace booking
