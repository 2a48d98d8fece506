#include "actors/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

namespace booking {

namespace {

std::atomic<int> min_level{static_cast<int>(log_level::info)};

const char* level_name(log_level x) {
  switch (x) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
    default:
      return "off";
  }
}

/// Lines waiting to be written. Info and debug lines are written by a
/// background thread every few milliseconds, so a busy engine does not pay
/// a system call per line; warnings and errors are written at once, after
/// everything before them.
struct log_buffer {
  std::mutex mtx;
  std::string pending;
  /// Held while writing, so that lines leave in the order they were logged.
  std::mutex write_mtx;
  /// The lines being written (under `write_mtx`). It swaps places with
  /// `pending`, so both keep their capacity: a busy engine logs megabytes
  /// a second, and a buffer grown from empty every flush cost reallocations
  /// and fresh pages.
  std::string writing;
};

/// Written this long after being logged, at the latest.
constexpr auto flush_interval = std::chrono::milliseconds(20);

/// Written at once when this many bytes are pending.
constexpr size_t flush_size = 64 * 1024;

log_buffer& buffer() {
  // Never destroyed: the flusher thread and atexit may use it during exit.
  static auto* b = new log_buffer;
  return *b;
}

void write_pending() {
  auto& b = buffer();
  std::lock_guard<std::mutex> writing{b.write_mtx};
  auto& out = b.writing;
  {
    std::lock_guard<std::mutex> guard{b.mtx};
    out.swap(b.pending);
  }
  if (out.empty())
    return;
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
  // Keeps its capacity for the next swap, unless a stalled stderr let it
  // grow far beyond a flush.
  if (out.capacity() > 4 * flush_size)
    out = std::string{};
  else
    out.clear();
}

void start_flusher() {
  std::atexit(flush_log);
  std::thread{[] {
    for (;;) {
      std::this_thread::sleep_for(flush_interval);
      write_pending();
    }
  }}.detach();
}

} // namespace

void flush_log() {
  write_pending();
}

void set_log_level(log_level x) {
  min_level = static_cast<int>(x);
}

bool log_enabled(log_level x) {
  return x != log_level::off && static_cast<int>(x) >= min_level.load();
}

std::string json_escape(const std::string& x) {
  std::string result;
  result.reserve(x.size());
  for (unsigned char c : x) {
    switch (c) {
      case '"':
        result += "\\\"";
        break;
      case '\\':
        result += "\\\\";
        break;
      case '\n':
        result += "\\n";
        break;
      case '\r':
        result += "\\r";
        break;
      case '\t':
        result += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          result += buf;
        } else {
          result += static_cast<char>(c);
        }
    }
  }
  return result;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  // Floor division: a time before 1970 has its milliseconds counted up
  // from the second before it, never negative (found by fuzz/codec_fuzz).
  auto rest = ms % 1000;
  if (rest < 0)
    rest += 1000;
  auto secs = static_cast<std::time_t>((ms - rest) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(rest));
  return buf;
}

void log_line(log_level level, const std::string& message,
              std::initializer_list<log_field> fields) {
  if (!log_enabled(level))
    return;
  std::string line;
  line.reserve(256); // most lines fit: one allocation, no regrowth
  line += "{\"level\":\"";
  line += level_name(level);
  line += "\",\"time\":\"";
  line += rfc3339(std::chrono::system_clock::now());
  line += "\",\"message\":\"";
  line += json_escape(message);
  line += '"';
  for (auto& f : fields) {
    if (f.key == nullptr)
      continue;
    line += ",\"";
    line += f.key;
    line += "\":";
    if (f.number) {
      line += f.value;
      continue;
    }
    line += '"';
    line += json_escape(f.value);
    line += '"';
  }
  line += "}\n";
  static std::once_flag flusher;
  std::call_once(flusher, start_flusher);
  auto& b = buffer();
  bool now = level >= log_level::warn;
  {
    std::lock_guard<std::mutex> guard{b.mtx};
    b.pending += line;
    now = now || b.pending.size() >= flush_size;
  }
  if (now)
    write_pending();
}

} // namespace booking
