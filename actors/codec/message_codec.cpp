#include "actors/codec/message_codec.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <type_traits>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/message_builder.hpp>
#include <caf/timespan.hpp>
#include <caf/timestamp.hpp>

#include "actors/codec/detail/json.hpp"

namespace booking {

namespace {

using json::writer;
using value = rapidjson::Value;

// -- the fields of each struct ------------------------------------------------

// One list per struct, in the order of its `inspect`; the JSON member names
// are the field names (`cust` is written `customer`, as in the HTTP API).
// The round-trip test fails if a field is missing here.

template <class F>
void fields(F& f, customer& x) {
  f("name", x.name);
  f("email", x.email);
  f("phone", x.phone);
}

template <class F>
void fields(F& f, booking_request& x) {
  f("id", x.id);
  f("tour_id", x.tour_id);
  f("date", x.date);
  f("seats", x.seats);
  f("customer", x.cust);
  f("payment_token", x.payment_token);
  f("correlation_id", x.correlation_id);
  f("reply_to", x.reply_to);
  f("traceparent", x.trace);
}

template <class F>
void fields(F& f, saga_entry& x) {
  f("step", x.step);
  f("action", x.action);
  f("outcome", x.outcome);
  f("attempt", x.attempt);
  f("at", x.at);
  f("error", x.error);
}

template <class F>
void fields(F& f, booking_record& x) {
  f("id", x.id);
  f("status", x.status);
  f("reason", x.reason);
  f("tour_id", x.tour_id);
  f("date", x.date);
  f("seats", x.seats);
  f("amount_cents", x.amount_cents);
  f("currency", x.currency);
  f("customer", x.cust);
  f("correlation_id", x.correlation_id);
  f("created_at", x.created_at);
  f("updated_at", x.updated_at);
  f("saga", x.saga);
}

template <class F>
void fields(F& f, booking_update& x) {
  f("id", x.id);
  f("has_status", x.has_status);
  f("status", x.status);
  f("reason", x.reason);
  f("entries", x.entries);
  f("checkpoint", x.checkpoint);
  f("events", x.events);
}

template <class F>
void fields(F& f, booking_filter& x) {
  f("status", x.status);
  f("tour_id", x.tour_id);
  f("email", x.email);
  f("after_id", x.after_id);
  f("limit", x.limit);
}

template <class F>
void fields(F& f, booking_page& x) {
  f("items", x.items);
  f("next_cursor", x.next_cursor);
}

template <class F>
void fields(F& f, booking_summary& x) {
  f("by_status", x.by_status);
}

template <class F>
void fields(F& f, departure& x) {
  f("date", x.date);
  f("capacity", x.capacity);
}

template <class F>
void fields(F& f, tour& x) {
  f("id", x.id);
  f("name", x.name);
  f("price_cents", x.price_cents);
  f("currency", x.currency);
  f("departures", x.departures);
}

template <class F>
void fields(F& f, seat_hold& x) {
  f("booking_id", x.booking_id);
  f("tour_id", x.tour_id);
  f("date", x.date);
  f("seats", x.seats);
  f("sold", x.sold);
}

template <class F>
void fields(F& f, departure_counts& x) {
  f("tour_id", x.tour_id);
  f("date", x.date);
  f("capacity", x.capacity);
  f("held", x.held);
  f("sold", x.sold);
}

template <class F>
void fields(F& f, inventory_snapshot& x) {
  f("departures", x.departures);
  f("holds", x.holds);
}

template <class F>
void fields(F& f, quote& x) {
  f("amount_cents", x.amount_cents);
  f("currency", x.currency);
}

template <class F>
void fields(F& f, availability_view& x) {
  f("tour_id", x.tour_id);
  f("dates", x.dates);
}

template <class F>
void fields(F& f, payment_request& x) {
  f("booking_id", x.booking_id);
  f("amount_cents", x.amount_cents);
  f("currency", x.currency);
  f("token", x.token);
}

template <class F>
void fields(F& f, payment_intent& x) {
  f("booking_id", x.booking_id);
  f("state", x.state);
  f("authorized_cents", x.authorized_cents);
  f("captured_cents", x.captured_cents);
  f("refunded_cents", x.refunded_cents);
}

template <class F>
void fields(F& f, notification_request& x) {
  f("booking_id", x.booking_id);
  f("kind", x.kind);
  f("to", x.to);
  f("customer_name", x.customer_name);
  f("tour_id", x.tour_id);
  f("date", x.date);
  f("seats", x.seats);
  f("amount_cents", x.amount_cents);
  f("currency", x.currency);
  f("reason", x.reason);
  f("settled", x.settled);
  f("correlation_id", x.correlation_id);
  f("traceparent", x.trace);
}

template <class F>
void fields(F& f, notification_record& x) {
  f("id", x.id);
  f("booking_id", x.booking_id);
  f("kind", x.kind);
  f("channel", x.channel);
  f("to", x.to);
  f("subject", x.subject);
  f("body", x.body);
  f("status", x.status);
  f("attempts", x.attempts);
  f("created_at", x.created_at);
}

template <class F>
void fields(F& f, notification_filter& x) {
  f("booking_id", x.booking_id);
  f("email", x.email);
  f("after_id", x.after_id);
  f("limit", x.limit);
}

template <class F>
void fields(F& f, domain_event& x) {
  f("id", x.id);
  f("type", x.type);
  f("time", x.time);
  f("correlation_id", x.correlation_id);
  f("booking_id", x.booking_id);
  f("tour_id", x.tour_id);
  f("date", x.date);
  f("seats", x.seats);
  f("amount_cents", x.amount_cents);
  f("currency", x.currency);
  f("customer_email", x.customer_email);
  f("status", x.status);
  f("reason", x.reason);
  f("kind", x.kind);
  f("channel", x.channel);
  f("reply_to", x.reply_to);
  f("traceparent", x.traceparent);
}

template <class F>
void fields(F& f, saga_checkpoint& x) {
  f("key", x.key);
  f("done", x.done);
  f("cancellation", x.cancellation);
  f("req", x.req);
  f("amount_cents", x.amount_cents);
  f("currency", x.currency);
  f("version", x.version);
  f("phase", x.phase);
  f("step", x.step);
  f("attempt", x.attempt);
  f("to_compensate", x.to_compensate);
  f("compensation_failed", x.compensation_failed);
  f("reason", x.reason);
  f("outcome", x.outcome);
  f("retry_at", x.retry_at);
  f("gave_up", x.gave_up);
  f("redrive", x.redrive);
}

template <class F>
void fields(F& f, gave_up_step& x) {
  f("step", x.step);
  f("attempts", x.attempts);
}

template <class F>
void fields(F& f, saga_stats& x) {
  f("started", x.started);
  f("in_flight", x.in_flight);
  f("completed", x.completed);
  f("retries", x.retries);
  f("compensations", x.compensations);
  f("uncertain_resolved", x.uncertain_resolved);
  f("starting", x.starting);
  f("completed_by", x.completed_by);
  f("redrives_by", x.redrives_by);
  f("compensations_by_step", x.compensations_by_step);
  f("retries_by_step", x.retries_by_step);
  f("in_flight_by_version", x.in_flight_by_version);
  f("started_by_version", x.started_by_version);
  f("duration_counts", x.duration_counts);
  f("duration_sum", x.duration_sum);
}

// -- writing ------------------------------------------------------------------

template <class T>
struct is_message_struct : std::false_type {};

#define BOOKING_IS_STRUCT(type)                                                \
  template <>                                                                  \
  struct is_message_struct<type> : std::true_type {};
BOOKING_MESSAGE_TYPES(BOOKING_IS_STRUCT)
#undef BOOKING_IS_STRUCT

void put(writer& w, const std::string& x) {
  w.String(x.data(), static_cast<rapidjson::SizeType>(x.size()));
}

void put(writer& w, bool x) {
  w.Bool(x);
}

void put(writer& w, int32_t x) {
  w.Int(x);
}

void put(writer& w, int64_t x) {
  w.Int64(x);
}

void put(writer& w, uint64_t x) {
  w.Uint64(x);
}

void put(writer& w, uint8_t x) {
  w.Uint(x);
}

void put(writer& w, double x) {
  // JSON has no NaN or infinity; they travel as null and come back as NaN.
  if (std::isfinite(x))
    w.Double(x);
  else
    w.Null();
}

// A trace context travels as its `traceparent` text, null when empty.
void put(writer& w, const trace_context& x) {
  if (x.empty()) {
    w.Null();
    return;
  }
  auto text = x.text();
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void put(writer& w, caf::timestamp x) {
  w.Int64(x.time_since_epoch().count());
}

void put(writer& w, caf::timespan x) {
  w.Int64(x.count());
}

template <class E>
std::enable_if_t<std::is_enum<E>::value> put(writer& w, E x) {
  put(w, to_string(x));
}

void put(writer& w, caf::atom_value x) {
  put(w, caf::to_string(x));
}

void put(writer& w, const caf::error& x);

template <class T>
void put(writer& w, const std::vector<T>& xs);

template <class T>
void put(writer& w, const caf::optional<T>& x);

void put(writer& w, const std::map<std::string, int64_t>& xs);

template <class T>
std::enable_if_t<is_message_struct<T>::value> put(writer& w, const T& x);

template <class T>
void put(writer& w, const std::vector<T>& xs) {
  w.StartArray();
  for (auto& x : xs)
    put(w, x);
  w.EndArray();
}

template <class T>
void put(writer& w, const caf::optional<T>& x) {
  if (x)
    put(w, *x);
  else
    w.Null();
}

void put(writer& w, const std::map<std::string, int64_t>& xs) {
  w.StartObject();
  for (auto& [key, n] : xs) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.Int64(n);
  }
  w.EndObject();
}

struct field_writer {
  writer& w;

