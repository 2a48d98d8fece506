// Integration tests of the AMQP bridges against a real RabbitMQ node
// (docs: /spec/messaging.md). Run through tests/broker/with_broker.sh, which
// starts a throwaway node and exports BOOKING_TEST_AMQP_URL,
// BOOKING_TEST_AMQP_PORT and BOOKING_TEST_BROKER_DIR:
//
//   amqp.events      what one booking publishes on booking.events
//   amqp.intake      bookings submitted over AMQP: replies, inbox, DLQ, retry
//   amqp.resilience  broker restarts, a broker that is down at start, a
//                    deleted intake queue, forced closes, connection.blocked
//   amqp.quorum      the intake on quorum queues (amqp.queue-type)
//   amqp.login       the vhost forms of amqp.url and the refusals' words

#define CAF_SUITE amqp.events
#include "bridges/amqp_connection.hpp"
#include "tests/bridges/bridge_fixture.hpp"
#include "tests/uuid_text.hpp"

#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <rapidjson/document.h>

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

using type_list = std::vector<std::string>;

const type_list confirmed_sequence{
  "booking.requested", "inventory.reserved", "payment.authorized",
  "payment.captured",  "booking.confirmed",  "notification.sent",
};

const type_list declined_sequence{
  "booking.requested", "inventory.reserved", "payment.declined",
  "saga.compensating", "inventory.released", "booking.failed",
  "notification.sent",
};

const type_list sold_out_sequence{
  "booking.requested",
  "inventory.rejected",
  "booking.failed",
  "notification.sent",
};

const type_list cancelled_sequence{
  "payment.refunded",
  "inventory.released",
  "booking.cancelled",
  "notification.sent",
};

/// The events a finished booking published, by its outcome.
type_list expected_sequence(const booking_record& rec) {
  if (rec.status == booking_status::confirmed)
    return confirmed_sequence;
  if (rec.reason == "sold_out")
    return sold_out_sequence;
  return declined_sequence;
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject())
    return nullptr;
  auto i = v.FindMember(key);
  return i == v.MemberEnd() ? nullptr : &i->value;
}

std::string str(const rapidjson::Value& v, const char* key) {
  auto m = member(v, key);
  return m && m->IsString() ? std::string{m->GetString(), m->GetStringLength()}
                            : std::string{"<missing>"};
}

int64_t num(const rapidjson::Value& v, const char* key) {
  auto m = member(v, key);
  return m && m->IsInt64() ? m->GetInt64() : -1;
}

bool starts_with(const std::string& x, const std::string& prefix) {
  return x.compare(0, prefix.size(), prefix) == 0;
}

int64_t seconds_since_epoch(caf::timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
    .count();
}

/// Distance of `t` (seconds since the epoch) from now, in seconds.
int64_t age_of(int64_t t) {
  return std::abs(seconds_since_epoch(caf::make_timestamp()) - t);
}

/// A received event and what it decodes to.
struct seen_event {
  amqp_received msg;
  domain_event ev;
};

/// Decodes every message; a message that does not decode fails the test.
std::vector<seen_event> decode_all(const std::vector<amqp_received>& msgs) {
  std::vector<seen_event> result;
  for (auto& m : msgs) {
    message_properties props;
    props.correlation_id = m.props.correlation_id;
    std::string err;
    auto ev = decode_event(m.body, props, &err);
    BRIDGE_CHECK(ev);
    if (!ev) {
      CAF_TEST_PRINT_ERROR("undecodable event: " << err << ": " << m.body);
      continue;
    }
    result.push_back({m, std::move(*ev)});
  }
  return result;
}

std::vector<seen_event> of_booking(const std::vector<seen_event>& xs,
                                   const std::string& id) {
  std::vector<seen_event> result;
  for (auto& x : xs)
    if (x.ev.booking_id == id)
      result.push_back(x);
  return result;
}

type_list types(const std::vector<seen_event>& xs) {
  type_list result;
  for (auto& x : xs)
    result.push_back(x.ev.type);
  return result;
}

/// Checks one event message against the contract: envelope, data and AMQP
/// properties.
void check_event(const amqp_received& m, const booking_record& rec,
                 const std::string& correlation_id, const std::string& status,
                 const std::string& reason) {
  rapidjson::Document doc;
  doc.Parse(m.body.data(), m.body.size());
  CAF_REQUIRE(!doc.HasParseError() && doc.IsObject());
  auto type = str(doc, "type");
  CAF_MESSAGE("checking " << type);
  // The envelope.
  BRIDGE_CHECK_EQUAL(str(doc, "specversion"), "1.0");
  auto id = str(doc, "id");
  BRIDGE_CHECK(is_uuid(id));
  auto source = str(doc, "source");
  BRIDGE_CHECK(starts_with(source, "/booking-engine/"));
  BRIDGE_CHECK(source.size() > std::string{"/booking-engine/"}.size());
  auto& known = event_types();
  BRIDGE_CHECK(std::find(known.begin(), known.end(), type) != known.end());
  BRIDGE_CHECK_EQUAL(str(doc, "subject"), rec.id);
  BRIDGE_CHECK_EQUAL(str(doc, "datacontenttype"), "application/json");
  BRIDGE_CHECK_EQUAL(str(doc, "dataschema"), type + "/v1");
  message_properties mp;
  mp.correlation_id = m.props.correlation_id;
  auto ev = decode_event(m.body, mp);
  CAF_REQUIRE(ev);
  BRIDGE_CHECK_NOT_EQUAL(str(doc, "time"), "<missing>");
  BRIDGE_CHECK_LESS(age_of(seconds_since_epoch(ev->time)), 300);
  // The data.
  auto data = member(doc, "data");
  CAF_REQUIRE(data != nullptr && data->IsObject());
  BRIDGE_CHECK_EQUAL(str(*data, "booking_id"), rec.id);
  BRIDGE_CHECK_EQUAL(str(*data, "tour_id"), rec.tour_id);
  BRIDGE_CHECK_EQUAL(str(*data, "date"), rec.date);
  BRIDGE_CHECK_EQUAL(num(*data, "seats"), rec.seats);
  BRIDGE_CHECK_EQUAL(num(*data, "amount_cents"), rec.amount_cents);
  BRIDGE_CHECK_EQUAL(str(*data, "currency"), rec.currency);
  BRIDGE_CHECK_EQUAL(str(*data, "customer_email"), rec.cust.email);
  BRIDGE_CHECK_EQUAL(str(*data, "status"), status);
  BRIDGE_CHECK_EQUAL(member(*data, "reason") != nullptr, carries_reason(type));
  if (carries_reason(type))
    BRIDGE_CHECK_EQUAL(str(*data, "reason"), reason);
  auto notification = type == "notification.sent";
  BRIDGE_CHECK_EQUAL(member(*data, "kind") != nullptr, notification);
  BRIDGE_CHECK_EQUAL(member(*data, "channel") != nullptr, notification);
  // The AMQP side.
  BRIDGE_CHECK_EQUAL(m.exchange, events_exchange);
  BRIDGE_CHECK_EQUAL(m.routing_key, type);
  BRIDGE_CHECK_EQUAL(m.props.content_type, "application/cloudevents+json");
  BRIDGE_CHECK_EQUAL(static_cast<int>(m.props.delivery_mode), 2);
  BRIDGE_CHECK_EQUAL(m.props.message_id, id);
  BRIDGE_CHECK_EQUAL(m.props.correlation_id, correlation_id);
  BRIDGE_CHECK_EQUAL(m.props.app_id, "booking-engine");
  BRIDGE_CHECK_EQUAL(m.props.type, type);
  BRIDGE_CHECK_NOT_EQUAL(m.props.timestamp, 0u);
  BRIDGE_CHECK_LESS(age_of(static_cast<int64_t>(m.props.timestamp)), 300);
}

