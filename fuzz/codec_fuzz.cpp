// Fuzz target: the message codecs, decode then encode.
//
// The first byte picks a codec: the CloudEvents of domain events, the
// `booking.create` intake command, the `booking.rejected` reply, or the
// JSON codec of CAF messages; the rest is the message body. Whatever
// decodes must encode to something that decodes again and encodes to the
// same text (a fixed point after one round), and nothing may crash.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <caf/message.hpp>

#include "actors/codec/cloudevents.hpp"
#include "actors/codec/message_codec.hpp"

using namespace booking;

namespace {

[[noreturn]] void fail(const char* what, const std::string& a,
                       const std::string& b = {}) {
  std::fprintf(stderr, "%s\n  first:  %s\n  second: %s\n", what, a.c_str(),
               b.c_str());
  std::abort();
}

void events(const std::string& body) {
  auto first = decode_event(body);
  if (!first)
    return;
  auto text = encode_event(*first, "fuzz");
  auto props = properties_for(*first);
  std::string error;
  auto again = decode_event(text, props, &error);
  if (!again)
    fail("an encoded event does not decode", text, error);
  auto text2 = encode_event(*again, "fuzz");
  if (text2 != text)
    fail("an event changes in a round trip", text, text2);
}

void intake(const std::string& body) {
  message_properties props;
  props.message_id = "m-1";
  booking_request req;
  std::vector<field_error> errors;
  std::string reason;
  if (decode_intake(body, props, req, errors, reason) != intake_outcome::ok)
    return;
  auto text = encode_intake(req, "m-1", "/fuzz");
  booking_request again;
  if (decode_intake(text, props, again, errors, reason) != intake_outcome::ok)
    fail("an encoded booking.create does not decode", text, reason);
  // The envelope's time is now, so the requests are compared, not texts.
  if (again.tour_id != req.tour_id || again.date != req.date
      || again.seats != req.seats || again.cust.name != req.cust.name
      || again.cust.email != req.cust.email
      || again.cust.phone != req.cust.phone
      || again.payment_token != req.payment_token)
    fail("a booking.create changes in a round trip", text,
         encode_intake(again, "m-1", "/fuzz"));
}

void rejected(const std::string& body) {
  auto first = decode_rejected(body);
  if (!first)
    return;
  auto text = encode_rejected(*first, "fuzz");
  std::string error;
  auto again = decode_rejected(text, properties_for(*first), &error);
  if (!again)
    fail("an encoded booking.rejected does not decode", text, error);
  auto text2 = encode_rejected(*again, "fuzz");
  if (text2 != text)
    fail("a booking.rejected changes in a round trip", text, text2);
}

void messages(const std::string& body) {
  caf::message msg;
  std::string error;
  if (!decode_message(body, msg, error))
    return;
  auto text = encode_message(msg, &error);
  if (!text)
    fail("a decoded message does not encode", body, error);
  caf::message again;
  if (!decode_message(*text, again, error))
    fail("an encoded message does not decode", *text, error);
  auto text2 = encode_message(again, &error);
  if (!text2 || *text2 != *text)
    fail("a message changes in a round trip", *text, text2 ? *text2 : error);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  std::string body{reinterpret_cast<const char*>(data) + 1, size - 1};
  switch (data[0] % 4) {
    case 0:
      events(body);
      break;
    case 1:
      intake(body);
      break;
    case 2:
      rejected(body);
      break;
    default:
      messages(body);
      break;
  }
  return 0;
}
