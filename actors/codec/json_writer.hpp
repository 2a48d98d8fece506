// A streaming JSON writer for documents that are not messages, such as the
// simulator's report. It keeps RapidJSON inside the codec layer: callers see
// only this class.
//
//   json_writer w{2};           // indent by two spaces
//   w.begin_object();
//   w.key("ok");
//   w.boolean(true);
//   w.end_object();
//   std::string text = w.str();

#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace booking {

/// The JSON type of a raw value.
enum class json_kind : uint8_t { null, number, string, array, object };

/// Writes one JSON document, pretty-printed.
class json_writer {
public:
  /// Indents nested values by `indent` spaces.
  explicit json_writer(unsigned indent = 2);

  ~json_writer();

  json_writer(const json_writer&) = delete;
  json_writer& operator=(const json_writer&) = delete;

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();

  /// The key of the next member of the current object.
  void key(const std::string& x);

  void string(const std::string& x);
  void int64(int64_t x);
  void uint64(uint64_t x);
  void boolean(bool x);
  void null();

  /// Writes `json`, a complete value of type `kind`, as is (e.g. a number
  /// with fixed decimals, or a small array kept on one line).
  void raw(const std::string& json, json_kind kind);

  /// The document written so far.
  std::string str() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace booking
