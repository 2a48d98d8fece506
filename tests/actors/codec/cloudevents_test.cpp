#define CAF_SUITE codec.cloudevents

#include "actors/codec/cloudevents.hpp"

#include <caf/test/unit_test.hpp>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "bridges/routing.hpp"

using namespace booking;
using namespace std::chrono_literals;

namespace {

/// 2024-05-01T12:34:56.789Z.
caf::timestamp sample_time() {
  return caf::timestamp{std::chrono::duration_cast<caf::timestamp::duration>(
    std::chrono::seconds(1714566896) + 789ms)};
}

domain_event sample_event(const std::string& type) {
  domain_event x;
  x.id = "6f1c2a3b-0d4e-4f5a-8b6c-7d8e9f0a1b2c";
  x.type = type;
  x.time = sample_time();
  x.correlation_id = "req-42";
  x.booking_id = "b-0001";
  x.tour_id = "lisbon-walk";
  x.date = "2024-06-01";
  x.seats = 3;
  x.amount_cents = 7500;
  x.currency = "EUR";
  x.customer_email = "ana@example.com";
  x.status = "pending";
  if (carries_reason(type))
    x.reason = "sold_out";
  if (type == "notification.sent") {
    x.kind = "booking_confirmed";
    x.channel = "email";
  }
  return x;
}

std::string string_of(const rapidjson::Value& obj, const char* name) {
  auto i = obj.FindMember(name);
  if (i == obj.MemberEnd() || !i->value.IsString())
    return "<absent>";
  return i->value.GetString();
}

std::set<std::string> keys_of(const rapidjson::Value& obj) {
  std::set<std::string> result;
  for (auto& m : obj.GetObject())
    result.emplace(m.name.GetString());
  return result;
}

const std::string valid_data
  = R"({"tour_id": "lisbon-walk", "date": "2024-06-01", "seats": 2,)"
    R"( "customer": {"name": "Ana", "email": "ana@example.com",)"
    R"( "phone": "+351912345678"}, "payment": {"token": "tok_ok"}})";

std::string intake_body(const std::string& data,
                        const std::string& type = "booking.create") {
  return R"({"specversion": "1.0", "id": "e-1", "source": "/shop",)"
         R"( "type": ")"
         + type + R"(", "datacontenttype": "application/json", "data": )" + data
         + "}";
}

message_properties intake_props() {
  message_properties props;
  props.message_id = "msg-1";
  props.correlation_id = "corr-1";
  props.reply_to = "replies";
  return props;
}

struct decoded {
  intake_outcome outcome;
  booking_request req;
  std::vector<field_error> errors;
  std::string reason;
};

decoded decode(const std::string& body,
               const message_properties& props = intake_props()) {
  decoded d;
  d.outcome = decode_intake(body, props, d.req, d.errors, d.reason);
  return d;
}

std::set<std::string> fields_of(const std::vector<field_error>& errors) {
  std::set<std::string> result;
  for (auto& e : errors)
    result.insert(e.field);
  return result;
}

} // namespace

// -- domain events ------------------------------------------------------------

