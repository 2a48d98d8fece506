// RapidJSON helpers shared by the codec layer's files (HTTP bodies,
// CloudEvents, the message codec), so all of them parse with the same
// safety flags and read and write members, nulls and times the same way.
// Internal to the codec layer: no header outside `actors/codec/` includes
// it, and no public codec header does.

#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <caf/timestamp.hpp>

#include "actors/log.hpp"

namespace booking::json {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Parse flags for untrusted input: iterative, so deep nesting cannot
/// overflow the stack; validated, so every string kept and echoed is UTF-8.
constexpr unsigned parse_flags = rapidjson::kParseIterativeFlag
                                 | rapidjson::kParseValidateEncodingFlag;

/// True if no string of `v` (member names included) holds a surrogate code
/// point. RapidJSON 1.1.0 validates the bytes of the text but turns a lone
/// `\udc00` escape into the bytes of a surrogate, which is not UTF-8
/// (found by fuzz/codec_fuzz); a document with one is refused like
/// malformed JSON. Iterative, as the parse is: deep nesting cannot
/// overflow the stack.
inline bool surrogate_free(const rapidjson::Value& root) {
  auto clean = [](const rapidjson::Value& s) {
    auto p = reinterpret_cast<const unsigned char*>(s.GetString());
    auto n = s.GetStringLength();
    for (rapidjson::SizeType i = 0; i + 1 < n; ++i)
      if (p[i] == 0xED && p[i + 1] >= 0xA0)
        return false;
    return true;
  };
  std::vector<const rapidjson::Value*> todo{&root};
  while (!todo.empty()) {
    auto v = todo.back();
    todo.pop_back();
    if (v->IsString() && !clean(*v))
      return false;
    if (v->IsArray())
      for (auto& x : v->GetArray())
        todo.push_back(&x);
    if (v->IsObject())
      for (auto& m : v->GetObject()) {
        if (!clean(m.name))
          return false;
        todo.push_back(&m.value);
      }
  }
  return true;
}

/// The member `name` of `obj`, or null if it is absent or JSON null.
inline const rapidjson::Value* member(const rapidjson::Value& obj,
                                      const char* name) {
  auto i = obj.FindMember(name);
  if (i == obj.MemberEnd() || i->value.IsNull())
    return nullptr;
  return &i->value;
}

/// Writes `key` and the string `x`.
inline void put(writer& w, const char* key, const std::string& x) {
  w.Key(key);
  w.String(x.data(), static_cast<rapidjson::SizeType>(x.size()));
}

/// Writes `key` and `x`, or null if `x` is empty.
inline void put_or_null(writer& w, const char* key, const std::string& x) {
  w.Key(key);
  if (x.empty())
    w.Null();
  else
    w.String(x.data(), static_cast<rapidjson::SizeType>(x.size()));
}

/// A CAF timestamp as a system clock time point.
inline std::chrono::system_clock::time_point to_system(caf::timestamp t) {
  return std::chrono::system_clock::time_point{
    std::chrono::duration_cast<std::chrono::system_clock::duration>(
      t.time_since_epoch())};
}

/// Writes `key` and `t` as RFC 3339.
inline void put_time(writer& w, const char* key, caf::timestamp t) {
  put(w, key, rfc3339(to_system(t)));
}

} // namespace booking::json