  template <class T>
  void operator()(const char* name, const T& x) {
    w.Key(name);
    put(w, x);
  }
};

template <class T>
std::enable_if_t<is_message_struct<T>::value> put(writer& w, const T& x) {
  w.StartObject();
  field_writer f{w};
  // `fields` takes a mutable reference so that one list serves both ways.
  fields(f, const_cast<T&>(x));
  w.EndObject();
}

template <class T>
std::string write_json(const T& x) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  put(w, x);
  return {buf.GetString(), buf.GetSize()};
}

// -- reading ------------------------------------------------------------------

/// Reads values, keeping the path of the one being read for errors.
struct reader {
  std::string path;
  std::string error;

  bool fail(const std::string& what) {
    if (error.empty())
      error = (path.empty() ? std::string{"value"} : path) + ": " + what;
    return false;
  }
};

bool get(reader& r, const value& v, std::string& x) {
  if (!v.IsString())
    return r.fail("expected a string");
  x.assign(v.GetString(), v.GetStringLength());
  return true;
}

bool get(reader& r, const value& v, bool& x) {
  if (!v.IsBool())
    return r.fail("expected true or false");
  x = v.GetBool();
  return true;
}

bool get(reader& r, const value& v, int32_t& x) {
  if (!v.IsInt())
    return r.fail("expected a 32-bit integer");
  x = v.GetInt();
  return true;
}

bool get(reader& r, const value& v, int64_t& x) {
  if (!v.IsInt64())
    return r.fail("expected a 64-bit integer");
  x = v.GetInt64();
  return true;
}

bool get(reader& r, const value& v, uint64_t& x) {
  if (!v.IsUint64())
    return r.fail("expected an unsigned 64-bit integer");
  x = v.GetUint64();
  return true;
}

bool get(reader& r, const value& v, uint8_t& x) {
  if (!v.IsUint() || v.GetUint() > 255)
    return r.fail("expected an integer from 0 to 255");
  x = static_cast<uint8_t>(v.GetUint());
  return true;
}

bool get(reader& r, const value& v, double& x) {
  if (v.IsNull()) {
    x = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!v.IsNumber())
    return r.fail("expected a number");
  x = v.GetDouble();
  return true;
}

bool get(reader& r, const value& v, trace_context& x) {
  if (v.IsNull()) {
    x = trace_context{};
    return true;
  }
  if (!v.IsString())
    return r.fail("expected a traceparent string or null");
  x = trace_context::parse(v.GetString());
  if (x.empty())
    return r.fail("not a valid traceparent");
  return true;
}

bool get(reader& r, const value& v, caf::timestamp& x) {
  int64_t ns = 0;
  if (!get(r, v, ns))
    return false;
  x = caf::timestamp{caf::timestamp::duration{ns}};
  return true;
}

bool get(reader& r, const value& v, caf::timespan& x) {
  int64_t ns = 0;
  if (!get(r, v, ns))
    return false;
  x = caf::timespan{ns};
  return true;
}

template <class E>
std::enable_if_t<std::is_enum<E>::value, bool>
get(reader& r, const value& v, E& x) {
  std::string name;
  if (!get(r, v, name))
    return false;
  // The enums are dense from 0, and `to_string` names each value and says
  // "unknown" past the last one.
  for (unsigned i = 0; i < 256; ++i) {
    auto candidate = static_cast<E>(i);
    auto known = to_string(candidate);
    if (known == "unknown")
      break;
    if (known == name) {
      x = candidate;
      return true;
    }
  }
  return r.fail("unknown value \"" + name + "\"");
}

bool get(reader& r, const value& v, caf::atom_value& x) {
  std::string name;
  if (!get(r, v, name))
    return false;
  if (name.empty() || name.size() > 10)
    return r.fail("an atom has 1 to 10 characters");
  x = caf::atom_from_string(name);
  return true;
}

bool get(reader& r, const value& v, caf::error& x);

template <class T>
bool get(reader& r, const value& v, std::vector<T>& xs);

template <class T>
bool get(reader& r, const value& v, caf::optional<T>& x);

bool get(reader& r, const value& v, std::map<std::string, int64_t>& xs);

template <class T>
std::enable_if_t<is_message_struct<T>::value, bool>
get(reader& r, const value& v, T& x);

template <class T>
bool get(reader& r, const value& v, std::vector<T>& xs) {
  if (!v.IsArray())
    return r.fail("expected an array");
  xs.clear();
  auto base = r.path;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    r.path = base + "[" + std::to_string(i) + "]";
    T x{};
    if (!get(r, v[i], x))
      return false;
    xs.push_back(std::move(x));
  }
  r.path = base;
  return true;
}