CAF_TEST(every event type round trips with its exact envelope) {
  for (auto& type : event_types()) {
    CAF_MESSAGE("type " << type);
    auto x = sample_event(type);
    auto body = encode_event(x, "node-1");
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    CAF_REQUIRE(!doc.HasParseError() && doc.IsObject());
    CAF_CHECK_EQUAL(keys_of(doc),
                    (std::set<std::string>{
                      "specversion", "id", "source", "type", "time", "subject",
                      "datacontenttype", "dataschema", "data"}));
    CAF_CHECK_EQUAL(string_of(doc, "specversion"), "1.0");
    CAF_CHECK_EQUAL(string_of(doc, "id"), x.id);
    CAF_CHECK_EQUAL(string_of(doc, "source"), "/booking-engine/node-1");
    CAF_CHECK_EQUAL(string_of(doc, "type"), type);
    CAF_CHECK_EQUAL(string_of(doc, "time"), "2024-05-01T12:34:56.789Z");
    CAF_CHECK_EQUAL(string_of(doc, "subject"), "b-0001");
    CAF_CHECK_EQUAL(string_of(doc, "datacontenttype"), "application/json");
    CAF_CHECK_EQUAL(string_of(doc, "dataschema"), type + "/v1");
    auto& data = doc["data"];
    CAF_REQUIRE(data.IsObject());
    std::set<std::string> expected{"booking_id",     "tour_id",      "date",
                                   "seats",          "amount_cents", "currency",
                                   "customer_email", "status"};
    if (type == "booking.failed" || type == "payment.declined"
        || type == "inventory.rejected" || type == "saga.compensation_failed")
      expected.insert("reason");
    if (type == "notification.sent")
      expected.insert({"kind", "channel"});
    CAF_CHECK_EQUAL(keys_of(data), expected);
    CAF_CHECK_EQUAL(data["seats"].GetInt(), 3);
    CAF_CHECK_EQUAL(data["amount_cents"].GetInt64(), 7500);
    auto props = properties_for(x);
    std::string error;
    auto y = decode_event(body, props, &error);
    CAF_REQUIRE_EQUAL(error, "");
    CAF_REQUIRE(y.has_value());
    CAF_CHECK_EQUAL(y->id, x.id);
    CAF_CHECK_EQUAL(y->type, x.type);
    CAF_CHECK(y->time == x.time);
    CAF_CHECK_EQUAL(y->correlation_id, x.correlation_id);
    CAF_CHECK_EQUAL(y->booking_id, x.booking_id);
    CAF_CHECK_EQUAL(y->tour_id, x.tour_id);
    CAF_CHECK_EQUAL(y->date, x.date);
    CAF_CHECK_EQUAL(y->seats, x.seats);
    CAF_CHECK_EQUAL(y->amount_cents, x.amount_cents);
    CAF_CHECK_EQUAL(y->currency, x.currency);
    CAF_CHECK_EQUAL(y->customer_email, x.customer_email);
    CAF_CHECK_EQUAL(y->status, x.status);
    CAF_CHECK_EQUAL(y->reason, x.reason);
    CAF_CHECK_EQUAL(y->kind, x.kind);
    CAF_CHECK_EQUAL(y->channel, x.channel);
  }
}

CAF_TEST(reason is carried by exactly the four types of the spec) {
  std::set<std::string> with_reason;
  for (auto& type : event_types())
    if (carries_reason(type))
      with_reason.insert(type);
  CAF_CHECK_EQUAL(with_reason,
                  (std::set<std::string>{"booking.failed", "payment.declined",
                                         "inventory.rejected",
                                         "saga.compensation_failed"}));
  // Types that carry a reason write it even when it is empty (as null).
  auto x = sample_event("booking.failed");
  x.reason.clear();
  auto body = encode_event(x, "n");
  CAF_CHECK(body.find(R"("reason":null)") != std::string::npos);
  auto y = decode_event(body);
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(y->reason, "");
}

CAF_TEST(event properties are persistent and name the event) {
  auto x = sample_event("booking.confirmed");
  auto props = properties_for(x);
  CAF_CHECK_EQUAL(props.content_type, "application/cloudevents+json");
  CAF_CHECK_EQUAL(props.delivery_mode, 2);
  CAF_CHECK_EQUAL(props.message_id, x.id);
  CAF_CHECK_EQUAL(props.correlation_id, "req-42");
  CAF_CHECK_EQUAL(props.type, "booking.confirmed");
  CAF_CHECK_EQUAL(props.app_id, "booking-engine");
  CAF_CHECK_EQUAL(props.timestamp, 1714566896);
  CAF_CHECK_EQUAL(props.reply_to, "");
  CAF_CHECK(props.headers.empty());
}

