#include "actors/codec/json_writer.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace booking {

struct json_writer::impl {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w{buf};
};

namespace {

rapidjson::SizeType size_of(const std::string& x) {
  return static_cast<rapidjson::SizeType>(x.size());
}

rapidjson::Type type_of(json_kind x) {
  switch (x) {
    case json_kind::null:
      return rapidjson::kNullType;
    case json_kind::number:
      return rapidjson::kNumberType;
    case json_kind::string:
      return rapidjson::kStringType;
    case json_kind::array:
      return rapidjson::kArrayType;
    case json_kind::object:
      break;
  }
  return rapidjson::kObjectType;
}

} // namespace

json_writer::json_writer(unsigned indent) : impl_(std::make_unique<impl>()) {
  impl_->w.SetIndent(' ', indent);
}

json_writer::~json_writer() = default;

void json_writer::begin_object() {
  impl_->w.StartObject();
}

void json_writer::end_object() {
  impl_->w.EndObject();
}

void json_writer::begin_array() {
  impl_->w.StartArray();
}

void json_writer::end_array() {
  impl_->w.EndArray();
}

void json_writer::key(const std::string& x) {
  impl_->w.Key(x.data(), size_of(x));
}

void json_writer::string(const std::string& x) {
  impl_->w.String(x.data(), size_of(x));
}

void json_writer::int64(int64_t x) {
  impl_->w.Int64(x);
}

void json_writer::uint64(uint64_t x) {
  impl_->w.Uint64(x);
}

void json_writer::boolean(bool x) {
  impl_->w.Bool(x);
}

void json_writer::null() {
  impl_->w.Null();
}

void json_writer::raw(const std::string& json, json_kind kind) {
  impl_->w.RawValue(json.data(), json.size(), type_of(kind));
}

std::string json_writer::str() const {
  return {impl_->buf.GetString(), impl_->buf.GetSize()};
}

} // namespace booking