template <class T>
bool get(reader& r, const value& v, caf::optional<T>& x) {
  if (v.IsNull()) {
    x = caf::none;
    return true;
  }
  T y{};
  if (!get(r, v, y))
    return false;
  x = std::move(y);
  return true;
}

bool get(reader& r, const value& v, std::map<std::string, int64_t>& xs) {
  if (!v.IsObject())
    return r.fail("expected an object");
  xs.clear();
  auto base = r.path;
  for (auto& m : v.GetObject()) {
    std::string key{m.name.GetString(), m.name.GetStringLength()};
    r.path = base + "." + key;
    int64_t n = 0;
    if (!get(r, m.value, n))
      return false;
    xs.emplace(std::move(key), n);
  }
  r.path = base;
  return true;
}

struct field_reader {
  reader& r;
  const value& obj;
  bool ok = true;

  template <class T>
  void operator()(const char* name, T& x) {
    if (!ok)
      return;
    auto i = obj.FindMember(name);
    if (i == obj.MemberEnd())
      return; // absent: keeps its default
    auto base = r.path;
    r.path = base.empty() ? std::string{name} : base + "." + name;
    ok = get(r, i->value, x);
    if (ok)
      r.path = base;
  }
};

template <class T>
std::enable_if_t<is_message_struct<T>::value, bool>
get(reader& r, const value& v, T& x) {
  if (!v.IsObject())
    return r.fail("expected an object");
  field_reader f{r, v};
  fields(f, x);
  return f.ok;
}

