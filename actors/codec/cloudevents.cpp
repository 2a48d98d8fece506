#include "actors/codec/cloudevents.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/codec/detail/json.hpp"
#include "actors/codec/json_codec.hpp"
#include "actors/log.hpp"

namespace booking {

namespace {

using json::member;
using json::put;
using json::put_or_null;
using json::put_time;
using json::writer;
using value = rapidjson::Value;

constexpr const char* specversion = "1.0";
constexpr const char* data_content_type = "application/json";

// -- time ---------------------------------------------------------------------

/// Days from 1970-01-01 to a civil date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  auto era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = y - era * 400;
  auto doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`.
bool parse_rfc3339(const std::string& x, caf::timestamp& out) {
  auto number = [&](size_t pos, size_t len, int64_t& result) {
    if (pos + len > x.size())
      return false;
    result = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (x[i] < '0' || x[i] > '9')
        return false;
      result = result * 10 + (x[i] - '0');
    }
    return true;
  };
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (x.size() < 20 || !is_date(x.substr(0, 10)) || !number(0, 4, y)
      || !number(5, 2, mo) || !number(8, 2, d) || (x[10] != 'T' && x[10] != 't')
      || !number(11, 2, h) || x[13] != ':' || !number(14, 2, mi) || x[16] != ':'
      || !number(17, 2, s) || h > 23 || mi > 59 || s > 60)
    return false;
  size_t pos = 19;
  int64_t nanos = 0;
  if (x[pos] == '.') {
    size_t digits = 0;
    for (++pos; pos < x.size() && x[pos] >= '0' && x[pos] <= '9'; ++pos)
      if (digits++ < 9)
        nanos = nanos * 10 + (x[pos] - '0');
    if (digits == 0)
      return false;
    for (; digits < 9; ++digits)
      nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < x.size() && (x[pos] == 'Z' || x[pos] == 'z')) {
    ++pos;
  } else if (pos < x.size() && (x[pos] == '+' || x[pos] == '-')) {
    int64_t oh = 0, om = 0;
    if (!number(pos + 1, 2, oh) || x.size() <= pos + 3 || x[pos + 3] != ':'
        || !number(pos + 4, 2, om) || oh > 23 || om > 59)
      return false;
    offset = (oh * 60 + om) * 60 * (x[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != x.size())
    return false;
  // A leap second (:60) counts as the next second, as POSIX time does.
  auto secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
              - offset;
  // Timestamps count nanoseconds in 64 bits: 1677-09-21 to 2262-04-11.
  // A time outside that range is refused, not wrapped around.
  constexpr int64_t limit = std::numeric_limits<int64_t>::max() / 1000000000;
  if (secs <= -limit || secs >= limit)
    return false;
  out = caf::timestamp{std::chrono::duration_cast<caf::timestamp::duration>(
    std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos))};
  return true;
}

// -- writing ------------------------------------------------------------------

/// Writes the envelope up to and including the `data` key.
void open_envelope(writer& w, const std::string& id, const std::string& type,
                   caf::timestamp time, const std::string& subject,
                   const std::string& node_id,
                   const std::string& traceparent = {}) {
  w.StartObject();
  put(w, "specversion", specversion);
  put(w, "id", id);
  put(w, "source", source_of(node_id));
  put(w, "type", type);
  put_time(w, "time", time);
  // CloudEvents forbids an empty subject; leave it out instead.
  if (!subject.empty())
    put(w, "subject", subject);
  put(w, "datacontenttype", data_content_type);
  put(w, "dataschema", dataschema_of(type));
  // The distributed-tracing extension attribute.
  if (!traceparent.empty())
    put(w, "traceparent", traceparent);
  w.Key("data");
}

std::string text(const rapidjson::StringBuffer& buf) {
  return {buf.GetString(), buf.GetSize()};
}

// -- reading ------------------------------------------------------------------

/// The envelope attributes of a CloudEvent.
struct envelope {
  std::string id;
  std::string source;
  std::string type;
  std::string subject;
  std::string dataschema;
  std::string traceparent;
  caf::timestamp time;
  const value* data = nullptr;
};

/// Why a body is not the CloudEvent we expect: the attribute at fault and
/// what is wrong with it.
struct fault {
  std::string field;
  std::string message;

  std::string text() const {
    return field + " " + message;
  }
};

/// Properties of a message the engine publishes: persistent, `message_id`
/// = the event id, with its correlation id, type and time.
message_properties
published_properties(const std::string& id, const std::string& correlation_id,
                     const std::string& type, caf::timestamp time,
                     const std::string& traceparent = {}) {
  message_properties result;
  result.message_id = id;
  result.correlation_id = correlation_id;
  result.type = type;
  result.timestamp
    = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch())
        .count();
  if (!traceparent.empty())
    result.headers.emplace_back("traceparent", traceparent);
  return result;
}

/// The value of header `name`, or empty.
std::string header_of(const message_properties& props, const char* name) {
  for (auto& [k, v] : props.headers)
    if (k == name)
      return v;
  return {};
}

/// Parses `body` into `doc`, which must hold one JSON object.
bool parse_object(const std::string& body, rapidjson::Document& doc,
                  fault& err) {
  doc.Parse<json::parse_flags>(body.data(), body.size());
  if (doc.HasParseError()) {
    err = {"body", std::string{"is not JSON: "}
                     + rapidjson::GetParseError_En(doc.GetParseError())
                     + " at offset " + std::to_string(doc.GetErrorOffset())};
    return false;
  }
  if (!json::surrogate_free(doc)) {
    err = {"body", "is not JSON: a \\u escape names a lone surrogate"};
    return false;
  }
  if (!doc.IsObject()) {
    err = {"body", "must be a JSON object (a CloudEvent)"};
    return false;
  }
  return true;
}

/// Reads an optional string member; false if present but not a string.
bool optional_string(const value& obj, const char* name, std::string& out) {
  auto v = member(obj, name);
  if (v == nullptr)
    return true;
  if (!v->IsString())
    return false;
  out.assign(v->GetString(), v->GetStringLength());
  return true;
}

/// Reads a required, non-empty string attribute.
bool required_string(const value& obj, const char* name, std::string& out,
                     fault& err) {
  auto v = member(obj, name);
  if (v == nullptr || !v->IsString() || v->GetStringLength() == 0) {
    err = {name, "is required (a non-empty string)"};
    return false;
  }
  out.assign(v->GetString(), v->GetStringLength());
  return true;
}

/// `application/json`, possibly with parameters (`; charset=utf-8`).
bool is_json_media_type(const std::string& x) {
  std::string json = data_content_type;
  return x.compare(0, json.size(), json) == 0
         && (x.size() == json.size() || x[json.size()] == ';'
             || x[json.size()] == ' ');
}

/// Reads the envelope of a CloudEvent 1.0 in structured mode whose `data`
/// is a JSON object.
bool read_envelope(const value& doc, envelope& out, fault& err) {
  auto version = member(doc, "specversion");
  if (version == nullptr || !version->IsString()
      || std::string{version->GetString()} != specversion) {
    err = {"specversion", "must be \"1.0\" (a CloudEvent)"};
    return false;
  }
  if (!required_string(doc, "id", out.id, err)
      || !required_string(doc, "source", out.source, err)
      || !required_string(doc, "type", out.type, err))
    return false;
  if (!optional_string(doc, "subject", out.subject)) {
    err = {"subject", "must be a string"};
    return false;
  }
  std::string time;
  if (!optional_string(doc, "time", time)
      || (!time.empty() && !parse_rfc3339(time, out.time))) {
    err = {"time", "must be an RFC 3339 timestamp"};
    return false;
  }
  // Structured mode without `datacontenttype` means JSON data.
  std::string content_type;
  if (!optional_string(doc, "datacontenttype", content_type)
      || (!content_type.empty() && !is_json_media_type(content_type))) {
    err = {"datacontenttype", "must be \"application/json\""};
    return false;
  }
  if (!optional_string(doc, "dataschema", out.dataschema)) {
    err = {"dataschema", "must be a string"};
    return false;
  }
  if (!optional_string(doc, "traceparent", out.traceparent)) {
    err = {"traceparent", "must be a string"};
    return false;
  }
  out.data = member(doc, "data");
  if (out.data == nullptr) {
    err = {"data", "is required"};
    return false;
  }
  if (!out.data->IsObject()) {
    err = {"data", "must be a JSON object"};
    return false;
  }
  return true;
}

/// Reads the `data` of a domain event; absent fields keep their defaults.
bool read_event_data(const value& data, domain_event& out, fault& err) {
  struct text_field {
    const char* name;
    std::string* out;
  };
  for (auto f :
       {text_field{"booking_id", &out.booking_id},
        text_field{"tour_id", &out.tour_id}, text_field{"date", &out.date},
        text_field{"currency", &out.currency},
        text_field{"customer_email", &out.customer_email},
        text_field{"status", &out.status}, text_field{"reason", &out.reason},
        text_field{"kind", &out.kind}, text_field{"channel", &out.channel}}) {
    if (!optional_string(data, f.name, *f.out)) {
      err = {std::string{"data."} + f.name, "must be a string"};
      return false;
    }
  }
  if (auto v = member(data, "seats"); v != nullptr) {
    if (!v->IsInt()) {
      err = {"data.seats", "must be an integer"};
      return false;
    }
    out.seats = v->GetInt();
  }
  if (auto v = member(data, "amount_cents"); v != nullptr) {
    if (!v->IsInt64()) {
      err = {"data.amount_cents", "must be an integer"};
      return false;
    }
    out.amount_cents = v->GetInt64();
  }
  return true;
}

/// Checks the schema version once the type is known to be the expected one:
/// a breaking change gets a new version, which this codec cannot read.
bool known_version(const envelope& env, fault& err) {
  if (env.dataschema.empty() || env.dataschema == dataschema_of(env.type))
    return true;
  err = {"dataschema", "must be \"" + dataschema_of(env.type) + "\""};
  return false;
}

void set_error(std::string* error, const fault& err) {
  if (error != nullptr)
    *error = err.text();
}

std::string join_fields(const std::vector<field_error>& errors) {
  std::string result;
  for (auto& e : errors) {
    if (!result.empty())
      result += "; ";
    result += e.field + " " + e.message;
  }
  return result;
}

} // namespace

// -- properties ---------------------------------------------------------------

message_properties properties_for(const domain_event& x) {
  return published_properties(x.id, x.correlation_id, x.type, x.time,
                              x.traceparent);
}

// -- domain events ------------------------------------------------------------

bool has_codec(const std::string& type) {
  return find_event(type) != nullptr || type == intake_type
         || type == rejected_type;
}

bool carries_reason(const std::string& type) {
  auto s = find_event(type);
  return s != nullptr && s->carries_reason;
}

std::string source_of(const std::string& node_id) {
  return "/booking-engine/" + node_id;
}

std::string encode_event(const domain_event& x, const std::string& node_id) {
  auto s = find_event(x.type);
  rapidjson::StringBuffer buf;
  writer w{buf};
  open_envelope(w, x.id, x.type, x.time, x.booking_id, node_id, x.traceparent);
  w.StartObject();
  put(w, "booking_id", x.booking_id);
  put(w, "tour_id", x.tour_id);
  put(w, "date", x.date);
  w.Key("seats");
  w.Int(x.seats);
  w.Key("amount_cents");
  w.Int64(x.amount_cents);
  put(w, "currency", x.currency);
  put(w, "customer_email", x.customer_email);
  put(w, "status", x.status);
  if (s != nullptr && s->carries_reason)
    put_or_null(w, "reason", x.reason);
  if (s != nullptr && s->carries_notification) {
    put(w, "kind", x.kind);
    put(w, "channel", x.channel);
  }
  w.EndObject();
  w.EndObject();
  return text(buf);
}

std::optional<domain_event> decode_event(const std::string& body,
                                         const message_properties& props,
                                         std::string* error) {
  rapidjson::Document doc;
  fault err;
  envelope env;
  if (!parse_object(body, doc, err) || !read_envelope(doc, env, err)) {
    set_error(error, err);
    return std::nullopt;
  }
  if (find_event(env.type) == nullptr) {
    set_error(error, {"type", "is not an event type: " + env.type});
    return std::nullopt;
  }
  if (!known_version(env, err)) {
    set_error(error, err);
    return std::nullopt;
  }
  domain_event result;
  result.id = std::move(env.id);
  result.type = std::move(env.type);
  result.time = env.time;
  result.correlation_id = props.correlation_id;
  result.traceparent = !env.traceparent.empty()
                         ? std::move(env.traceparent)
                         : header_of(props, "traceparent");
  if (!read_event_data(*env.data, result, err)) {
    set_error(error, err);
    return std::nullopt;
  }
  if (result.booking_id.empty())
    result.booking_id = std::move(env.subject);
  return result;
}

// -- intake -------------------------------------------------------------------

std::string to_string(intake_outcome x) {
  switch (x) {
    case intake_outcome::ok:
      return "ok";
    case intake_outcome::invalid:
      return "invalid";
    default:
      return "malformed";
  }
}

intake_outcome
decode_intake(const std::string& body, const message_properties& props,
              booking_request& out, std::vector<field_error>& errors,
              std::string& reason) {
  errors.clear();
  reason.clear();
  auto malformed = [&](const fault& err) {
    errors.push_back({err.field, err.message});
    reason = "malformed intake message: " + err.text();
    return intake_outcome::malformed;
  };
  rapidjson::Document doc;
  fault err;
  envelope env;
  if (!parse_object(body, doc, err) || !read_envelope(doc, env, err))
    return malformed(err);
  if (env.type != intake_type)
    return malformed({"type", std::string{"must be \""} + intake_type + "\""});
  if (!known_version(env, err))
    return malformed(err);
  // Without it, a redelivery could not be told from a new booking.
  if (props.message_id.empty())
    return malformed({"message_id", "is required (the idempotency key)"});
  // The data is validated by the HTTP body's own parser, so both edges
  // accept exactly the same requests and name fields the same way.
  rapidjson::StringBuffer buf;
  writer w{buf};
  env.data->Accept(w);
  problem p;
  if (!parse_booking_request(text(buf), out, p)) {
    if (p.errors.empty())
      return malformed({"data", p.detail});
    errors = std::move(p.errors);
    reason = "invalid booking request: " + join_fields(errors);
    return intake_outcome::invalid;
  }
  out.correlation_id = !props.correlation_id.empty() ? props.correlation_id
                                                     : props.message_id;
  // The trace context of the AMQP header, else of the CloudEvent's
  // attribute; a new one when neither is valid.
  auto header = trace_context::parse(header_of(props, "traceparent"));
  out.trace = !header.empty() ? header
                              : trace_context::parse_or_make(env.traceparent);
  return intake_outcome::ok;
}

std::string encode_intake(const booking_request& request,
                          const std::string& event_id,
                          const std::string& source) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  put(w, "specversion", specversion);
  put(w, "id", event_id);
  put(w, "source", source);
  put(w, "type", intake_type);
  put(w, "time", rfc3339(std::chrono::system_clock::now()));
  put(w, "datacontenttype", data_content_type);
  put(w, "dataschema", dataschema_of(intake_type));
  if (!request.trace.empty())
    put(w, "traceparent", request.trace.text());
  w.Key("data");
  w.StartObject();
  put(w, "tour_id", request.tour_id);
  put(w, "date", request.date);
  w.Key("seats");
  w.Int(request.seats);
  w.Key("customer");
  w.StartObject();
  put(w, "name", request.cust.name);
  put(w, "email", request.cust.email);
  if (!request.cust.phone.empty())
    put(w, "phone", request.cust.phone);
  w.EndObject();
  w.Key("payment");
  w.StartObject();
  put(w, "token", request.payment_token);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return text(buf);
}

// -- rejections ---------------------------------------------------------------

rejection make_rejection(std::string message_id, std::string correlation_id,
                         std::vector<field_error> errors) {
  rejection result;
  result.id = new_booking_id();
  result.time = caf::make_timestamp();
  result.message_id = std::move(message_id);
  result.correlation_id = std::move(correlation_id);
  result.errors = std::move(errors);
  return result;
}

std::string encode_rejected(const rejection& x, const std::string& node_id) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  open_envelope(w, x.id, rejected_type, x.time, x.message_id, node_id);
  w.StartObject();
  put_or_null(w, "message_id", x.message_id);
  w.Key("errors");
  w.StartArray();
  for (auto& e : x.errors) {
    w.StartObject();
    put(w, "field", e.field);
    put(w, "message", e.message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return text(buf);
}

message_properties properties_for(const rejection& x) {
  return published_properties(x.id, x.correlation_id, rejected_type, x.time);
}

std::optional<rejection> decode_rejected(const std::string& body,
                                         const message_properties& props,
                                         std::string* error) {
  rapidjson::Document doc;
  fault err;
  envelope env;
  if (!parse_object(body, doc, err) || !read_envelope(doc, env, err)) {
    set_error(error, err);
    return std::nullopt;
  }
  if (env.type != rejected_type) {
    set_error(error,
              {"type", std::string{"must be \""} + rejected_type + "\""});
    return std::nullopt;
  }
  if (!known_version(env, err)) {
    set_error(error, err);
    return std::nullopt;
  }
  rejection result;
  result.id = std::move(env.id);
  result.time = env.time;
  result.correlation_id = props.correlation_id;
  if (!optional_string(*env.data, "message_id", result.message_id)) {
    set_error(error, {"data.message_id", "must be a string"});
    return std::nullopt;
  }
  auto errors = member(*env.data, "errors");
  if (errors == nullptr || !errors->IsArray()) {
    set_error(error, {"data.errors", "must be an array"});
    return std::nullopt;
  }
  for (auto& e : errors->GetArray()) {
    field_error fe;
    if (!e.IsObject() || !optional_string(e, "field", fe.field)
        || !optional_string(e, "message", fe.message)) {
      set_error(error, {"data.errors", "must hold {field, message} objects"});
      return std::nullopt;
    }
    result.errors.push_back(std::move(fe));
  }
  return result;
}

} // namespace booking
