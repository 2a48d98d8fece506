#define CAF_SUITE codec.messages

#include "actors/codec/message_codec.hpp"

#include <caf/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include <caf/deep_to_string.hpp>
#include <caf/make_message.hpp>

#include "actors/errors.hpp"

using namespace booking;
using namespace std::chrono_literals;

namespace {

caf::timestamp at(int64_t ns) {
  return caf::timestamp{caf::timestamp::duration{ns}};
}

// Samples with every field set to something other than its default, so a
// field the codec forgets comes back different.

customer sample_customer() {
  return {"Ana Lima", "ana@example.com", "+351912345678"};
}

booking_request sample_request() {
  return {"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
          "lisbon-food",
          "2026-12-01",
          3,
          sample_customer(),
          "tok_ok",
          "req-1",
          "",
          trace_context::parse(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")};
}

saga_entry sample_entry() {
  return {saga_step::authorize_payment, saga_action::query,
          step_outcome::timeout,        2,
          at(1764581696123456789),      "no answer in 5 s"};
}

booking_record sample_record() {
  booking_record x;
  x.id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  x.status = booking_status::failed;
  x.reason = "payment_declined";
  x.tour_id = "lisbon-food";
  x.date = "2026-12-01";
  x.seats = 3;
  x.amount_cents = 13500;
  x.currency = "EUR";
  x.cust = sample_customer();
  x.correlation_id = "req-1";
  x.created_at = at(1764581696000000001);
  x.updated_at = at(1764581697000000002);
  x.saga = {sample_entry(), sample_entry()};
  x.saga[1].outcome = step_outcome::ok;
  x.saga[1].error.clear();
  return x;
}

domain_event sample_event() {
  domain_event x;
  x.id = "6f1c2a3b-0d4e-4f5a-8b6c-7d8e9f0a1b2c";
  x.type = "notification.sent";
  x.time = at(1764581698000000003);
  x.correlation_id = "req-1";
  x.booking_id = "b-1";
  x.tour_id = "lisbon-food";
  x.date = "2026-12-01";
  x.seats = 3;
  x.amount_cents = 13500;
  x.currency = "EUR";
  x.customer_email = "ana@example.com";
  x.status = "confirmed";
  x.reason = "none";
  x.kind = "booking_confirmed";
  x.channel = "email";
  x.reply_to = "amq.gen-reply";
  return x;
}

saga_checkpoint sample_checkpoint() {
  saga_checkpoint x;
  x.key = "b-1#cancel";
  x.done = true;
  x.cancellation = true;
  x.req = sample_request();
  x.amount_cents = 13500;
  x.currency = "EUR";
  x.version = 0xfedcba9876543210ULL;
  x.phase = 2;
  x.step = "refund_payment";
  x.attempt = 3;
  x.to_compensate = {"release_seats", "refund_payment"};
  x.compensation_failed = true;
  x.reason = "payment_error";
  x.outcome = booking_status::compensation_failed;
  x.retry_at = at(1764581699000000004);
  x.gave_up = {{"refund_payment", 8}};
  x.redrive = true;
  return x;
}

booking_update sample_update() {
  booking_update x;
  x.id = "b-1";
  x.has_status = true;
  x.status = booking_status::confirmed;
  x.reason = "none";
  x.entries = {sample_entry()};
  x.checkpoint = sample_checkpoint();
  x.events = {sample_event()};
  return x;
}

tour sample_tour() {
  return {"lisbon-food",
          "Lisbon Food Walk",
          4500,
          "EUR",
          {{"2026-12-01", 12}, {"2026-12-02", 8}}};
}

seat_hold sample_hold() {
  return {"b-1", "lisbon-food", "2026-12-01", 3, true};
}

departure_counts sample_counts() {
  return {"lisbon-food", "2026-12-01", 12, 3, 4};
}

payment_request sample_payment_request() {
  return {"b-1", 13500, "EUR", "tok_flaky"};
}

payment_intent sample_intent() {
  return {"b-1", payment_state::refunded, 13500, 13500, 13500};
}

notification_request sample_notification_request() {
  notification_request x;
  x.booking_id = "b-1";
  x.kind = notification_kind::booking_cancelled;
  x.to = "ana@example.com";
  x.customer_name = "Ana Lima";
  x.tour_id = "lisbon-food";
  x.date = "2026-12-01";
  x.seats = 3;
  x.amount_cents = 13500;
  x.currency = "EUR";
  x.reason = "requested";
  x.settled = false;
  x.correlation_id = "req-1";
  return x;
}

notification_record sample_notification() {
  notification_record x;
  x.id = "n-1";
  x.booking_id = "b-1";
  x.kind = notification_kind::booking_failed;
  x.channel = "sms";
  x.to = "ana@example.com";
  x.subject = "Your booking";
  x.body = "Sorry.\nLine two with \"quotes\" and \\ and é.";
  x.status = "failed";
  x.attempts = 4;
  x.created_at = at(1764581700000000005);
  return x;
}

saga_stats sample_stats() {
  saga_stats x;
  x.started = 10;
  x.in_flight = 2;
  x.completed = 8;
  x.retries = 5;
  x.compensations = 3;
  x.uncertain_resolved = 1;
  x.starting = 4;
  x.completed_by = {{"confirmed/none", 6}, {"failed/sold_out", 2}};
  x.compensations_by_step = {{"reserve_seats", 3}};
  x.retries_by_step = {{"authorize_payment", 5}};
  x.duration_counts[0] = 7;
  x.duration_counts.back() = 1;
  x.duration_sum = 1.25;
  return x;
}

/// Encodes `x`, decodes it back and checks that nothing changed.
template <class T>
void check_round_trip(const T& x) {
  auto json = encode(x);
  T back{};
  std::string error;
  CAF_CHECK_EQUAL(decode(json, back, error), true);
  CAF_CHECK_EQUAL(error, "");
  CAF_CHECK_EQUAL(caf::deep_to_string(back), caf::deep_to_string(x));
  // The sample must differ from the default, or the check proves nothing.
  CAF_CHECK_NOT_EQUAL(caf::deep_to_string(x), caf::deep_to_string(T{}));
}

/// Encodes `msg` as a message, decodes it back and checks that nothing
/// changed.
void check_message(const caf::message& msg) {
  std::string error;
  auto json = encode_message(msg, &error);
  CAF_REQUIRE(json);
  caf::message back;
  CAF_CHECK_EQUAL(decode_message(*json, back, error), true);
  CAF_CHECK_EQUAL(error, "");
  CAF_CHECK_EQUAL(caf::to_string(back), caf::to_string(msg));
}

} // namespace

CAF_TEST(every message struct survives a round trip) {
  check_round_trip(sample_customer());
  check_round_trip(sample_request());
  check_round_trip(sample_entry());
  check_round_trip(sample_record());
  check_round_trip(sample_update());
  check_round_trip(
    booking_filter{"failed", "lisbon-food", "ana@example.com", "b-0", 20});
  check_round_trip(booking_page{{sample_record()}, "b-1"});
  check_round_trip(booking_summary{{{"pending", 2}, {"confirmed", 40}}});
  check_round_trip(gave_up_step{"release_seats", 12});
  check_round_trip(departure{"2026-12-01", 12});
  check_round_trip(sample_tour());
  check_round_trip(sample_hold());
  check_round_trip(sample_counts());
  check_round_trip(inventory_snapshot{{sample_counts()}, {sample_hold()}});
  check_round_trip(quote{13500, "EUR"});
  check_round_trip(availability_view{"lisbon-food", {sample_counts()}});
  check_round_trip(sample_payment_request());
  check_round_trip(sample_intent());
  check_round_trip(sample_notification_request());
  check_round_trip(sample_notification());
  check_round_trip(notification_filter{"b-1", "ana@example.com", "n-0", 5});
  check_round_trip(sample_event());
  check_round_trip(sample_checkpoint());
  check_round_trip(sample_stats());
}

CAF_TEST(every registered message type has a codec) {
  std::set<std::string> known(message_element_types().begin(),
                              message_element_types().end());
#define CHECK_KNOWN(type) CAF_CHECK_EQUAL(known.count(#type), 1u);
  BOOKING_MESSAGE_TYPES(CHECK_KNOWN)
#undef CHECK_KNOWN
}

CAF_TEST(participant commands and their replies survive a round trip) {
  // Inventory.
  check_message(caf::make_message(reserve_atom::value, sample_hold()));
  check_message(caf::make_message(commit_atom::value, std::string{"b-1"}));
  check_message(caf::make_message(release_atom::value, std::string{"b-1"}));
  check_message(caf::make_message(caf::put_atom::value, sample_tour()));
  check_message(caf::make_message(sample_counts()));
  check_message(caf::make_message(true));
  // Payment.
  check_message(
    caf::make_message(authorize_atom::value, sample_payment_request()));
  for (caf::atom_value atom : {caf::atom("capture"), caf::atom("void"),
                               caf::atom("refund"), caf::atom("status")})
    check_message(caf::make_message(atom, std::string{"b-1"}));
  check_message(caf::make_message(sample_intent()));
  // Notification.
  check_message(
    caf::make_message(send_atom::value, sample_notification_request()));
  check_message(caf::make_message(sample_notification()));
  check_message(
    caf::make_message(std::vector<notification_record>{sample_notification()}));
  // Booking shards and the saga's writes.
  check_message(caf::make_message(update_atom::value, sample_update()));
  check_message(
    caf::make_message(list_atom::value, booking_filter{"", "", "", "", 51}));
  check_message(
    caf::make_message(std::vector<booking_record>{sample_record()}));
  // The front desk.
  check_message(caf::make_message(create_atom::value, sample_request(),
                                  std::string{"key-1"}));
  check_message(caf::make_message(await_atom::value, std::string{"b-1"}));
  check_message(caf::make_message(caf::timespan{5s}, uint64_t{7}, int64_t{-1}));
  check_message(caf::make_message(booking_page{{sample_record()}, ""}));
  check_message(caf::make_message(caf::get_atom::value));
  check_message(caf::make_message(sample_stats()));
  // Availability.
  check_message(caf::make_message(quote_atom::value, std::string{"tour"},
                                  std::string{"2026-12-01"}, int32_t{3}));
  check_message(caf::make_message(std::vector<tour>{sample_tour()}));
  // Events.
  check_message(caf::make_message(sample_event()));
  // Errors any actor may answer with, with and without a context.
  check_message(caf::make_message(
    make_error(booking_errc::payment_declined, "card declined")));
  check_message(caf::make_message(make_error(booking_errc::not_found)));
  check_message(caf::make_message(std::vector<std::string>{"e-1", "e-2"}));
}

CAF_TEST(an error keeps its category code and context) {
  auto json = encode_message(
    caf::make_message(make_error(booking_errc::sold_out, "2 seats left")));
  CAF_REQUIRE(json);
  caf::message back;
  std::string error;
  CAF_REQUIRE(decode_message(*json, back, error));
  CAF_REQUIRE(back.match_elements<caf::error>());
  auto& e = back.get_as<caf::error>(0);
  CAF_CHECK(is(e, booking_errc::sold_out));
  CAF_CHECK_EQUAL(describe(e), "sold_out: 2 seats left");
}

CAF_TEST(enum names past the last value are refused) {
  booking_record x;
  std::string error;
  CAF_CHECK(!decode(R"({"status":"unknown"})", x, error));
  CAF_CHECK_EQUAL(error, R"(status: unknown value "unknown")");
  payment_intent p;
  CAF_CHECK(!decode(R"({"state":"unknown"})", p, error));
  CAF_CHECK(decode(R"({"state":"declined"})", p, error));
  CAF_CHECK_EQUAL(p.state, payment_state::declined);
}

CAF_TEST(doubles round - trip exactly and non - finite ones travel as null) {
  saga_stats x;
  x.duration_sum = 0.1 + 0.2;
  saga_stats back;
  std::string error;
  CAF_REQUIRE(decode(encode(x), back, error));
  CAF_CHECK_EQUAL(back.duration_sum, x.duration_sum);
  x.duration_sum = std::numeric_limits<double>::infinity();
  auto json = encode(x);
  CAF_CHECK(json.find("\"duration_sum\":null") != std::string::npos);
  CAF_REQUIRE(decode(json, back, error));
  CAF_CHECK(std::isnan(back.duration_sum));
}

CAF_TEST(JSON members are named after the fields) {
  auto json = encode(sample_request());
  for (auto member : {"\"id\":", "\"tour_id\":", "\"customer\":{\"name\":",
                      "\"payment_token\":", "\"correlation_id\":"})
    CAF_CHECK(json.find(member) != std::string::npos);
  auto rec = encode(sample_record());
  CAF_CHECK(rec.find("\"status\":\"failed\"") != std::string::npos);
  CAF_CHECK(rec.find("\"created_at\":1764581696000000001")
            != std::string::npos);
  auto cmd = encode_message(
    caf::make_message(capture_atom::value, std::string{"b-1"}));
  CAF_REQUIRE(cmd);
  CAF_CHECK_EQUAL(*cmd, R"([{"type":"atom","value":"capture"},)"
                        R"({"type":"string","value":"b-1"}])");
}

CAF_TEST(absent members keep their defaults and unknown ones are ignored) {
  seat_hold x;
  std::string error;
  CAF_REQUIRE(decode(R"({"booking_id":"b-9","extra":[1,2]})", x, error));
  CAF_CHECK_EQUAL(x.booking_id, "b-9");
  CAF_CHECK_EQUAL(x.seats, 0);
  CAF_CHECK_EQUAL(x.sold, false);
}

CAF_TEST(bad input names the member at fault) {
  booking_record x;
  std::string error;
  CAF_CHECK(!decode(R"({"saga":[{"step":"reserve_seats"},)"
                    R"({"outcome":"maybe"}]})",
                    x, error));
  CAF_CHECK_EQUAL(error, R"(saga[1].outcome: unknown value "maybe")");
  CAF_CHECK(!decode(R"({"seats":"three"})", x, error));
  CAF_CHECK_EQUAL(error, "seats: expected a 32-bit integer");
  CAF_CHECK(!decode(R"({"customer":{"email":7}})", x, error));
  CAF_CHECK_EQUAL(error, "customer.email: expected a string");
  CAF_CHECK(!decode("[]", x, error));
  CAF_CHECK_EQUAL(error, "value: expected an object");
  CAF_CHECK(!decode("{\"id\":", x, error));
  CAF_CHECK(error.find("malformed JSON at offset") == 0);
  caf::message msg;
  CAF_CHECK(!decode_message(R"([{"type":"socket","value":1}])", msg, error));
  CAF_CHECK_EQUAL(error, R"([0]: unknown element type "socket")");
  CAF_CHECK(!decode_message(R"([{"type":"seat_hold","value":{"seats":-1.5}}])",
                            msg, error));
  CAF_CHECK_EQUAL(error, "[0].value.seats: expected a 32-bit integer");
  CAF_CHECK(!decode_message(R"({"type":"atom"})", msg, error));
}

CAF_TEST(numbers RapidJSON cannot read safely are refused rather than misread) {
  // RapidJSON 1.1.0 reads 0e74 at full precision as garbage, and a decimal
  // exponent past its table overflows (both found by fuzz/codec_fuzz).
  caf::message msg;
  std::string error;
  for (auto number :
       {"0e74", "-0.000E-3", "0e0", "0.000000000000000000", "1e331", "1e-99999",
        "0.01234567890123456789e-330", "1e309", "2e-326",
        "123456789012345678901", "1e1234567"}) {
    auto text = std::string{R"([{"type":"saga_stats","value":{"duration_sum":)"}
                + number + "}}]";
    CAF_CHECK(!decode_message(text, msg, error));
    CAF_CHECK_EQUAL(error, "unsupported number at offset 46: at most 20 "
                           "significant digits, within 1e-325..1e308, and "
                           "zero as 0 or 0.0");
  }
  saga_stats st;
  CAF_CHECK(decode(R"({"duration_sum":0.0,"started":0})", st, error));
  CAF_CHECK(decode(R"({"duration_sum":-0.0000000000000001})", st, error));
  CAF_CHECK(decode(R"({"duration_sum":5e-324})", st, error));
  CAF_CHECK(decode(R"({"duration_sum":0.0000012345678901234567})", st, error));
  CAF_CHECK(decode(R"({"duration_sum":-0.0,"started":-9223372036854775808})",
                   st, error));
  CAF_CHECK(decode(R"({"duration_sum":1.7976931348623157e308})", st, error));
  CAF_CHECK(decode(R"({"duration_sum":2.5e3,"started":10})", st, error));
  CAF_CHECK_EQUAL(st.duration_sum, 2500.0);
  booking_record rec;
  // A lone surrogate escape is not text (found by fuzz/codec_fuzz).
  CAF_CHECK(!decode(R"({"id":"a\udc00b"})", rec, error));
  CAF_CHECK_EQUAL(error, "malformed JSON: a \\u escape names a lone surrogate");
  // Digits inside strings are not numbers.
  CAF_CHECK(decode(R"({"id":"0e74","currency":"0E1"})", rec, error));
  CAF_CHECK_EQUAL(rec.id, "0e74");
}

CAF_TEST(a message element without a codec is refused) {
  std::string error;
  auto json = encode_message(caf::make_message(3.5f), &error);
  CAF_CHECK(!json);
  CAF_CHECK_EQUAL(error, "element 0 has no codec");
}

CAF_TEST(the event table lists every event type once in enum order) {
  auto& rows = event_table();
  std::set<std::string> names;
  for (size_t i = 0; i < rows.size(); ++i) {
    CAF_CHECK_EQUAL(static_cast<size_t>(rows[i].type), i);
    CAF_CHECK(names.insert(rows[i].name).second);
    CAF_CHECK_EQUAL(&info(rows[i].type), &rows[i]);
    CAF_CHECK_EQUAL(find_event(rows[i].name), &rows[i]);
    CAF_CHECK_EQUAL(dataschema_of(rows[i].name),
                    std::string{rows[i].name} + "/v1");
  }
  CAF_CHECK_EQUAL(rows.size(), 15u);
  CAF_CHECK_EQUAL(event_types().size(), rows.size());
  CAF_CHECK(find_event("booking.create") == nullptr);
  CAF_CHECK_EQUAL(to_string(event_type::saga_compensation_failed),
                  "saga.compensation_failed");
}