/// The offset of the first number in `text` (outside strings) that
/// RapidJSON 1.1.0 cannot read safely at full precision, npos if none.
/// fuzz/codec_fuzz found two faults there. A zero significand with an
/// exponent or with many digits (`0e74`) reaches __builtin_clzll(0) and
/// reads as garbage (3e54). A decimal exponent past its table of powers
/// overflows an int and indexes outside the table. So a number is read only
/// if its significand has at most 20 significant digits and its first
/// significant digit stands at a power of ten within -325..308, as every
/// number our encoder writes does (at most 17 significant digits, from
/// 5e-324 to 1.7976931348623157e308, and 64-bit integers).
size_t unsafe_number(const std::string& text) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9'))
      continue;
    // One number as JSON's grammar reads it: -? int (. frac)? (e exp)?
    auto start = i;
    if (text[i] == '-')
      ++i;
    int64_t int_digits = 0;
    int64_t digits = 0;
    int64_t first = -1; // index of the first non-zero digit
    auto significand = [&] {
      for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        if (first < 0 && text[i] != '0')
          first = digits;
        ++digits;
      }
    };
    significand();
    int_digits = digits;
    if (i < text.size() && text[i] == '.') {
      ++i;
      significand();
    }
    int64_t exp = 0;
    bool has_exp = i < text.size() && (text[i] == 'e' || text[i] == 'E');
    if (has_exp) {
      ++i;
      bool negative = i < text.size() && text[i] == '-';
      if (i < text.size() && (text[i] == '+' || text[i] == '-'))
        ++i;
      int64_t exp_digits = 0;
      for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
        if (++exp_digits <= 6)
          exp = exp * 10 + (text[i] - '0');
      if (exp_digits > 6)
        return start;
      if (negative)
        exp = -exp;
    }
    if (first < 0) {
      if (has_exp || digits > 17)
        return start;
    } else {
      auto power = int_digits - 1 - first + exp;
      if (digits - first > 20 || power < -325 || power > 308)
        return start;
    }
    --i;
  }
  return std::string::npos;
}