/// Checks a run of events of one booking, one status and reason per event.
void check_events(const std::vector<seen_event>& evs, const booking_record& rec,
                  const std::string& correlation_id, const type_list& statuses,
                  const type_list& reasons) {
  CAF_REQUIRE_EQUAL(evs.size(), statuses.size());
  CAF_REQUIRE_EQUAL(evs.size(), reasons.size());
  std::set<std::string> ids;
  for (size_t i = 0; i < evs.size(); ++i) {
    check_event(evs[i].msg, rec, correlation_id, statuses[i], reasons[i]);
    ids.insert(evs[i].ev.id);
  }
  BRIDGE_CHECK_EQUAL(ids.size(), evs.size());
}

/// Waits until `queue` holds at least `n` messages, then takes them all.
std::vector<amqp_received> collect(amqp_client& c, const std::string& queue,
                                   size_t n,
                                   std::chrono::milliseconds timeout = 30s) {
  auto filled = eventually(
    [&] {
      auto info = c.inspect_queue(queue);
      return info && info->messages >= n;
    },
    timeout);
  if (!filled) {
    auto info = c.inspect_queue(queue);
    CAF_TEST_PRINT_ERROR("queue " << queue << " holds "
                                  << (info ? info->messages : 0) << " of " << n
                                  << " messages");
  }
  return c.drain(queue);
}

} // namespace

// -- amqp.events --------------------------------------------------------------

CAF_TEST_FIXTURE_SCOPE(amqp_events_tests, bridge_fixture)

CAF_TEST(unroutable events are returned and counted but leave the outbox) {
  boot();
  // Nothing is bound to booking.events yet.
  auto rec = book(request_for("tok_ok"));
  CAF_REQUIRE_EQUAL(rec.status, booking_status::confirmed);
  CAF_REQUIRE(idle());
  BRIDGE_CHECK(eventually([&] { return e.amqp->returned.load() == 6; }));
  BRIDGE_CHECK(outbox_drained());
  BRIDGE_CHECK_EQUAL(e.amqp->returned.load(), 6);
  BRIDGE_CHECK_EQUAL(e.amqp->published.load(), 6);
  BRIDGE_CHECK_EQUAL(e.amqp->confirmed.load(), 6);
  BRIDGE_CHECK_EQUAL(e.amqp->nacked.load(), 0);
}

CAF_TEST(a confirmed booking publishes its six events) {
  boot();
  auto q = bind_events_queue();
  auto req = request_for("tok_ok", 2);
  auto rec = book(req);
  CAF_REQUIRE_EQUAL(rec.status, booking_status::confirmed);
  CAF_REQUIRE(idle());
  auto evs = decode_all(collect(client(), q, 6));
  BRIDGE_CHECK_EQUAL(types(evs), confirmed_sequence);
  check_events(evs, rec, req.correlation_id,
               {"pending", "pending", "pending", "pending", "confirmed",
                "confirmed"},
               {"", "", "", "", "", ""});
  BRIDGE_CHECK_EQUAL(evs.back().ev.kind, "booking_confirmed");
  BRIDGE_CHECK_EQUAL(evs.back().ev.channel, "email");
  // What /metrics reports moves with it.
  BRIDGE_CHECK(outbox_drained());
  BRIDGE_CHECK_EQUAL(e.amqp->published.load(), 6);
  BRIDGE_CHECK_EQUAL(e.amqp->confirmed.load(), 6);
  BRIDGE_CHECK_EQUAL(e.amqp->returned.load(), 0);
  BRIDGE_CHECK_EQUAL(e.amqp->nacked.load(), 0);
  BRIDGE_CHECK_EQUAL(e.gate->outbox_backlog.load(), 0);
  BRIDGE_CHECK(e.amqp->publisher_up.load());
  BRIDGE_CHECK(invariants_hold({rec.id}));
}

CAF_TEST(a declined payment publishes the compensation events) {
  boot();
  auto q = bind_events_queue();
  auto req = request_for("tok_decline");
  auto rec = book(req);
  CAF_REQUIRE_EQUAL(rec.status, booking_status::failed);
  CAF_REQUIRE(idle());
  auto evs = decode_all(collect(client(), q, 7));
  BRIDGE_CHECK_EQUAL(types(evs), declined_sequence);
  check_events(evs, rec, req.correlation_id,
               {"pending", "pending", "pending", "pending", "pending", "failed",
                "failed"},
               {"", "", "payment_declined", "", "", "payment_declined", ""});
  BRIDGE_CHECK_EQUAL(evs.back().ev.kind, "booking_failed");
  BRIDGE_CHECK(outbox_drained());
  BRIDGE_CHECK_EQUAL(e.amqp->confirmed.load(), 7);
  BRIDGE_CHECK(invariants_hold({rec.id}));
}

CAF_TEST(a sold out booking publishes inventory rejected and failed) {
  boot();
  auto q = bind_events_queue();
  // The 2026-12-02 departure has one seat.
  auto req = request_for("tok_ok", 2, "lisbon-food", "2026-12-02");
  auto rec = book(req);
  CAF_REQUIRE_EQUAL(rec.status, booking_status::failed);
  CAF_REQUIRE_EQUAL(rec.reason, "sold_out");
  CAF_REQUIRE(idle());
  auto evs = decode_all(collect(client(), q, 4));
  BRIDGE_CHECK_EQUAL(types(evs), sold_out_sequence);
  check_events(evs, rec, req.correlation_id,
               {"pending", "pending", "failed", "failed"},
               {"", "sold_out", "sold_out", ""});
  BRIDGE_CHECK(outbox_drained());
  BRIDGE_CHECK_EQUAL(e.amqp->confirmed.load(), 4);
  BRIDGE_CHECK(invariants_hold({rec.id}));
}