CAF_TEST(a traceparent travels as the extension attribute and a header) {
  const std::string tp
    = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto x = sample_event("booking.confirmed");
  x.traceparent = tp;
  auto body = encode_event(x, "node-1");
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  CAF_REQUIRE(doc.HasMember("traceparent"));
  CAF_CHECK_EQUAL(std::string{doc["traceparent"].GetString()}, tp);
  auto props = properties_for(x);
  CAF_REQUIRE_EQUAL(props.headers.size(), 1u);
  CAF_CHECK_EQUAL(props.headers[0].first, "traceparent");
  CAF_CHECK_EQUAL(props.headers[0].second, tp);
  auto back = decode_event(body, props);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->traceparent, tp);
  // Without one, neither is written.
  x.traceparent.clear();
  CAF_CHECK(encode_event(x, "node-1").find("traceparent") == std::string::npos);
  CAF_CHECK(properties_for(x).headers.empty());
}

CAF_TEST(a trace context reads and writes the W3C form only) {
  const std::string tp
    = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto t = trace_context::parse(tp);
  CAF_REQUIRE(!t.empty());
  CAF_CHECK_EQUAL(t.text(), tp);
  CAF_CHECK_EQUAL(t.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  for (std::string bad :
       {"", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"}) {
    CAF_CHECK(!valid_traceparent(bad));
    CAF_CHECK(trace_context::parse(bad).empty());
  }
  auto fresh = trace_context::make();
  CAF_CHECK(valid_traceparent(fresh.text()));
  CAF_CHECK(!(fresh == trace_context::make()));
  CAF_CHECK_EQUAL(trace_context::parse_or_make("junk").text().size(), 55u);
}

CAF_TEST(an intake message takes its trace from the header first) {
  const std::string header
    = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto props = intake_props();
  props.headers.emplace_back("traceparent", header);
  auto d = decode(intake_body(valid_data), props);
  CAF_REQUIRE_EQUAL(d.outcome, intake_outcome::ok);
  CAF_CHECK_EQUAL(d.req.trace.text(), header);
  // Without a valid one: a new trace.
  auto none = decode(intake_body(valid_data));
  CAF_REQUIRE_EQUAL(none.outcome, intake_outcome::ok);
  CAF_CHECK(valid_traceparent(none.req.trace.text()));
  auto junk = intake_props();
  junk.headers.emplace_back("traceparent", "junk");
  auto j = decode(intake_body(valid_data), junk);
  CAF_REQUIRE_EQUAL(j.outcome, intake_outcome::ok);
  CAF_CHECK(valid_traceparent(j.req.trace.text()));
}

CAF_TEST(decoding ignores unknown fields and reads any RFC 3339 offset) {
  auto body
    = R"({"specversion": "1.0", "id": "e-9", "source": "/x",)"
      R"( "type": "payment.declined", "time": "2024-05-01T14:34:56.5+02:00",)"
      R"( "subject": "b-9", "traceparent": "00-abc", "extra": [1, {}],)"
      R"( "data": {"booking_id": "b-9", "reason": "card_declined",)"
      R"( "seats": 1, "future_field": {"nested": true}}})";
  std::string error;
  auto y = decode_event(body, {}, &error);
  CAF_REQUIRE_EQUAL(error, "");
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(y->booking_id, "b-9");
  CAF_CHECK_EQUAL(y->reason, "card_declined");
  CAF_CHECK_EQUAL(y->seats, 1);
  CAF_CHECK(
    y->time
    == caf::timestamp{std::chrono::duration_cast<caf::timestamp::duration>(
      std::chrono::seconds(1714566896) + 500ms)});
}

CAF_TEST(a time before 1970 round trips) {
  // Found by fuzz/codec_fuzz: the milliseconds of a time before the epoch
  // were written negative ("16:35:36.-474Z"), which no reader accepts.
  for (auto text : {"1754-12-07T16:35:35.526Z", "1969-12-31T23:59:59.999Z",
                    "1970-01-01T00:00:00.000Z", "2261-12-31T23:59:59.001Z"}) {
    auto event = sample_event("booking.requested");
    auto body = encode_event(event, "n");
    auto at = body.find("\"time\":\"") + 8;
    body.replace(at, body.find('"', at) - at, text);
    std::string error;
    auto first = decode_event(body, {}, &error);
    CAF_REQUIRE(first.has_value());
    auto again = encode_event(*first, "n");
    CAF_CHECK(again.find(std::string{"\"time\":\""} + text + "\"")
              != std::string::npos);
    CAF_CHECK(decode_event(again, {}, &error).has_value());
  }
}

CAF_TEST(decoding refuses what is not a v1 event) {
  auto event = sample_event("booking.requested");
  auto good = encode_event(event, "n");
  auto replace = [&](const std::string& from, const std::string& to) {
    auto body = good;
    body.replace(body.find(from), from.size(), to);
    return body;
  };
  std::vector<std::pair<std::string, std::string>> cases{
    {"not json", "body is not JSON"},
    {"[1, 2]", "body must be a JSON object"},
    {replace(R"("specversion":"1.0")", R"("specversion":"0.3")"),
     "specversion"},
    {replace(R"("type":"booking.requested")", R"("type":"booking.unknown")"),
     "type"},
    {replace("booking.requested/v1", "booking.requested/v2"), "dataschema"},
    {replace("2024-05-01T12:34:56.789Z", "yesterday"), "time"},
    // Outside what 64-bit nanoseconds hold (found by fuzz/codec_fuzz: the
    // conversion overflowed).
    {replace("2024-05-01T12:34:56.789Z", "1014-05-01T12:34:56Z"), "time"},
    {replace("2024-05-01T12:34:56.789Z", "9999-12-31T23:59:59-23:59"), "time"},
    {replace(R"("data":{)", R"("nodata":{)"), "data is required"},
    {replace(R"("seats":3)", R"("seats":"3")"), "data.seats"},
    // A lone surrogate escape would decode to bytes that are not UTF-8
    // (found by fuzz/codec_fuzz).
    {replace(R"("subject":")", R"("subject":"\udc00)"), "body"},
  };
  for (auto& [body, expected] : cases) {
    std::string error;
    auto y = decode_event(body, {}, &error);
    CAF_CHECK(!y.has_value());
    CAF_CHECK_EQUAL(error.substr(0, expected.size()), expected);
  }
}

// -- intake -------------------------------------------------------------------

CAF_TEST(a valid intake message becomes a booking request) {
  auto d = decode(intake_body(valid_data));
  CAF_REQUIRE_EQUAL(d.outcome, intake_outcome::ok);
  CAF_CHECK(d.errors.empty());
  CAF_CHECK_EQUAL(d.reason, "");
  CAF_CHECK_EQUAL(d.req.id, "");
  CAF_CHECK_EQUAL(d.req.tour_id, "lisbon-walk");
  CAF_CHECK_EQUAL(d.req.date, "2024-06-01");
  CAF_CHECK_EQUAL(d.req.seats, 2);
  CAF_CHECK_EQUAL(d.req.cust.name, "Ana");
  CAF_CHECK_EQUAL(d.req.cust.email, "ana@example.com");
  CAF_CHECK_EQUAL(d.req.cust.phone, "+351912345678");
  CAF_CHECK_EQUAL(d.req.payment_token, "tok_ok");
  CAF_CHECK_EQUAL(d.req.correlation_id, "corr-1");
}

CAF_TEST(the correlation id falls back to the message id) {
  auto props = intake_props();
  props.correlation_id.clear();
  auto d = decode(intake_body(valid_data), props);
  CAF_REQUIRE_EQUAL(d.outcome, intake_outcome::ok);
  CAF_CHECK_EQUAL(d.req.correlation_id, "msg-1");
}

CAF_TEST(encode_intake writes what decode_intake reads) {
  booking_request req;
  req.tour_id = "porto-food";
  req.date = "2024-02-29";
  req.seats = 20;
  req.cust = {"Bea", "bea@example.org", ""};
  req.payment_token = "tok_1";
  auto body = encode_intake(req, "e-7", "/test");
  auto d = decode(body);
  CAF_REQUIRE_EQUAL(d.outcome, intake_outcome::ok);
  CAF_CHECK_EQUAL(d.req.tour_id, req.tour_id);
  CAF_CHECK_EQUAL(d.req.date, req.date);
  CAF_CHECK_EQUAL(d.req.seats, req.seats);
  CAF_CHECK_EQUAL(d.req.cust.name, req.cust.name);
  CAF_CHECK_EQUAL(d.req.cust.email, req.cust.email);
  CAF_CHECK_EQUAL(d.req.cust.phone, "");
  CAF_CHECK_EQUAL(d.req.payment_token, req.payment_token);
}

CAF_TEST(invalid intake data lists every bad field like HTTP) {
  auto d = decode(
    intake_body(R"({"tour_id": "Bad Id", "date": "2023-02-29", "seats": 0,)"
                R"( "customer": {"name": "", "email": "nope", "phone": "123"},)"
                R"( "payment": {"token": ""}, "unknown": 1})"));
  CAF_REQUIRE_EQUAL(d.outcome, intake_outcome::invalid);
  CAF_CHECK_EQUAL(fields_of(d.errors),
                  (std::set<std::string>{"tour_id", "date", "seats",
                                         "customer.name", "customer.email",
                                         "customer.phone", "payment.token"}));
  CAF_CHECK_EQUAL(d.errors.size(), 7u);
  CAF_CHECK_EQUAL(d.reason.substr(0, 25), "invalid booking request: ");
  CAF_CHECK(d.reason.find("customer.email") != std::string::npos);
  // The token is never echoed.
  auto e = decode(intake_body(
    R"({"tour_id": "t", "date": "2024-01-01", "seats": 1,)"
    R"( "customer": {"name": "A", "email": "a@b.cd"}, "payment": {}})"));
  CAF_REQUIRE_EQUAL(e.outcome, intake_outcome::invalid);
  CAF_CHECK_EQUAL(fields_of(e.errors),
                  (std::set<std::string>{"payment.token"}));
  // Missing sections are named as in HTTP.
  auto f = decode(intake_body("{}"));
  CAF_REQUIRE_EQUAL(f.outcome, intake_outcome::invalid);
  CAF_CHECK_EQUAL(
    fields_of(f.errors),
    (std::set<std::string>{"tour_id", "date", "seats", "customer", "payment"}));
}

CAF_TEST(malformed intake messages say why) {
  auto without = [](std::string body, const std::string& member) {
    auto pos = body.find("\"" + member + "\"");
    auto end = body.find(',', pos);
    body.erase(pos, end - pos + 1);
    return body;
  };
  struct case_t {
    std::string body;
    std::string field;
  };
  std::vector<case_t> cases{
    {"{not json", "body"},
    {"\"a string\"", "body"},
    {valid_data, "specversion"},
    {intake_body(valid_data, "booking.cancel"), "type"},
    {intake_body(valid_data, "booking.confirmed"), "type"},
    {without(intake_body(valid_data), "id"), "id"},
    {without(intake_body(valid_data), "source"), "source"},
    {R"({"specversion": "1.0", "id": "e", "source": "/s",)"
     R"( "type": "booking.create"})",
     "data"},
    {R"({"specversion": "1.0", "id": "e", "source": "/s",)"
     R"( "type": "booking.create", "dataschema": "booking.create/v2",)"
     R"( "data": )"
       + valid_data + "}",
     "dataschema"},
    {R"({"specversion": "1.0", "id": "e", "source": "/s",)"
     R"( "type": "booking.create", "datacontenttype": "text/plain",)"
     R"( "data": )"
       + valid_data + "}",
     "datacontenttype"},
    {intake_body("null"), "data"},
    {intake_body("[1]"), "data"},
    {intake_body("\"x\""), "data"},
  };
  for (auto& c : cases) {
    CAF_MESSAGE("body " << c.body);
    auto d = decode(c.body);
    CAF_CHECK_EQUAL(d.outcome, intake_outcome::malformed);
    CAF_REQUIRE_EQUAL(d.errors.size(), 1u);
    CAF_CHECK_EQUAL(d.errors[0].field, c.field);
    CAF_CHECK_EQUAL(d.reason.substr(0, 26 + c.field.size()),
                    "malformed intake message: " + c.field);
  }
  auto props = intake_props();
  props.message_id.clear();
  auto d = decode(intake_body(valid_data), props);
  CAF_CHECK_EQUAL(d.outcome, intake_outcome::malformed);
  CAF_CHECK_EQUAL(fields_of(d.errors), (std::set<std::string>{"message_id"}));
}

// -- rejections ---------------------------------------------------------------

CAF_TEST(a rejection is a booking.rejected event listing the errors) {
  auto x
    = make_rejection("msg-1", "corr-1",
                     {{"seats", "must be an integer from 1 to 20"},
                      {"customer.email", "must be a valid email address"}});
  CAF_CHECK_EQUAL(x.id.size(), 36u);
  CAF_CHECK_NOT_EQUAL(x.id, make_rejection("msg-1", "", {}).id);
  auto body = encode_rejected(x, "node-1");
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  CAF_REQUIRE(!doc.HasParseError() && doc.IsObject());
  CAF_CHECK_EQUAL(string_of(doc, "specversion"), "1.0");
  CAF_CHECK_EQUAL(string_of(doc, "type"), "booking.rejected");
  CAF_CHECK_EQUAL(string_of(doc, "source"), "/booking-engine/node-1");
  CAF_CHECK_EQUAL(string_of(doc, "dataschema"), "booking.rejected/v1");
  CAF_CHECK_EQUAL(string_of(doc, "subject"), "msg-1");
  CAF_CHECK_EQUAL(string_of(doc["data"], "message_id"), "msg-1");
  auto& errors = doc["data"]["errors"];
  CAF_REQUIRE(errors.IsArray() && errors.Size() == 2);
  CAF_CHECK_EQUAL(string_of(errors[0], "field"), "seats");
  CAF_CHECK_EQUAL(string_of(errors[1], "message"),
                  "must be a valid email address");
  auto props = properties_for(x);
  CAF_CHECK_EQUAL(props.message_id, x.id);
  CAF_CHECK_EQUAL(props.correlation_id, "corr-1");
  CAF_CHECK_EQUAL(props.type, "booking.rejected");
  CAF_CHECK_EQUAL(props.delivery_mode, 2);
  CAF_CHECK_EQUAL(props.app_id, "booking-engine");
  std::string error;
  auto y = decode_rejected(body, props, &error);
  CAF_REQUIRE_EQUAL(error, "");
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(y->id, x.id);
  CAF_CHECK_EQUAL(y->message_id, "msg-1");
  CAF_CHECK_EQUAL(y->correlation_id, "corr-1");
  CAF_REQUIRE_EQUAL(y->errors.size(), 2u);
  CAF_CHECK_EQUAL(y->errors[1].field, "customer.email");
  CAF_CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(
              y->time.time_since_epoch())
            == std::chrono::duration_cast<std::chrono::milliseconds>(
              x.time.time_since_epoch()));
  // A rejected event is not a domain event.
  CAF_CHECK(!decode_event(body).has_value());
}

CAF_TEST(the errors of a rejected intake message make its reply) {
  auto props = intake_props();
  auto d = decode(intake_body(R"({"seats": 99})"), props);
  CAF_REQUIRE_EQUAL(d.outcome, intake_outcome::invalid);
  auto x = make_rejection(props.message_id, props.correlation_id, d.errors);
  auto y = decode_rejected(encode_rejected(x, "n"), properties_for(x));
  CAF_REQUIRE(y.has_value());
  CAF_CHECK_EQUAL(fields_of(y->errors), fields_of(d.errors));
}

// -- coverage -----------------------------------------------------------------

CAF_TEST(every message kind crossing the bridge has a codec) {
  for (auto& type : event_types())
    CAF_CHECK(has_codec(type));
  for (auto& rule : routing_table())
    if (!rule.type.empty()) {
      CAF_MESSAGE(to_string(rule.role) << " " << rule.type);
      CAF_CHECK(has_codec(rule.type));
    }
  CAF_CHECK(has_codec("booking.create"));
  CAF_CHECK(has_codec("booking.rejected"));
  CAF_CHECK(!has_codec("booking.unknown"));
}
