#include "actors/codec/json_codec.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/codec/detail/json.hpp"
#include "actors/log.hpp"

namespace booking {

namespace {

using json::put;
using json::put_or_null;
using json::put_time;
using json::writer;
using value = rapidjson::Value;

// -- reading ------------------------------------------------------------------

/// Parses `body` into `doc`; on failure sets a 400 naming the offset.
bool parse_json(const std::string& body, rapidjson::Document& doc,
                problem& err) {
  doc.Parse<json::parse_flags>(body.data(), body.size());
  if (!doc.HasParseError() && json::surrogate_free(doc))
    return true;
  if (!doc.HasParseError()) {
    err = make_problem(400, "malformed-json",
                       "Malformed JSON: a \\u escape names a lone surrogate.");
    return false;
  }
  err = make_problem(400, "malformed-json",
                     "Malformed JSON at offset "
                       + std::to_string(doc.GetErrorOffset()) + ": "
                       + rapidjson::GetParseError_En(doc.GetParseError()));
  return false;
}

/// Parses a body that must be one JSON object.
bool parse_object(const std::string& body, rapidjson::Document& doc,
                  problem& err) {
  if (!parse_json(body, doc, err))
    return false;
  if (!doc.IsObject()) {
    err = validation_problem({{"body", "must be a JSON object"}});
    return false;
  }
  return true;
}

/// Collects the field errors of one document.
struct checker {
  std::vector<field_error> errors;

  void fail(std::string field, std::string message) {
    errors.push_back({std::move(field), std::move(message)});
  }

  const value* member(const value& obj, const char* name) {
    return json::member(obj, name);
  }

  /// A required string; fails (and returns false) if absent or not a string.
  bool string(const value& obj, const char* name, const std::string& field,
              std::string& out) {
    auto v = member(obj, name);
    if (v == nullptr) {
      fail(field, "is required");
      return false;
    }
    if (!v->IsString()) {
      fail(field, "must be a string");
      return false;
    }
    out.assign(v->GetString(), v->GetStringLength());
    return true;
  }

  /// A required integer in [lo, hi].
  bool integer(const value& obj, const char* name, const std::string& field,
               int64_t lo, int64_t hi, int64_t& out) {
    auto v = member(obj, name);
    if (v == nullptr) {
      fail(field, "is required");
      return false;
    }
    if (!v->IsInt64() || v->GetInt64() < lo || v->GetInt64() > hi) {
      fail(field, "must be an integer from " + std::to_string(lo) + " to "
                    + std::to_string(hi));
      return false;
    }
    out = v->GetInt64();
    return true;
  }