/// Parses `text` into `doc`, doubles to full precision so they round-trip.
bool parse(const std::string& text, rapidjson::Document& doc,
           std::string& error) {
  if (auto at = unsafe_number(text); at != std::string::npos) {
    error = "unsupported number at offset " + std::to_string(at)
            + ": at most 20 significant digits, within 1e-325..1e308, and "
              "zero as 0 or 0.0";
    return false;
  }
  doc.Parse<json::parse_flags | rapidjson::kParseFullPrecisionFlag>(
    text.data(), text.size());
  if (!doc.HasParseError() && json::surrogate_free(doc))
    return true;
  if (!doc.HasParseError()) {
    error = "malformed JSON: a \\u escape names a lone surrogate";
    return false;
  }
  error = "malformed JSON at offset " + std::to_string(doc.GetErrorOffset())
          + ": " + rapidjson::GetParseError_En(doc.GetParseError());
  return false;
}

template <class T>
bool read_json(const std::string& text, T& out, std::string& error) {
  rapidjson::Document doc;
  if (!parse(text, doc, error))
    return false;
  reader r;
  T x{};
  if (!get(r, doc, x)) {
    error = std::move(r.error);
    return false;
  }
  out = std::move(x);
  return true;
}

// -- message elements ---------------------------------------------------------

/// How one element type of a message is written and read.
struct element_codec {
  std::string name;
  bool (*matches)(const caf::message&, size_t);
  void (*write)(writer&, const caf::message&, size_t);
  bool (*read)(reader&, const value&, caf::message_builder&);
};

template <class T>
element_codec element_of(std::string name) {
  return {
    std::move(name),
    [](const caf::message& msg, size_t i) { return msg.match_element<T>(i); },
    [](writer& w, const caf::message& msg, size_t i) {
      put(w, msg.get_as<T>(i));
    },
    [](reader& r, const value& v, caf::message_builder& mb) {
      T x{};
      if (!get(r, v, x))
        return false;
      mb.append(std::move(x));
      return true;
    },
  };
}

const std::vector<element_codec>& element_codecs() {
  static const std::vector<element_codec> codecs = [] {
    std::vector<element_codec> xs{
      element_of<caf::atom_value>("atom"),
      element_of<std::string>("string"),
      element_of<int32_t>("int32"),
      element_of<int64_t>("int64"),
      element_of<uint64_t>("uint64"),
      element_of<bool>("bool"),
      element_of<caf::timespan>("timespan"),
      element_of<std::vector<std::string>>("vector<string>"),
      element_of<caf::error>("error"),
    };
#define BOOKING_ELEMENT(type) xs.push_back(element_of<type>(#type));
    BOOKING_MESSAGE_TYPES(BOOKING_ELEMENT)
#undef BOOKING_ELEMENT
    // The lists the actors answer with.
    xs.push_back(element_of<std::vector<booking_record>>("vector<"
                                                         "booking_record>"));
    xs.push_back(element_of<std::vector<tour>>("vector<tour>"));
    xs.push_back(element_of<std::vector<notification_record>>(
      "vector<notification_record>"));
    return xs;
  }();
  return codecs;
}

const element_codec* find_element(const std::string& name) {
  for (auto& c : element_codecs())
    if (c.name == name)
      return &c;
  return nullptr;
}

/// The codec of each element of `msg`, or none if one has no codec (then
/// `error`, if given, names it).
std::optional<std::vector<const element_codec*>>
codecs_of(const caf::message& msg, std::string* error) {
  std::vector<const element_codec*> result;
  for (size_t i = 0; i < msg.size(); ++i) {
    const element_codec* codec = nullptr;
    for (auto& c : element_codecs())
      if (c.matches(msg, i)) {
        codec = &c;
        break;
      }
    if (codec == nullptr) {
      if (error != nullptr)
        *error = "element " + std::to_string(i) + " has no codec";
      return std::nullopt;
    }
    result.push_back(codec);
  }
  return result;
}

