// Writes one message of every type the codec encodes (each domain event
// type, booking.create, booking.rejected) into the directory given as the
// only argument, one file per type named `<type>.json`, with the engine's
// own encoders. tests/codec/check_schemas.py checks their `data` against
// deploy/schemas/.

#include <cstdio>
#include <fstream>
#include <string>

#include "actors/codec/cloudevents.hpp"
#include "actors/messages.hpp"

using namespace booking;

namespace {

void write(const std::string& dir, const std::string& type,
           const std::string& body) {
  std::ofstream out{dir + "/" + type + ".json"};
  out << body << '\n';
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: schema-samples DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  for (auto& row : event_table()) {
    domain_event ev;
    ev.id = new_booking_id();
    ev.type = row.name;
    ev.time = caf::make_timestamp();
    ev.correlation_id = "req-1";
    ev.booking_id = new_booking_id();
    ev.tour_id = "lisbon-food";
    ev.date = "2026-12-01";
    ev.seats = 2;
    ev.amount_cents = 9000;
    ev.currency = "EUR";
    ev.customer_email = "ana@example.com";
    ev.status = row.carries_reason ? "failed" : "confirmed";
    if (row.carries_reason)
      ev.reason = "payment_declined";
    if (row.carries_notification) {
      ev.kind = "booking_confirmed";
      ev.channel = "email";
    }
    write(dir, row.name, encode_event(ev, "node-1"));
  }
  booking_request req;
  req.tour_id = "lisbon-food";
  req.date = "2026-12-01";
  req.seats = 2;
  req.cust = {"Ana Lima", "ana@example.com", "+351912345678"};
  req.payment_token = "tok_ok";
  write(dir, "booking.create", encode_intake(req, new_booking_id(), "/shop"));
  auto rej = make_rejection("m-1", "c-1", {{"seats", "must be 1 to 20"}});
  write(dir, "booking.rejected", encode_rejected(rej, "node-1"));
  return 0;
}
