#include "actors/log.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

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

} // namespace

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
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

void log_line(log_level level, const std::string& message,
              std::initializer_list<log_field> fields) {
  if (!log_enabled(level))
    return;
  std::string line = "{\"level\":\"";
  line += level_name(level);
  line += "\",\"time\":\"";
  line += rfc3339(std::chrono::system_clock::now());
  line += "\",\"message\":\"";
  line += json_escape(message);
  line += '"';
  for (auto& f : fields) {
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
  static std::mutex mtx;
  std::lock_guard<std::mutex> guard{mtx};
  std::fputs(line.c_str(), stderr);
}

} // namespace booking