/// Writes `msg` as an array of typed elements, with the codecs that
/// `codecs_of` found for it.
void write_message(writer& w, const caf::message& msg,
                   const std::vector<const element_codec*>& codecs) {
  w.StartArray();
  for (size_t i = 0; i < msg.size(); ++i) {
    w.StartObject();
    w.Key("type");
    put(w, codecs[i]->name);
    w.Key("value");
    codecs[i]->write(w, msg, i);
    w.EndObject();
  }
  w.EndArray();
}

bool decode_message(const value& v, reader& r, caf::message& out) {
  if (!v.IsArray())
    return r.fail("a message is an array of elements");
  caf::message_builder mb;
  auto base = r.path;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    r.path = base + "[" + std::to_string(i) + "]";
    auto& elem = v[i];
    std::string type;
    if (!elem.IsObject() || !elem.HasMember("type") || !elem.HasMember("value")
        || !elem["type"].IsString())
      return r.fail("expected {\"type\", \"value\"}");
    type.assign(elem["type"].GetString(), elem["type"].GetStringLength());
    auto codec = find_element(type);
    if (codec == nullptr)
      return r.fail("unknown element type \"" + type + "\"");
    r.path += ".value";
    if (!codec->read(r, elem["value"], mb))
      return false;
  }
  r.path = base;
  out = mb.to_message();
  return true;
}

// A `caf::error`, as every actor may answer: `{"category", "code",
// "context"}`, the context being a message itself.

void put(writer& w, const caf::error& x) {
  w.StartObject();
  w.Key("category");
  put(w, x.category());
  w.Key("code");
  put(w, x.code());
  w.Key("context");
  // A context the codec cannot carry (CAF's own errors may hold any type)
  // travels as an empty message: the code still tells the error.
  if (auto codecs = codecs_of(x.context(), nullptr))
    write_message(w, x.context(), *codecs);
  else
    write_message(w, caf::message{}, {});
  w.EndObject();
}

bool get(reader& r, const value& v, caf::error& x) {
  if (!v.IsObject())
    return r.fail("expected an object");
  auto base = r.path;
  auto member = [&](const char* name) -> const value* {
    r.path = base + "." + name;
    auto i = v.FindMember(name);
    if (i == v.MemberEnd()) {
      r.fail("missing");
      return nullptr;
    }
    return &i->value;
  };
  caf::atom_value category{};
  uint8_t code = 0;
  caf::message context;
  auto c = member("category");
  if (c == nullptr || !get(r, *c, category))
    return false;
  auto n = member("code");
  if (n == nullptr || !get(r, *n, code))
    return false;
  auto ctx = member("context");
  if (ctx == nullptr || !decode_message(*ctx, r, context))
    return false;
  r.path = base;
  x = caf::error{code, category, std::move(context)};
  return true;
}

} // namespace

// -- structs ------------------------------------------------------------------

#define BOOKING_DEFINE_CODEC(type)                                             \
  std::string encode(const type& x) {                                          \
    return write_json(x);                                                      \
  }                                                                            \
  bool decode(const std::string& json, type& out, std::string& error) {        \
    return read_json(json, out, error);                                        \
  }
BOOKING_MESSAGE_TYPES(BOOKING_DEFINE_CODEC)
#undef BOOKING_DEFINE_CODEC

// -- messages -----------------------------------------------------------------

const std::vector<std::string>& message_element_types() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> xs;
    for (auto& c : element_codecs())
      xs.push_back(c.name);
    return xs;
  }();
  return names;
}

std::optional<std::string> encode_message(const caf::message& msg,
                                          std::string* error) {
  auto codecs = codecs_of(msg, error);
  if (!codecs)
    return std::nullopt;
  rapidjson::StringBuffer buf;
  writer w{buf};
  write_message(w, msg, *codecs);
  return std::string{buf.GetString(), buf.GetSize()};
}

bool decode_message(const std::string& json, caf::message& out,
                    std::string& error) {
  rapidjson::Document doc;
  if (!parse(json, doc, error))
    return false;
  reader r;
  if (!decode_message(doc, r, out)) {
    error = std::move(r.error);
    return false;
  }
  return true;
}

} // namespace booking