CAF_TEST(a cancellation publishes its events with the cancel correlation id) {
  boot();
  auto q = bind_events_queue();
  auto req = request_for("tok_ok");
  CAF_REQUIRE_EQUAL(book(req).status, booking_status::confirmed);
  CAF_REQUIRE(idle());
  std::string cancel_correlation = "cancel-" + new_booking_id();
  cancel(req.id, cancel_correlation);
  auto rec = await(req.id);
  CAF_REQUIRE_EQUAL(rec.status, booking_status::cancelled);
  CAF_REQUIRE(idle());
  auto evs = decode_all(collect(client(), q, 10));
  auto expected = confirmed_sequence;
  expected.insert(expected.end(), cancelled_sequence.begin(),
                  cancelled_sequence.end());
  BRIDGE_CHECK_EQUAL(types(evs), expected);
  CAF_REQUIRE_EQUAL(evs.size(), 10u);
  // The booking part as it was when confirmed (the record is cancelled
  // now, but tour, seats and amount are the same).
  std::vector<seen_event> booking_part(evs.begin(), evs.begin() + 6);
  std::vector<seen_event> cancel_part(evs.begin() + 6, evs.end());
  check_events(booking_part, rec, req.correlation_id,
               {"pending", "pending", "pending", "pending", "confirmed",
                "confirmed"},
               {"", "", "", "", "", ""});
  check_events(cancel_part, rec, cancel_correlation,
               {"cancelling", "cancelling", "cancelled", "cancelled"},
               {"", "", "", ""});
  BRIDGE_CHECK_EQUAL(evs.back().ev.kind, "booking_cancelled");
  BRIDGE_CHECK(outbox_drained());
  BRIDGE_CHECK_EQUAL(e.amqp->confirmed.load(), 10);
  BRIDGE_CHECK(invariants_hold({rec.id}));
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- amqp.intake --------------------------------------------------------------

#undef CAF_SUITE
#define CAF_SUITE amqp.intake

namespace {

/// What the intake fault hook saw: attempts per customer email.
struct fault_log {
  std::mutex mtx;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>>
    attempts;

  size_t count(const std::string& email) {
    std::lock_guard<std::mutex> guard{mtx};
    return attempts[email].size();
  }

  std::vector<std::chrono::steady_clock::time_point>
  times(const std::string& email) {
    std::lock_guard<std::mutex> guard{mtx};
    return attempts[email];
  }
};

struct intake_fixture : bridge_fixture {
  std::shared_ptr<fault_log> faults = std::make_shared<fault_log>();

  intake_fixture() {
    // flaky@ fails twice, doomed@ always; everyone else goes through.
    auto log = faults;
    opts.intake_fault = [log](const booking_request& req) -> caf::error {
      std::lock_guard<std::mutex> guard{log->mtx};
      auto& seen = log->attempts[req.cust.email];
      seen.push_back(std::chrono::steady_clock::now());
      if ((req.cust.email == "flaky@example.com" && seen.size() <= 2)
          || req.cust.email == "doomed@example.com")
        return make_error(booking_errc::inventory_error, "injected by test");
      return {};
    };
  }

  /// A request as an intake message carries it (its id is the engine's).
  booking_request intake_request(const std::string& email,
                                 const std::string& token = "tok_ok") {
    auto req = request_for(token);
    req.cust.email = email;
    return req;
  }

  /// Waits for the next message on `queue`; fails the test without one.
  amqp_received next_on(const std::string& queue,
                        std::chrono::milliseconds timeout = 20s) {
    auto m = client().get(queue, timeout);
    if (!m)
      CAF_FAIL("nothing arrived on " << queue << " within " << timeout.count()
                                     << " ms");
    return std::move(*m);
  }

  /// Checks an outcome reply and returns the event it carries.
  domain_event check_reply(const amqp_received& m, const std::string& type,
                           const std::string& correlation_id,
                           const std::string& reply_to) {
    BRIDGE_CHECK_EQUAL(m.exchange, "");
    BRIDGE_CHECK_EQUAL(m.routing_key, reply_to);
    BRIDGE_CHECK_EQUAL(m.props.type, type);
    BRIDGE_CHECK_EQUAL(m.props.correlation_id, correlation_id);
    BRIDGE_CHECK_EQUAL(m.props.content_type, "application/cloudevents+json");
    BRIDGE_CHECK_EQUAL(m.props.app_id, "booking-engine");
    BRIDGE_CHECK_EQUAL(static_cast<int>(m.props.delivery_mode), 2);
    message_properties mp;
    mp.correlation_id = m.props.correlation_id;
    std::string err;
    auto ev = decode_event(m.body, mp, &err);
    if (!ev)
      CAF_FAIL("reply does not decode: " << err << ": " << m.body);
    BRIDGE_CHECK_EQUAL(ev->type, type);
    BRIDGE_CHECK_EQUAL(m.props.message_id, ev->id);
    return *ev;
  }

  /// The bookings of one customer.
  std::vector<booking_record> bookings_of(const std::string& email) {
    std::vector<booking_record> result;
    for (auto& b : all_bookings())
      if (b.cust.email == email)
        result.push_back(b);
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(amqp_intake_tests, intake_fixture)

CAF_TEST(an intake message is confirmed on reply_to with its correlation id) {
  boot();
  auto q = bind_events_queue();
  auto reply_to = client().declare_reply_queue();
  auto req = intake_request("happy@example.com");
  auto message_id = "msg-" + new_booking_id();
  auto correlation = "corr-" + new_booking_id();
  submit(intake_props(message_id, correlation, reply_to), intake_body(req));
  auto reply = next_on(reply_to);
  auto ev = check_reply(reply, "booking.confirmed", correlation, reply_to);
  BRIDGE_CHECK_EQUAL(ev.status, "confirmed");
  BRIDGE_CHECK_EQUAL(ev.tour_id, req.tour_id);
  BRIDGE_CHECK_EQUAL(ev.customer_email, "happy@example.com");
  auto rec = await(ev.booking_id);
  BRIDGE_CHECK_EQUAL(rec.status, booking_status::confirmed);
  BRIDGE_CHECK_EQUAL(rec.correlation_id, correlation);
  // The booking's events carry the intake message's correlation id.
  CAF_REQUIRE(idle());
  auto evs = of_booking(decode_all(collect(client(), q, 6)), rec.id);
  BRIDGE_CHECK_EQUAL(types(evs), confirmed_sequence);
  for (auto& x : evs)
    BRIDGE_CHECK_EQUAL(x.msg.props.correlation_id, correlation);
  BRIDGE_CHECK_EQUAL(stats().started, 1);
  BRIDGE_CHECK(eventually([&] { return e.amqp->acked.load() == 1; }));
  BRIDGE_CHECK_EQUAL(e.amqp->consumed.load(), 1);
  auto intake = client().inspect_queue(intake_queue);
  CAF_REQUIRE(intake);
  BRIDGE_CHECK_EQUAL(intake->messages, 0u);
  // A declined payment is answered with booking.failed and its reason.
  auto declined = intake_request("declined@example.com", "tok_decline");
  auto declined_id = "msg-" + new_booking_id();
  submit(intake_props(declined_id, "", reply_to), intake_body(declined));
  auto failed = check_reply(next_on(reply_to), "booking.failed", declined_id,
                            reply_to);
  BRIDGE_CHECK_EQUAL(failed.status, "failed");
  BRIDGE_CHECK_EQUAL(failed.reason, "payment_declined");
  BRIDGE_CHECK_EQUAL(failed.customer_email, "declined@example.com");
  CAF_REQUIRE(idle());
  BRIDGE_CHECK(invariants_hold({rec.id, failed.booking_id}));
}

CAF_TEST(a redelivered message creates one booking and is acked) {
  boot();
  auto q = bind_events_queue();
  auto reply_to = client().declare_reply_queue();
  auto req = intake_request("twice@example.com");
  auto message_id = "msg-" + new_booking_id();
  auto body = intake_body(req);
  // Without a correlation id, the message id stands in for it.
  auto props = intake_props(message_id, "", reply_to);
  submit(props, body);
  submit(props, body);
  auto first = check_reply(next_on(reply_to), "booking.confirmed", message_id,
                           reply_to);
  auto second = check_reply(next_on(reply_to), "booking.confirmed", message_id,
                            reply_to);
  BRIDGE_CHECK_EQUAL(first.booking_id, second.booking_id);
  CAF_REQUIRE(idle());
  BRIDGE_CHECK(eventually([&] { return e.amqp->acked.load() == 2; }));
  BRIDGE_CHECK_EQUAL(e.amqp->consumed.load(), 2);
  BRIDGE_CHECK_EQUAL(e.amqp->dead_lettered.load(), 0);
  BRIDGE_CHECK_EQUAL(stats().started, 1);
  auto mine = bookings_of("twice@example.com");
  CAF_REQUIRE_EQUAL(mine.size(), 1u);
  BRIDGE_CHECK_EQUAL(mine[0].id, first.booking_id);
  BRIDGE_CHECK_EQUAL(mine[0].correlation_id, message_id);
  auto evs = of_booking(decode_all(collect(client(), q, 6)), mine[0].id);
  BRIDGE_CHECK_EQUAL(types(evs), confirmed_sequence);
  for (auto& x : evs)
    BRIDGE_CHECK_EQUAL(x.msg.props.correlation_id, message_id);
  auto intake = client().inspect_queue(intake_queue);
  CAF_REQUIRE(intake);
  BRIDGE_CHECK_EQUAL(intake->messages, 0u);
  // The same message id with another body is poison, not a second booking.
  client().purge(dead_letter_queue_of(intake_queue));
  auto other = req;
  other.seats = 3;
  submit(props, intake_body(other));
  auto rejected = next_on(reply_to);
  BRIDGE_CHECK_EQUAL(rejected.props.type, "booking.rejected");
  auto dead = next_on(dead_letter_queue_of(intake_queue));
  BRIDGE_CHECK_EQUAL(dead.props.message_id, message_id);
  BRIDGE_CHECK(dead.props.header(error_header));
  BRIDGE_CHECK_EQUAL(bookings_of("twice@example.com").size(), 1u);
  BRIDGE_CHECK(invariants_hold({mine[0].id}));
}

CAF_TEST(an invalid message is rejected on reply_to and dead lettered) {
  boot();
  auto& c = client();
  auto dlq = dead_letter_queue_of(intake_queue);
  c.purge(dlq);
  auto reply_to = c.declare_reply_queue();
  // Valid envelope, invalid data: no seats, a bad email.
  std::string invalid = R"({"specversion": "1.0", "id": "e-1", )"
                        R"("source": "/booking-tests", )"
                        R"("type": "booking.create", "data": )"
                        R"({"tour_id": "lisbon-food", "date": "2026-12-01", )"
                        R"("seats": 0, "customer": {"name": "Bad", )"
                        R"("email": "not-an-email"}, )"
                        R"("payment": {"token": "tok_ok"}}})";
  auto message_id = "msg-" + new_booking_id();
  auto correlation = "corr-" + new_booking_id();
  auto props = intake_props(message_id, correlation, reply_to);
  props.headers.emplace_back("x-test", "kept");
  submit(props, invalid);
  auto reply = next_on(reply_to);
  BRIDGE_CHECK_EQUAL(reply.routing_key, reply_to);
  BRIDGE_CHECK_EQUAL(reply.props.type, "booking.rejected");
  BRIDGE_CHECK_EQUAL(reply.props.correlation_id, correlation);
  BRIDGE_CHECK_EQUAL(reply.props.app_id, "booking-engine");
  BRIDGE_CHECK_EQUAL(static_cast<int>(reply.props.delivery_mode), 2);
  message_properties mp;
  mp.correlation_id = reply.props.correlation_id;
  std::string err;
  auto rej = decode_rejected(reply.body, mp, &err);
  if (!rej)
    CAF_FAIL("rejection does not decode: " << err << ": " << reply.body);
  BRIDGE_CHECK_EQUAL(rej->message_id, message_id);
  BRIDGE_CHECK_EQUAL(reply.props.message_id, rej->id);
  std::set<std::string> fields;
  for (auto& fe : rej->errors) {
    fields.insert(fe.field);
    BRIDGE_CHECK(!fe.message.empty());
  }
  BRIDGE_CHECK_EQUAL(fields.count("seats"), 1u);
  BRIDGE_CHECK_EQUAL(fields.count("customer.email"), 1u);
  {
    rapidjson::Document doc;
    doc.Parse(reply.body.data(), reply.body.size());
    CAF_REQUIRE(!doc.HasParseError() && doc.IsObject());
    BRIDGE_CHECK_EQUAL(str(doc, "specversion"), "1.0");
    BRIDGE_CHECK_EQUAL(str(doc, "type"), "booking.rejected");
    BRIDGE_CHECK_EQUAL(str(doc, "dataschema"), "booking.rejected/v1");
    BRIDGE_CHECK_EQUAL(str(doc, "subject"), message_id);
    auto data = member(doc, "data");
    CAF_REQUIRE(data != nullptr);
    auto errors = member(*data, "errors");
    BRIDGE_CHECK(errors != nullptr && errors->IsArray() && errors->Size() >= 2);
  }
  // The original goes to the DLQ with its properties and the reason.
  auto dead = next_on(dlq);
  BRIDGE_CHECK_EQUAL(dead.exchange, dead_letter_exchange);
  BRIDGE_CHECK_EQUAL(dead.routing_key, dlq);
  BRIDGE_CHECK_EQUAL(dead.body, invalid);
  BRIDGE_CHECK_EQUAL(dead.props.message_id, message_id);
  BRIDGE_CHECK_EQUAL(dead.props.correlation_id, correlation);
  BRIDGE_CHECK_EQUAL(dead.props.reply_to, reply_to);
  BRIDGE_CHECK_EQUAL(dead.props.type, "booking.create");
  BRIDGE_CHECK_EQUAL(dead.props.content_type, "application/cloudevents+json");
  BRIDGE_CHECK_EQUAL(static_cast<int>(dead.props.delivery_mode), 2);
  BRIDGE_CHECK_EQUAL(dead.props.header("x-test").value_or(""), "kept");
  auto why = dead.props.header(error_header).value_or("");
  CAF_MESSAGE("x-booking-error: " << why);
  BRIDGE_CHECK(why.find("seats") != std::string::npos);
  // Not JSON at all: rejected with the body at fault, dead-lettered too.
  auto junk_id = "msg-" + new_booking_id();
  submit(intake_props(junk_id, "", reply_to), "this is not json");
  auto junk_reply = next_on(reply_to);
  BRIDGE_CHECK_EQUAL(junk_reply.props.type, "booking.rejected");
  BRIDGE_CHECK_EQUAL(junk_reply.props.correlation_id, junk_id);
  if (auto r = decode_rejected(junk_reply.body)) {
    CAF_REQUIRE(!r->errors.empty());
    BRIDGE_CHECK_EQUAL(r->errors[0].field, "body");
  } else {
    CAF_FAIL("rejection does not decode: " << junk_reply.body);
  }
  auto junk_dead = next_on(dlq);
  BRIDGE_CHECK_EQUAL(junk_dead.props.message_id, junk_id);
  BRIDGE_CHECK_EQUAL(junk_dead.body, "this is not json");
  BRIDGE_CHECK(!junk_dead.props.header(error_header).value_or("").empty());
  // Without a message id there is no idempotency key: poison as well.
  auto no_id = intake_props("", "", "");
  submit(no_id, intake_body(intake_request("noid@example.com")));
  auto no_id_dead = next_on(dlq);
  BRIDGE_CHECK_EQUAL(no_id_dead.props.message_id, "");
  BRIDGE_CHECK(!no_id_dead.props.header(error_header).value_or("").empty());
  // A tour the engine does not know: valid, but never bookable.
  auto unknown_id = "msg-" + new_booking_id();
  auto unknown = intake_request("unknown@example.com");
  unknown.tour_id = "atlantis";
  submit(intake_props(unknown_id, "", reply_to), intake_body(unknown));
  auto unknown_reply = next_on(reply_to);
  BRIDGE_CHECK_EQUAL(unknown_reply.props.type, "booking.rejected");
  if (auto r = decode_rejected(unknown_reply.body)) {
    CAF_REQUIRE(!r->errors.empty());
    BRIDGE_CHECK_EQUAL(r->errors[0].field, "tour_id");
  } else {
    CAF_FAIL("rejection does not decode: " << unknown_reply.body);
  }
  auto unknown_dead = next_on(dlq);
  BRIDGE_CHECK_EQUAL(unknown_dead.props.message_id, unknown_id);
  BRIDGE_CHECK_EQUAL(unknown_dead.props.header(error_header).value_or(""),
                     "unknown tour");
  // Nothing was booked, nothing requeued.
  BRIDGE_CHECK(eventually([&] { return e.amqp->acked.load() == 4; }));
  BRIDGE_CHECK_EQUAL(e.amqp->dead_lettered.load(), 4);
  BRIDGE_CHECK_EQUAL(stats().started, 0);
  auto intake = c.inspect_queue(intake_queue);
  CAF_REQUIRE(intake);
  BRIDGE_CHECK_EQUAL(intake->messages, 0u);
  BRIDGE_CHECK(!c.get(dlq, 500ms));
}

CAF_TEST(a dead letter keeps the original properties and headers) {
  boot();
  auto& c = client();
  auto dlq = dead_letter_queue_of(intake_queue);
  c.purge(dlq);
  auto message_id = "msg-" + new_booking_id();
  auto props = intake_props(message_id, "corr-typed", "");
  props.timestamp = 1700000000;
  props.app_id = "booking-tests";
  props.headers.emplace_back("x-text", "kept");
  props.int_headers.emplace_back("x-count", 7);
  props.bool_headers.emplace_back("x-flag", true);
  submit(props, "not json");
  auto dead = next_on(dlq);
  BRIDGE_CHECK_EQUAL(dead.props.message_id, message_id);
  BRIDGE_CHECK_EQUAL(dead.props.correlation_id, "corr-typed");
  BRIDGE_CHECK_EQUAL(dead.props.type, "booking.create");
  BRIDGE_CHECK_EQUAL(dead.props.timestamp, 1700000000u);
  BRIDGE_CHECK_EQUAL(dead.props.app_id, "booking-tests");
  BRIDGE_CHECK_EQUAL(dead.props.header("x-text").value_or("<none>"), "kept");
  BRIDGE_CHECK_EQUAL(dead.props.header("x-count").value_or("<none>"), "7");
  BRIDGE_CHECK_EQUAL(dead.props.header_kind("x-count"), 'l');
  BRIDGE_CHECK_EQUAL(dead.props.header("x-flag").value_or("<none>"), "true");
  BRIDGE_CHECK_EQUAL(dead.props.header_kind("x-flag"), 't');
  BRIDGE_CHECK(dead.props.header(error_header));
}

CAF_TEST(a transient failure is retried through the retry queue) {
  cfg.amqp.retry_delay = std::chrono::milliseconds(500);
  boot();
  auto& c = client();
  auto dlq = dead_letter_queue_of(intake_queue);
  c.purge(dlq);
  auto reply_to = c.declare_reply_queue();
  auto req = intake_request("flaky@example.com");
  auto message_id = "msg-" + new_booking_id();
  auto correlation = "corr-" + new_booking_id();
  submit(intake_props(message_id, correlation, reply_to), intake_body(req));
  auto ev = check_reply(next_on(reply_to, 30s), "booking.confirmed",
                        correlation, reply_to);
  BRIDGE_CHECK_EQUAL(ev.customer_email, "flaky@example.com");
  // Two failures, then success; each retry waited out its TTL in
  // booking.intake.retry (amqp.retry-delay: 500 ms, then 1000 ms).
  auto times = faults->times("flaky@example.com");
  CAF_REQUIRE_EQUAL(times.size(), 3u);
  auto ms = [](std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  auto gap1 = ms(times[1] - times[0]);
  auto gap2 = ms(times[2] - times[1]);
  CAF_MESSAGE("retry gaps: " << gap1 << " ms, " << gap2 << " ms");
  BRIDGE_CHECK_GREATER_OR_EQUAL(gap1, 480);
  BRIDGE_CHECK_GREATER_OR_EQUAL(gap2, 960);
  CAF_REQUIRE(idle());
  auto mine = bookings_of("flaky@example.com");
  CAF_REQUIRE_EQUAL(mine.size(), 1u);
  BRIDGE_CHECK_EQUAL(mine[0].status, booking_status::confirmed);
  BRIDGE_CHECK_EQUAL(mine[0].correlation_id, correlation);
  BRIDGE_CHECK_EQUAL(stats().started, 1);
  // Every delivery was settled: two acked after their retry copy was
  // confirmed, the last after the booking.
  BRIDGE_CHECK(eventually([&] { return e.amqp->acked.load() == 3; }));
  BRIDGE_CHECK_EQUAL(e.amqp->consumed.load(), 3);
  BRIDGE_CHECK_EQUAL(e.amqp->dead_lettered.load(), 0);
  auto retry = c.inspect_queue(retry_queue_of(intake_queue));
  CAF_REQUIRE(retry);
  BRIDGE_CHECK_EQUAL(retry->messages, 0u);
  BRIDGE_CHECK(!c.get(dlq, 300ms));
}

CAF_TEST(a message that keeps failing is dead lettered after the retry limit) {
  cfg.amqp.retry_limit = 2;
  boot();
  auto& c = client();
  auto dlq = dead_letter_queue_of(intake_queue);
  c.purge(dlq);
  auto reply_to = c.declare_reply_queue();
  auto req = intake_request("doomed@example.com");
  auto message_id = "msg-" + new_booking_id();
  auto correlation = "corr-" + new_booking_id();
  auto body = intake_body(req);
  submit(intake_props(message_id, correlation, reply_to), body);
  auto dead = next_on(dlq, 30s);
  BRIDGE_CHECK_EQUAL(dead.body, body);
  BRIDGE_CHECK_EQUAL(dead.props.message_id, message_id);
  BRIDGE_CHECK_EQUAL(dead.props.correlation_id, correlation);
  BRIDGE_CHECK_EQUAL(dead.props.header("x-booking-retries").value_or(""), "2");
  auto why = dead.props.header(error_header).value_or("");
  CAF_MESSAGE("x-booking-error: " << why);
  BRIDGE_CHECK(why.find("retries exhausted") != std::string::npos);
  // The first attempt and two retries, no more.
  std::this_thread::sleep_for(1s);
  BRIDGE_CHECK_EQUAL(faults->count("doomed@example.com"), 3u);
  BRIDGE_CHECK_EQUAL(e.amqp->dead_lettered.load(), 1);
  BRIDGE_CHECK(eventually([&] { return e.amqp->acked.load() == 3; }));
  BRIDGE_CHECK_EQUAL(stats().started, 0);
  BRIDGE_CHECK(bookings_of("doomed@example.com").empty());
  // Whatever the reply says, it is no confirmation.
  if (auto reply = c.get(reply_to, 500ms)) {
    CAF_MESSAGE("reply to an exhausted message: " << reply->props.type);
    BRIDGE_CHECK_NOT_EQUAL(reply->props.type, "booking.confirmed");
    BRIDGE_CHECK_EQUAL(reply->props.correlation_id, correlation);
  }
  auto intake = c.inspect_queue(intake_queue);
  CAF_REQUIRE(intake);
  BRIDGE_CHECK_EQUAL(intake->messages, 0u);
  auto retry = c.inspect_queue(retry_queue_of(intake_queue));
  CAF_REQUIRE(retry);
  BRIDGE_CHECK_EQUAL(retry->messages, 0u);
}

CAF_TEST(intake waits while the engine is at its in flight limit) {
  // Two sagas at once, each held up by a slow payment: most messages find
  // the engine full and must wait unacked, not be dropped or dead-lettered.
  cfg.saga.max_in_flight = 2;
  cfg.faults.payment_latency = 100ms;
  boot();
  auto& c = client();
  auto dlq = dead_letter_queue_of(intake_queue);
  c.purge(dlq);
  constexpr size_t n = 20;
  for (size_t i = 0; i < n; ++i) {
    auto req = intake_request("full" + std::to_string(i) + "@example.com");
    submit(intake_props("msg-" + new_booking_id(), "", ""), intake_body(req));
  }
  BRIDGE_CHECK(eventually([&] { return e.amqp->acked.load() == n; }, 60s));
  CAF_REQUIRE(idle());
  auto bookings = all_bookings();
  BRIDGE_CHECK_EQUAL(bookings.size(), n);
  std::vector<std::string> ids;
  for (auto& b : bookings) {
    BRIDGE_CHECK_EQUAL(b.status, booking_status::confirmed);
    ids.push_back(b.id);
  }
  BRIDGE_CHECK_EQUAL(e.amqp->dead_lettered.load(), 0);
  BRIDGE_CHECK_EQUAL(e.amqp->consumed.load(), n);
  BRIDGE_CHECK(!c.get(dlq));
  auto intake = c.inspect_queue(intake_queue);
  CAF_REQUIRE(intake);
  BRIDGE_CHECK_EQUAL(intake->messages, 0u);
  BRIDGE_CHECK(invariants_hold(ids));
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- amqp.resilience ----------------------------------------------------------

#undef CAF_SUITE
#define CAF_SUITE amqp.resilience

namespace {

/// Checks the events of finished bookings taken from a queue: per booking,
/// the first copy of each event in causal order, every expected type there,
/// and every copy of an event with the same event id.
void check_event_log(const std::vector<seen_event>& evs,
                     const std::vector<booking_record>& bookings,
                     const std::map<std::string, std::string>& correlations) {
  std::map<std::string, std::vector<const seen_event*>> by_booking;
  for (auto& x : evs)
    by_booking[x.ev.booking_id].push_back(&x);
  size_t missing = 0;
  size_t misordered = 0;
  size_t conflicting_ids = 0;
  size_t bad_properties = 0;
  size_t duplicates = 0;
  for (auto& rec : bookings) {
    auto expected = expected_sequence(rec);
    auto& mine = by_booking[rec.id];
    type_list first_seen;
    std::map<std::string, std::set<std::string>> ids;
    for (auto x : mine) {
      if (ids[x->ev.type].empty())
        first_seen.push_back(x->ev.type);
      else
        ++duplicates;
      ids[x->ev.type].insert(x->ev.id);
      auto i = correlations.find(rec.id);
      if (x->msg.routing_key != x->ev.type
          || x->msg.props.message_id != x->ev.id
          || x->msg.props.delivery_mode != 2
          || (i != correlations.end()
              && x->msg.props.correlation_id != i->second))
        ++bad_properties;
    }
    for (auto& t : expected)
      if (ids[t].empty())
        ++missing;
    for (auto& [t, set] : ids)
      if (set.size() > 1)
        ++conflicting_ids;
    if (first_seen != expected) {
      ++misordered;
      if (misordered <= 3)
        CAF_MESSAGE("booking " << rec.id << " (" << to_string(rec.status)
                               << "): events "
                               << caf::deep_to_string(first_seen));
    }
  }
  size_t unknown = 0;
  std::set<std::string> known;
  for (auto& rec : bookings)
    known.insert(rec.id);
  for (auto& [id, list] : by_booking)
    if (!known.count(id))
      unknown += list.size();
  CAF_MESSAGE(evs.size() << " messages, " << duplicates << " duplicates");
  BRIDGE_CHECK_EQUAL(missing, 0u);
  BRIDGE_CHECK_EQUAL(misordered, 0u);
  BRIDGE_CHECK_EQUAL(conflicting_ids, 0u);
  BRIDGE_CHECK_EQUAL(bad_properties, 0u);
  BRIDGE_CHECK_EQUAL(unknown, 0u);
}

size_t expected_count(const std::vector<booking_record>& bookings) {
  size_t n = 0;
  for (auto& rec : bookings)
    n += expected_sequence(rec).size();
  return n;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(amqp_resilience_tests, bridge_fixture)

CAF_TEST(the consumer re attaches after its queue is deleted) {
  boot();
  auto& c = client();
  CAF_REQUIRE(eventually([&] {
    auto info = c.inspect_queue(intake_queue);
    return info && info->consumers == 1;
  }));
  c.delete_queue(intake_queue);
  // The broker cancels the consumer; the bridge declares the queue again
  // and consumes from it.
  BRIDGE_CHECK(eventually(
    [&] {
      auto info = c.inspect_queue(intake_queue);
      return info && info->consumers == 1 && e.amqp->consumer_up.load();
    },
    20s));
  BRIDGE_CHECK(eventually([&] {
    return c.inspect_queue(dead_letter_queue_of(intake_queue)).has_value();
  }));
  // And a new message is processed.
  auto reply_to = c.declare_reply_queue();
  auto req = request_for("tok_ok");
  req.cust.email = "after-delete@example.com";
  auto message_id = "msg-" + new_booking_id();
  submit(intake_props(message_id, "", reply_to), intake_body(req));
  auto reply = c.get(reply_to, 20s);
  CAF_REQUIRE(reply);
  BRIDGE_CHECK_EQUAL(reply->props.type, "booking.confirmed");
  BRIDGE_CHECK_EQUAL(reply->props.correlation_id, message_id);
  CAF_REQUIRE(idle());
  BRIDGE_CHECK_EQUAL(stats().started, 1);
  BRIDGE_CHECK(invariants_hold());
}

CAF_TEST(an engine started without a broker publishes its backlog later) {
  // A durable queue that outlives the broker's downtime.
  auto q = bind_events_queue(true);
  drop_client();
  CAF_REQUIRE(stop_broker());
  boot(false);
  CAF_REQUIRE(eventually([&] { return e.amqp->tried.load(); }, 20s));
  BRIDGE_CHECK(!e.amqp->publisher_up.load());
  BRIDGE_CHECK(!e.amqp->consumer_up.load());
  // Bookings are still taken.
  std::vector<booking_request> reqs;
  std::map<std::string, std::string> correlations;
  for (int i = 0; i < 20; ++i) {
    auto req = request_for(i % 5 == 4 ? "tok_decline" : "tok_ok");
    auto rec = create(req);
    BRIDGE_CHECK_EQUAL(rec.id, req.id);
    correlations[req.id] = req.correlation_id;
    reqs.push_back(req);
  }
  std::vector<std::string> acknowledged;
  for (auto& req : reqs) {
    auto rec = await(req.id);
    BRIDGE_CHECK(rec.status == booking_status::confirmed
                 || rec.status == booking_status::failed);
    acknowledged.push_back(req.id);
  }
  CAF_REQUIRE(idle());
  auto bookings = all_bookings();
  auto expected = expected_count(bookings);
  BRIDGE_CHECK_EQUAL(expected, 16u * 6 + 4u * 7);
  BRIDGE_CHECK_EQUAL(e.gate->outbox_backlog.load(),
                     static_cast<int64_t>(expected));
  BRIDGE_CHECK_EQUAL(e.amqp->confirmed.load(), 0);
  BRIDGE_CHECK(!e.amqp->publisher_up.load());
  // The broker comes up: the bridges connect and the backlog goes out.
  CAF_REQUIRE(start_broker());
  BRIDGE_CHECK(eventually([&] { return bridges_up(); }, 30s));
  BRIDGE_CHECK(outbox_drained(30s));
  BRIDGE_CHECK_EQUAL(e.amqp->confirmed.load(), static_cast<int64_t>(expected));
  auto evs = decode_all(collect(client(), q, expected));
  BRIDGE_CHECK_EQUAL(evs.size(), expected);
  check_event_log(evs, bookings, correlations);
  BRIDGE_CHECK(invariants_hold(acknowledged));
  client().delete_queue(q);
}

CAF_TEST(a blocked connection holds publishing back) {
  boot();
  auto q = bind_events_queue();
  std::vector<std::string> ids;
  auto book_some = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto rec = book(request_for("tok_ok"));
      BRIDGE_CHECK_EQUAL(rec.status, booking_status::confirmed);
      ids.push_back(rec.id);
    }
    CAF_REQUIRE(idle());
  };
  book_some(1);
  CAF_REQUIRE(outbox_drained());
  // A memory alarm makes the broker block publishing connections. It sends
  // connection.blocked once a connection publishes, so what the first
  // bookings publish right after the alarm is held by the broker.
  CAF_REQUIRE_EQUAL(broker("ctl", "set_vm_memory_high_watermark 0.000001"), 0);
  book_some(2);
  std::this_thread::sleep_for(1s);
  auto published = e.amqp->published.load();
  auto confirmed = e.amqp->confirmed.load();
  CAF_MESSAGE("published after the alarm before blocking: " << published - 6);
  // From then on, bookings go on and their events wait in the outbox.
  book_some(8);
  std::this_thread::sleep_for(1s);
  BRIDGE_CHECK_EQUAL(e.amqp->published.load(), published);
  BRIDGE_CHECK_EQUAL(e.amqp->confirmed.load(), confirmed);
  BRIDGE_CHECK_GREATER_OR_EQUAL(e.gate->outbox_backlog.load(), 48);
  BRIDGE_CHECK(e.amqp->publisher_up.load());
  CAF_REQUIRE_EQUAL(broker("ctl", "set_vm_memory_high_watermark 0.4"), 0);
  BRIDGE_CHECK(outbox_drained(30s));
  auto evs = decode_all(collect(client(), q, 66));
  BRIDGE_CHECK_EQUAL(evs.size(), 66u);
  BRIDGE_CHECK_EQUAL(e.amqp->reconnects.load(), 0);
  BRIDGE_CHECK(invariants_hold(ids));
}

CAF_TEST(connections closed by the broker mid burst lose no event) {
  boot();
  auto q = bind_events_queue(true);
  drop_client();
  // Bookings keep the publisher busy while the broker force-closes every
  // connection twice (as an operator or a node drain would).
  constexpr size_t total = 3000;
  std::map<std::string, std::string> correlations;
  std::vector<booking_request> reqs;
  for (size_t i = 0; i < total; ++i) {
    auto req = request_for("tok_ok", 1, "porto-wine", "2026-12-05");
    if (i % 2 == 0)
      req.date = "2026-12-01", req.tour_id = "lisbon-food";
    correlations[req.id] = req.correlation_id;
    reqs.push_back(std::move(req));
  }
  std::atomic<int> closes{0};
  std::thread closer{[&] {
    for (int i = 0; i < 2; ++i)
      if (broker("ctl", "close_all_connections 'test: forced close'") == 0)
        ++closes;
  }};
  using handle_t = decltype((*self)->request(
    e.coordinators[0], 120s, create_atom::value, booking_request{}));
  std::vector<handle_t> handles;
  for (size_t i = 0; i < total; ++i) {
    handles.push_back((*self)->request(e.coordinator_for(reqs[i].id), 120s,
                                       create_atom::value, reqs[i]));
    if (i % 100 == 99)
      std::this_thread::sleep_for(50ms);
  }
  closer.join();
  BRIDGE_CHECK_EQUAL(closes.load(), 2);
  std::vector<std::string> acknowledged;
  for (auto& h : handles)
    h.receive([&](booking_record& rec) { acknowledged.push_back(rec.id); },
              [&](caf::error& err) {
                CAF_FAIL("create refused: " << describe(err));
              });
  CAF_REQUIRE(idle(120s));
  BRIDGE_CHECK(eventually([&] { return bridges_up(); }, 30s));
  BRIDGE_CHECK(outbox_drained(60s));
  BRIDGE_CHECK_GREATER_OR_EQUAL(e.amqp->reconnects.load(), 2);
  auto bookings = all_bookings();
  BRIDGE_CHECK_EQUAL(bookings.size(), total);
  auto expected = expected_count(bookings);
  CAF_MESSAGE("published " << e.amqp->published.load() << ", confirmed "
                           << e.amqp->confirmed.load() << ", reconnects "
                           << e.amqp->reconnects.load());
  auto evs = decode_all(collect(client(), q, expected, 60s));
  BRIDGE_CHECK_GREATER_OR_EQUAL(evs.size(), expected);
  check_event_log(evs, bookings, correlations);
  BRIDGE_CHECK(invariants_hold(acknowledged));
  client().delete_queue(q);
}

CAF_TEST(a broker restart during a burst loses no event) {
  cfg.saga.max_in_flight = 10000;
  boot();
  auto q = bind_events_queue(true);
  // The test's connection dies with the broker; a new one reads later.
  drop_client();
  constexpr size_t total = 2000;
  std::vector<booking_request> reqs;
  std::map<std::string, std::string> correlations;
  for (size_t i = 0; i < total; ++i) {
    auto req = i % 2 == 0 ? request_for(i % 10 == 0 ? "tok_decline" : "tok_ok")
                          : request_for(i % 10 == 1 ? "tok_decline" : "tok_ok",
                                        1, "porto-wine", "2026-12-05");
    req.cust.email = "burst" + std::to_string(i) + "@example.com";
    correlations[req.id] = req.correlation_id;
    reqs.push_back(std::move(req));
  }
  using handle_t = decltype((*self)->request(
    e.coordinators[0], 120s, create_atom::value, booking_request{}));
  std::vector<handle_t> handles;
  size_t next = 0;
  auto issue = [&](size_t n) {
    for (; n > 0 && next < total; --n, ++next)
      handles.push_back((*self)->request(e.coordinator_for(reqs[next].id), 120s,
                                         create_atom::value, reqs[next]));
  };
  issue(800);
  CAF_REQUIRE(eventually([&] { return e.amqp->confirmed.load() >= 500; }, 30s));
  // Stop and restart the broker on another thread while booking goes on.
  std::atomic<int> phase{0};
  std::atomic<bool> stopped{false};
  std::atomic<bool> started{false};
  std::thread restarter{[&] {
    stopped = stop_broker();
    phase = 1;
    std::this_thread::sleep_for(1s);
    started = start_broker();
    phase = 2;
  }};
  while (phase == 0 && next < 1400) {
    issue(50);
    std::this_thread::sleep_for(50ms);
  }
  BRIDGE_CHECK(eventually([&] { return phase >= 1; }, 60s));
  auto down_while_booking = phase == 1;
  auto confirmed_while_down = e.amqp->confirmed.load();
  issue(total - next);
  CAF_MESSAGE("all " << total << " bookings issued; broker "
                     << (phase == 1 ? "down" : "up again"));
  restarter.join();
  CAF_REQUIRE(stopped);
  CAF_REQUIRE(started);
  BRIDGE_CHECK(down_while_booking);
  std::vector<std::string> acknowledged;
  for (auto& h : handles)
    h.receive([&](booking_record& rec) { acknowledged.push_back(rec.id); },
              [&](caf::error& err) {
                CAF_FAIL("create refused: " << describe(err));
              });
  BRIDGE_CHECK_EQUAL(acknowledged.size(), total);
  CAF_REQUIRE(idle(120s));
  auto bookings = all_bookings();
  BRIDGE_CHECK_EQUAL(bookings.size(), total);
  for (auto& rec : bookings)
    if (rec.status != booking_status::confirmed
        && rec.status != booking_status::failed)
      CAF_FAIL("booking " << rec.id << " ended " << to_string(rec.status));
  BRIDGE_CHECK(invariants_hold(acknowledged));
  // The publisher reconnects and sends everything it holds.
  BRIDGE_CHECK(eventually([&] { return bridges_up(); }, 30s));
  BRIDGE_CHECK(outbox_drained(60s));
  BRIDGE_CHECK_GREATER_OR_EQUAL(e.amqp->reconnects.load(), 1);
  CAF_MESSAGE(
    "confirmed before the restart: "
    << confirmed_while_down << "; published " << e.amqp->published.load()
    << ", confirmed " << e.amqp->confirmed.load() << ", nacked "
    << e.amqp->nacked.load() << ", returned " << e.amqp->returned.load()
    << ", reconnects " << e.amqp->reconnects.load());
  auto expected = expected_count(bookings);
  BRIDGE_CHECK_GREATER_OR_EQUAL(e.amqp->confirmed.load(),
                                static_cast<int64_t>(expected));
  auto evs = decode_all(collect(client(), q, expected, 60s));
  BRIDGE_CHECK_GREATER_OR_EQUAL(evs.size(), expected);
  check_event_log(evs, bookings, correlations);
  client().delete_queue(q);
}

CAF_TEST(intake messages survive a broker restart exactly once) {
  // Each message takes 12 ms, 18 s for all: the restart (a graceful stop
  // takes the broker up to 10 s on a busy machine, while it still
  // delivers) hits the consumer mid-stream with deliveries unacked;
  // redelivered ones must not book twice.
  opts.intake_fault = [](const booking_request&) -> caf::error {
    std::this_thread::sleep_for(12ms);
    return {};
  };
  boot();
  constexpr size_t n = 1500;
  std::set<std::string> message_ids;
  {
    auto& c = client();
    c.purge(intake_queue);
    c.purge(dead_letter_queue_of(intake_queue));
    for (size_t i = 0; i < n; ++i) {
      auto req = request_for("tok_ok", 1, "porto-wine", "2026-12-05");
      req.cust.email = "intake" + std::to_string(i) + "@example.com";
      auto id = "msg-" + new_booking_id();
      message_ids.insert(id);
      submit(intake_props(id, "", ""), intake_body(req));
    }
  }
  drop_client();
  CAF_REQUIRE(eventually([&] { return e.amqp->acked.load() >= 200; }, 30s));
  CAF_REQUIRE(stop_broker());
  auto acked_before = e.amqp->acked.load();
  CAF_MESSAGE("broker stopped after " << acked_before << " acks");
  BRIDGE_CHECK_LESS(acked_before, static_cast<int64_t>(n));
  CAF_REQUIRE(start_broker());
  // Every message ends as exactly one booking.
  BRIDGE_CHECK(eventually(
    [&] {
      auto info = client().inspect_queue(intake_queue);
      return info && info->messages == 0 && stats().started == n;
    },
    90s));
  CAF_REQUIRE(idle());
  auto bookings = all_bookings();
  BRIDGE_CHECK_EQUAL(bookings.size(), n);
  std::map<std::string, int> per_email;
  std::set<std::string> correlations;
  std::vector<std::string> ids;
  for (auto& b : bookings) {
    ++per_email[b.cust.email];
    correlations.insert(b.correlation_id);
    ids.push_back(b.id);
  }
  BRIDGE_CHECK_EQUAL(per_email.size(), n);
  BRIDGE_CHECK(correlations == message_ids);
  BRIDGE_CHECK_GREATER_OR_EQUAL(e.amqp->consumed.load(),
                                static_cast<int64_t>(n));
  BRIDGE_CHECK_EQUAL(e.amqp->dead_lettered.load(), 0);
  CAF_MESSAGE("consumed " << e.amqp->consumed.load() << ", acked "
                          << e.amqp->acked.load() << ", reconnects "
                          << e.amqp->reconnects.load());
  BRIDGE_CHECK(!client().get(dead_letter_queue_of(intake_queue)));
  BRIDGE_CHECK(invariants_hold(ids));
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- amqp.quorum --------------------------------------------------------------

#undef CAF_SUITE
#define CAF_SUITE amqp.quorum

CAF_TEST_FIXTURE_SCOPE(amqp_quorum_tests, intake_fixture)

// A fresh node: the classic queues of the other suites would make the
// quorum declarations fail (inequivalent x-queue-type).
CAF_TEST(intake retries and dead letters work on quorum queues) {
  cfg.amqp.queue_type = "quorum";
  boot();
  auto& c = client();
  auto reply_to = c.declare_reply_queue();
  // flaky@ fails twice: both retries go through the quorum retry queue.
  auto req = intake_request("flaky@example.com");
  auto correlation = "corr-" + new_booking_id();
  submit(intake_props("msg-" + new_booking_id(), correlation, reply_to),
         intake_body(req));
  check_reply(next_on(reply_to, 30s), "booking.confirmed", correlation,
              reply_to);
  BRIDGE_CHECK_EQUAL(faults->count("flaky@example.com"), 3u);
  // Poison reaches the quorum DLQ.
  auto junk_id = "msg-" + new_booking_id();
  submit(intake_props(junk_id, "", ""), "not json");
  auto dead = next_on(dead_letter_queue_of(intake_queue));
  BRIDGE_CHECK_EQUAL(dead.props.message_id, junk_id);
  BRIDGE_CHECK(dead.props.header(error_header));
  CAF_REQUIRE(idle());
  BRIDGE_CHECK_EQUAL(stats().started, 1);
  BRIDGE_CHECK(eventually([&] { return e.amqp->acked.load() == 4; }));
}

CAF_TEST_FIXTURE_SCOPE_END()

#undef CAF_SUITE
#define CAF_SUITE amqp.login

// The forms of the vhost in `amqp.url`, against a real broker: the URI
// spec's meaning, and refusals that name the user and the vhost.

namespace {

/// The test broker's URL without its path ("amqp://guest:guest@host:port").
std::string broker_base() {
  auto url = test_broker_url();
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme + 3);
  return url.substr(0, slash);
}

/// What `amqp_connection::open` says for `url` (empty: connected).
std::string login_with(const std::string& url) {
  amqp_settings cfg;
  cfg.url = url;
  amqp_connection conn;
  return conn.open(cfg, "booking-engine login test");
}

} // namespace

CAF_TEST(each form of the vhost reaches the broker as the URI spec says) {
  auto base = broker_base();
  // No path and %2f: the default vhost "/".
  CAF_CHECK_EQUAL(login_with(base), "");
  CAF_CHECK_EQUAL(login_with(base + "/%2f"), "");
  // A bare slash is the empty vhost, which no broker has.
  CAF_CHECK_EQUAL(login_with(base + "/"),
                  "login refused: user guest, vhost '' (use %2f for /)");
  // A vhost the broker does not have.
  auto other = login_with(base + "/other");
  CAF_CHECK(other.rfind("login refused: user guest, vhost 'other' (530 ", 0)
            == 0);
  CAF_MESSAGE(other);
  // Wrong credentials are refused by name too, the password never shown.
  auto scheme = base.find("://");
  auto at = base.find('@');
  auto wrong = base.substr(0, scheme + 3) + "guest:n0t-this" + base.substr(at)
               + "/%2f";
  auto refused = login_with(wrong);
  CAF_CHECK(refused.rfind("login refused: user guest, vhost '/' (403 ", 0)
            == 0);
  CAF_CHECK(refused.find("n0t-this") == std::string::npos);
  CAF_MESSAGE(refused);
}