  void text_length(const std::string& x, const std::string& field, size_t lo,
                   size_t hi) {
    auto n = utf8_length(x);
    if (n < lo || n > hi)
      fail(field, "must have " + std::to_string(lo) + " to "
                    + std::to_string(hi) + " characters");
  }
};

/// Highest price of one seat: 20 seats of it still fit an int64 many times
/// over, so no amount can overflow.
constexpr int64_t max_price_cents = 10'000'000'000'000;

bool is_tour_id(const std::string& x) {
  return !x.empty() && x.size() <= 64
         && std::all_of(x.begin(), x.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                     || c == '-';
            });
}

bool is_currency(const std::string& x) {
  return x.size() == 3 && std::all_of(x.begin(), x.end(), [](char c) {
           return c >= 'A' && c <= 'Z';
         });
}

// -- writing ------------------------------------------------------------------

void write(writer& w, const booking_record& x) {
  w.StartObject();
  put(w, "id", x.id);
  put(w, "status", to_string(x.status));
  put_or_null(w, "reason", x.reason);
  put(w, "tour_id", x.tour_id);
  put(w, "date", x.date);
  w.Key("seats");
  w.Int(x.seats);
  w.Key("amount_cents");
  w.Int64(x.amount_cents);
  put(w, "currency", x.currency);
  w.Key("customer");
  w.StartObject();
  put(w, "name", x.cust.name);
  put(w, "email", x.cust.email);
  put_or_null(w, "phone", x.cust.phone);
  w.EndObject();
  put_time(w, "created_at", x.created_at);
  put_time(w, "updated_at", x.updated_at);
  w.Key("saga");
  w.StartArray();
  for (auto& e : x.saga) {
    w.StartObject();
    put(w, "step", to_string(e.step));
    put(w, "action", to_string(e.action));
    put(w, "outcome", to_string(e.outcome));
    w.Key("attempt");
    w.Int(e.attempt);
    put_time(w, "at", e.at);
    put_or_null(w, "error", e.error);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void write(writer& w, const tour& x) {
  w.StartObject();
  put(w, "id", x.id);
  put(w, "name", x.name);
  w.Key("price_cents");
  w.Int64(x.price_cents);
  put(w, "currency", x.currency);
  w.Key("departures");
  w.StartArray();
  for (auto& d : x.departures) {
    w.StartObject();
    put(w, "date", d.date);
    w.Key("capacity");
    w.Int(d.capacity);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void write(writer& w, const notification_record& x) {
  w.StartObject();
  put(w, "id", x.id);
  put(w, "booking_id", x.booking_id);
  put(w, "kind", to_string(x.kind));
  put(w, "channel", x.channel);
  put(w, "to", x.to);
  put(w, "subject", x.subject);
  put(w, "body", x.body);
  put(w, "status", x.status);
  w.Key("attempts");
  w.Int(x.attempts);
  put_time(w, "created_at", x.created_at);
  w.EndObject();
}

template <class T>
std::string one(const T& x) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  write(w, x);
  return {buf.GetString(), buf.GetSize()};
}

template <class T>
std::string page(const std::vector<T>& xs, const std::string& next_cursor,
                 bool with_cursor) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (auto& x : xs)
    write(w, x);
  w.EndArray();
  if (with_cursor)
    put_or_null(w, "next_cursor", next_cursor);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

} // namespace

// -- requests -----------------------------------------------------------------

bool parse_booking_request(const std::string& body, booking_request& out,
                           problem& err) {
  rapidjson::Document doc;
  if (!parse_object(body, doc, err))
    return false;
  checker c;
  if (c.string(doc, "tour_id", "tour_id", out.tour_id)
      && !is_tour_id(out.tour_id))
    c.fail("tour_id", "must match [a-z0-9-]{1,64}");
  if (c.string(doc, "date", "date", out.date) && !is_date(out.date))
    c.fail("date", "must be a calendar date (YYYY-MM-DD)");
  int64_t seats = 0;
  if (c.integer(doc, "seats", "seats", 1, 20, seats))
    out.seats = static_cast<int32_t>(seats);
  if (auto cust = c.member(doc, "customer"); cust == nullptr) {
    c.fail("customer", "is required");
  } else if (!cust->IsObject()) {
    c.fail("customer", "must be an object");
  } else {
    if (c.string(*cust, "name", "customer.name", out.cust.name))
      c.text_length(out.cust.name, "customer.name", 1, 200);
    if (c.string(*cust, "email", "customer.email", out.cust.email)
        && !is_email(out.cust.email))
      c.fail("customer.email", "must be a valid email address");
    if (auto phone = c.member(*cust, "phone"); phone != nullptr) {
      if (!phone->IsString() || !is_e164(out.cust.phone = phone->GetString()))
        c.fail("customer.phone", "must be an E.164 number like +351912345678");
    }
  }
  if (auto pay = c.member(doc, "payment"); pay == nullptr) {
    c.fail("payment", "is required");
  } else if (!pay->IsObject()) {
    c.fail("payment", "must be an object");
  } else if (c.string(*pay, "token", "payment.token", out.payment_token)
             && (out.payment_token.empty() || out.payment_token.size() > 128)) {
    c.fail("payment.token", "must have 1 to 128 characters");
  }
  if (!c.errors.empty()) {
    err = validation_problem(std::move(c.errors));
    return false;
  }
  return true;
}

namespace {

bool read_tour(const value& doc, tour& out, problem& err);

} // namespace

bool parse_tour(const std::string& body, tour& out, problem& err) {
  rapidjson::Document doc;
  if (!parse_object(body, doc, err))
    return false;
  return read_tour(doc, out, err);
}

bool parse_tours(const std::string& body, std::vector<tour>& out,
                 problem& err) {
  rapidjson::Document doc;
  if (!parse_json(body, doc, err))
    return false;
  if (!doc.IsArray()) {
    err = validation_problem({{"tours", "must be an array of tours"}});
    return false;
  }
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    tour t;
    if (!doc[i].IsObject()) {
      err = validation_problem({{"tours", "must be an array of tours"}});
      return false;
    }
    if (!read_tour(doc[i], t, err)) {
      for (auto& fe : err.errors)
        fe.field = "[" + std::to_string(i) + "]." + fe.field;
      err.detail = "Tour " + std::to_string(i) + ": " + err.detail;
      return false;
    }
    out.push_back(std::move(t));
  }
  return true;
}

namespace {

bool read_tour(const value& doc, tour& out, problem& err) {
  checker c;
  if (c.string(doc, "id", "id", out.id) && !is_tour_id(out.id))
    c.fail("id", "must match [a-z0-9-]{1,64}");
  if (c.string(doc, "name", "name", out.name))
    c.text_length(out.name, "name", 1, 200);
  c.integer(doc, "price_cents", "price_cents", 0, max_price_cents,
            out.price_cents);
  if (c.string(doc, "currency", "currency", out.currency)
      && !is_currency(out.currency))
    c.fail("currency", "must be three capital letters");
  auto deps = c.member(doc, "departures");
  if (deps == nullptr) {
    c.fail("departures", "is required");
  } else if (!deps->IsArray() || deps->Size() < 1 || deps->Size() > 1000) {
    c.fail("departures", "must be an array of 1 to 1000 departures");
  } else {
    std::set<std::string> seen;
    for (rapidjson::SizeType i = 0; i < deps->Size(); ++i) {
      auto field = "departures[" + std::to_string(i) + "]";
      auto& d = (*deps)[i];
      if (!d.IsObject()) {
        c.fail(field, "must be an object");
        continue;
      }
      departure dep;
      if (c.string(d, "date", field + ".date", dep.date)) {
        if (!is_date(dep.date))
          c.fail(field + ".date", "must be a calendar date (YYYY-MM-DD)");
        else if (!seen.insert(dep.date).second)
          c.fail(field + ".date", "is a duplicate");
      }
      int64_t capacity = 0;
      if (c.integer(d, "capacity", field + ".capacity", 1, 100000, capacity))
        dep.capacity = static_cast<int32_t>(capacity);
      out.departures.push_back(std::move(dep));
    }
  }
  if (!c.errors.empty()) {
    err = validation_problem(std::move(c.errors));
    return false;
  }
  return true;
}

} // namespace

// -- checks -------------------------------------------------------------------

bool is_date(const std::string& x) {
  if (x.size() != 10 || x[4] != '-' || x[7] != '-')
    return false;
  for (auto i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (x[i] < '0' || x[i] > '9')
      return false;
  auto num = [&](size_t pos, size_t len) {
    return std::stoi(x.substr(pos, len));
  };
  int y = num(0, 4);
  int m = num(5, 2);
  int d = num(8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1)
    return false;
  static constexpr int days[] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool is_email(const std::string& x) {
  auto at = x.find('@');
  if (x.size() > 254 || at == std::string::npos || at == 0 || at > 64
      || x.find('@', at + 1) != std::string::npos)
    return false;
  auto local = x.substr(0, at);
  auto domain = x.substr(at + 1);
  static const std::string specials = ".!#$%&'*+/=?^_`{|}~-";
  auto is_alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
  };
  for (char c : local)
    if (!is_alnum(c) && specials.find(c) == std::string::npos)
      return false;
  if (local.front() == '.' || local.back() == '.'
      || local.find("..") != std::string::npos)
    return false;
  // The domain needs at least two labels of letters, digits and inner
  // hyphens.
  size_t labels = 0;
  size_t start = 0;
  while (start <= domain.size()) {
    auto end = domain.find('.', start);
    if (end == std::string::npos)
      end = domain.size();
    auto label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-'
        || label.back() == '-'
        || !std::all_of(label.begin(), label.end(),
                        [&](char c) { return is_alnum(c) || c == '-'; }))
      return false;
    ++labels;
    start = end + 1;
  }
  return labels >= 2;
}

bool is_e164(const std::string& x) {
  return x.size() >= 3 && x.size() <= 16 && x[0] == '+' && x[1] >= '1'
         && x[1] <= '9' && std::all_of(x.begin() + 1, x.end(), [](char c) {
              return c >= '0' && c <= '9';
            });
}

size_t utf8_length(const std::string& x) {
  // Count every byte that does not continue a multi-byte sequence.
  return static_cast<size_t>(std::count_if(x.begin(), x.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// -- responses ----------------------------------------------------------------

std::string to_json(const booking_record& x) {
  return one(x);
}

std::string to_json(const tour& x) {
  return one(x);
}

std::string to_json(const notification_record& x) {
  return one(x);
}

std::string to_json(const availability_view& x) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  put(w, "tour_id", x.tour_id);
  w.Key("dates");
  w.StartArray();
  for (auto& c : x.dates) {
    w.StartObject();
    put(w, "date", c.date);
    w.Key("capacity");
    w.Int(c.capacity);
    w.Key("available");
    // The read model may lag, but never shows more than capacity nor less
    // than zero.
    w.Int(std::clamp(c.capacity - c.sold - c.held, 0, c.capacity));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string to_json(const std::vector<tour>& xs) {
  return page(xs, {}, false);
}

std::string to_json(const std::vector<booking_record>& xs,
                    const std::string& next_cursor) {
  return page(xs, next_cursor, true);
}

std::string to_json(const std::vector<notification_record>& xs,
                    const std::string& next_cursor) {
  return page(xs, next_cursor, true);
}

} // namespace booking
