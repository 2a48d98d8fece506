// Every error status of the HTTP API and the shape of its problem documents.
#define CAF_SUITE http.errors
#include "tests/http/api_fixture.hpp"

#include <algorithm>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

/// The comma-separated methods of an `Allow` header.
std::set<std::string> allowed(const http_response& r) {
  std::set<std::string> out;
  std::string cur;
  for (auto c : r.header("allow") + ",") {
    if (c == ',') {
      if (!cur.empty())
        out.insert(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return out;
}

/// A request with a `Content-Length` body, written in one piece.
std::string raw_post(const std::string& target, const std::string& body,
                     const std::string& type = "application/json") {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Type: " + type
         + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"
         + body;
}

std::string join(const std::set<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

struct fixture : api_fixture {
  /// A booking body with `json` spliced in before the final brace.
  static std::string with_extra(const std::string& json) {
    auto body = booking_body({});
    body.pop_back();
    return body + ", " + json + "}";
  }

  /// Posts a booking body; expects 422 and returns the failing fields.
  std::set<std::string> invalid(const std::string& body) {
    auto r = call("POST", "/api/v1/bookings", body);
    auto doc = check_problem(r, 422);
    auto fields = error_fields(doc);
    CAF_CHECK(!fields.empty());
    for (auto e : items(doc, "errors"))
      CAF_CHECK(!str(*e, "message").empty());
    return fields;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_errors, fixture)

CAF_TEST(malformed JSON is 400 naming the offset) {
  boot();
  std::string bad = R"({"tour_id": "lisbon-food", "seats": })";
  rapidjson::Document ref;
  ref.Parse(bad.c_str());
  CAF_REQUIRE(ref.HasParseError());
  auto offset = std::to_string(ref.GetErrorOffset());
  auto r = call("POST", "/api/v1/bookings", bad);
  auto doc = check_problem(r, 400);
  auto detail = str(doc, "detail");
  HTTP_CHECK_MSG(detail.find(offset) != std::string::npos,
                 "offset " << offset << " not in: " << detail);
  // Same for tours, and for a truncated document.
  std::string cut = R"({"id": "x", "name": "X", "price)";
  rapidjson::Document ref2;
  ref2.Parse(cut.c_str());
  auto t = call("POST", "/api/v1/tours", cut);
  auto tdoc = check_problem(t, 400);
  HTTP_CHECK_MSG(str(tdoc, "detail").find(std::to_string(ref2.GetErrorOffset()))
                   != std::string::npos,
                 "offset not in: " << t.body);
  // An empty body is not JSON either.
  check_problem(call("POST", "/api/v1/bookings", {},
                     {{"Content-Type", "application/json"}}),
                400);
}

CAF_TEST(unknown routes are 404) {
  boot();
  check_problem(get("/api/v1/nope"), 404);
  check_problem(get("/nope"), 404);
  check_problem(get("/api/v1/bookings/a/b/c"), 404);
  check_problem(call("POST", "/api/v2/bookings", booking_body({})), 404);
  check_problem(get("/api/v1/tours/lisbon-food/nope"), 404);
}

CAF_TEST(a known route with another method is 405 with Allow) {
  boot();
  auto put = call("PUT", "/api/v1/bookings", booking_body({}));
  check_problem(put, 405);
  CAF_CHECK(allowed(put).count("GET") == 1);
  CAF_CHECK(allowed(put).count("POST") == 1);
  CAF_CHECK(allowed(put).count("PUT") == 0);
  auto del = call("DELETE", "/api/v1/tours");
  check_problem(del, 405);
  CAF_CHECK(allowed(del).count("GET") == 1);
  CAF_CHECK(allowed(del).count("POST") == 1);
  auto patch = call("PATCH", "/api/v1/bookings/abc", "{}");
  check_problem(patch, 405);
  CAF_CHECK(allowed(patch).count("GET") == 1);
  CAF_CHECK(allowed(patch).count("DELETE") == 1);
  auto cancel = get("/api/v1/bookings/abc/cancel");
  check_problem(cancel, 405);
  CAF_CHECK_EQUAL(allowed(cancel), std::set<std::string>{"POST"});
  auto health = call("POST", "/healthz", "{}");
  check_problem(health, 405);
  CAF_CHECK(allowed(health).count("GET") == 1);
  auto avail = call("POST", "/api/v1/tours/lisbon-food/availability", "{}");
  check_problem(avail, 405);
  CAF_CHECK(allowed(avail).count("GET") == 1);
}

CAF_TEST(a body over the limit is 413) {
  boot();
  // A valid booking padded to exactly the limit is fine.
  auto body = booking_body({});
  auto exact = body + std::string(64 * 1024 - body.size(), ' ');
  CAF_REQUIRE_EQUAL(exact.size(), 64u * 1024);
  HTTP_CHECK_STATUS(call("POST", "/api/v1/bookings", exact), 202);
  // One byte more is not.
  auto over = exact + " ";
  auto c = connect();
  c.write_raw(raw_post("/api/v1/bookings", over));
  check_problem(c.read_response(), 413);
  // With `Expect: 100-continue` the body need not be sent at all.
  auto c3 = connect();
  c3.write_raw("POST /api/v1/bookings HTTP/1.1\r\nHost: test\r\n"
               "Content-Type: application/json\r\n"
               "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
  check_problem(c3.read_response(), 413);
  // Nor is a big tour document.
  auto c2 = connect();
  c2.write_raw(raw_post("/api/v1/tours", std::string(200 * 1024, ' ')));
  check_problem(c2.read_response(), 413);
}

CAF_TEST(the body limit is configurable) {
  cfg.http.body_limit = 1024;
  boot();
  auto body = booking_body({});
  auto exact = body + std::string(1024 - body.size(), ' ');
  HTTP_CHECK_STATUS(call("POST", "/api/v1/bookings", exact), 202);
  auto c = connect();
  c.write_raw(raw_post("/api/v1/bookings", exact + " "));
  check_problem(c.read_response(), 413);
}

CAF_TEST(a chunked body over the limit is 413) {
  boot();
  auto c = connect();
  std::string req = "POST /api/v1/bookings HTTP/1.1\r\nHost: test\r\n"
                    "Content-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n";
  auto chunk = std::string(16 * 1024, ' ');
  for (int i = 0; i < 5; ++i)
    req += "4000\r\n" + chunk + "\r\n";
  req += "0\r\n\r\n";
  c.write_raw(req);
  check_problem(c.read_response(), 413);
  // A small chunked body is read like any other.
  auto ok = connect();
  auto body = booking_body({});
  std::ostringstream hex;
  hex << std::hex << body.size();
  ok.write_raw("POST /api/v1/bookings HTTP/1.1\r\nHost: test\r\n"
               "Content-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n"
               + hex.str() + "\r\n" + body + "\r\n0\r\n\r\n");
  HTTP_CHECK_STATUS(ok.read_response(), 202);
}

CAF_TEST(an empty chunked body that trickles in is read) {
  // The last chunk's "0\r\n", then "\r", then "\n", each in a read of
  // its own: Beast 1.81 asserted there, which stopped a server built
  // with assertions on (support/boost_assert.cpp).
  boot();
  auto c = connect();
  std::vector<std::string> pieces
    = {"POST /api/v1/bookings HTTP/1.1\r\nHost: test\r\n"
       "Content-Type: application/json\r\n"
       "Transfer-Encoding: chunked\r\n\r\n",
       "0\r\n", "\r", "\n"};
  for (auto& piece : pieces) {
    CAF_REQUIRE(c.write_raw(piece));
    std::this_thread::sleep_for(30ms);
  }
  // An empty body is no booking: 400, and the server lives on.
  check_problem(c.read_response(), 400);
  HTTP_CHECK_STATUS(call("GET", "/healthz"), 200);
}

CAF_TEST(a wrong content type is 415) {
  boot();
  check_problem(call("POST", "/api/v1/bookings", booking_body({}),
                     {{"Content-Type", "text/plain"}}),
                415);
  check_problem(call("POST", "/api/v1/tours", R"({"id": "x"})",
                     {{"Content-Type", "application/xml"}}),
                415);
  check_problem(call("POST", "/api/v1/bookings", booking_body({}),
                     {{"Content-Type", "application/x-www-form-urlencoded"}}),
                415);
  HTTP_CHECK_STATUS(call("POST", "/api/v1/bookings", booking_body({}),
                         {{"Content-Type", "application/json; charset=utf-8"}}),
                    202);
}

CAF_TEST(booking validation lists every failing field) {
  boot();
  booking_args a;
  a.seats = 0;
  a.date = "2026-02-30";
  a.email = "not-an-email";
  auto fields = invalid(booking_body(a));
  for (auto f : {"seats", "date", "customer.email"})
    HTTP_CHECK_MSG(fields.count(f) == 1,
                   "missing " << f << " in " << join(fields));
  // One field at a time.
  auto only = [&](booking_args x, const std::string& field) {
    auto got = invalid(booking_body(x));
    HTTP_CHECK_MSG(got.count(field) == 1 && got.size() == 1,
                   "expected " << field << ", got " << join(got));
  };
  booking_args x;
  x.seats = 21;
  only(x, "seats");
  x = {};
  x.date = "2026-13-01";
  only(x, "date");
  x = {};
  x.date = "1 Dec 2026";
  only(x, "date");
  x = {};
  x.name = "";
  only(x, "customer.name");
  x = {};
  x.name = std::string(201, 'n');
  only(x, "customer.name");
  x = {};
  x.phone = "912345678";
  only(x, "customer.phone");
  x = {};
  x.token = std::string(129, 't');
  only(x, "payment.token");
  // Existence: unknown tour, a real date without departure.
  x = {};
  x.tour_id = "atlantis";
  only(x, "tour_id");
  x = {};
  x.date = "2026-12-04";
  only(x, "date");
  // Wrong types and missing members.
  CAF_CHECK(invalid(R"({"tour_id": "lisbon-food", "date": "2026-12-01",
    "seats": "2", "customer": {"name": "A", "email": "a@x.org"},
    "payment": {"token": "tok_ok"}})")
              .count("seats")
            == 1);
  CAF_CHECK(invalid(R"({"tour_id": "lisbon-food", "date": "2026-12-01",
    "seats": 2.5, "customer": {"name": "A", "email": "a@x.org"},
    "payment": {"token": "tok_ok"}})")
              .count("seats")
            == 1);
  auto no_payment = invalid(R"({"tour_id": "lisbon-food",
    "date": "2026-12-01", "seats": 2,
    "customer": {"name": "A", "email": "a@x.org"}})");
  // The whole object is missing: `payment` or `payment.token` will do.
  HTTP_CHECK_MSG(has_field_like(no_payment, "payment"),
                 "fields: " << join(no_payment));
  CAF_CHECK(invalid(R"({"tour_id": "lisbon-food", "date": "2026-12-01",
    "seats": 2, "customer": {"name": "A", "email": "a@x.org"},
    "payment": {"token": 42}})")
              .count("payment.token")
            == 1);
  CAF_CHECK(has_field_like(invalid(R"({"tour_id": "lisbon-food",
    "date": "2026-12-01", "seats": 2, "payment": {"token": "tok_ok"}})"),
                           "customer"));
  // Unknown fields are ignored; the phone is optional.
  HTTP_CHECK_STATUS(
    call("POST", "/api/v1/bookings", with_extra(R"("coupon": "FREE")")), 202);
  x = {};
  x.phone.clear();
  HTTP_CHECK_STATUS(book(x), 202);
  // Nothing invalid was stored.
  CAF_CHECK(idle());
  auto list = get("/api/v1/bookings?limit=200");
  CAF_CHECK_EQUAL(item_count(list.json()), 2u);
}

CAF_TEST(a header section over 8 KiB is 431) {
  boot();
  // 7 KiB of headers are fine.
  HTTP_CHECK_STATUS(get("/healthz", {{"X-Pad", std::string(7 * 1024, 'a')}}),
                    200);
  auto big = connect();
  auto r = big.send("GET", "/healthz", {},
                    {{"X-Pad", std::string(9 * 1024, 'a')}});
  check_problem(r, 431);
  // Many small headers count together.
  header_list many;
  for (int i = 0; i < 100; ++i)
    many.emplace_back("X-Pad-" + std::to_string(i), std::string(100, 'b'));
  auto c = connect();
  check_problem(c.send("GET", "/api/v1/tours", {}, many), 431);
}

CAF_TEST(a malformed request is 400) {
  boot();
  auto c = connect();
  c.write_raw("THIS IS NOT HTTP\r\n\r\n");
  check_problem(c.read_response(), 400);
  auto d = connect();
  d.write_raw(
    "GET /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: x\r\n\r\n");
  check_problem(d.read_response(), 400);
}

CAF_TEST(every response carries a request id) {
  boot();
  // Echoed when sent, on success and on failure.
  header_list id = {{"X-Request-Id", "test-req-1234"}};
  auto ok = get("/healthz", id);
  HTTP_CHECK_STATUS(ok, 200);
  CAF_CHECK_EQUAL(ok.header("x-request-id"), "test-req-1234");
  auto missing = get("/api/v1/nope", id);
  HTTP_CHECK_STATUS(missing, 404);
  CAF_CHECK_EQUAL(missing.header("x-request-id"), "test-req-1234");
  auto accepted = book({}, id);
  HTTP_CHECK_STATUS(accepted, 202);
  CAF_CHECK_EQUAL(accepted.header("x-request-id"), "test-req-1234");
  auto rejected = call("POST", "/api/v1/bookings", "{", id);
  HTTP_CHECK_STATUS(rejected, 400);
  CAF_CHECK_EQUAL(rejected.header("x-request-id"), "test-req-1234");
  // Generated otherwise, a new one per request.
  std::set<std::string> seen;
  for (auto target : {"/healthz", "/readyz", "/metrics", "/api/v1/tours",
                      "/api/v1/nope", "/api/v1/bookings?limit=0"}) {
    auto r = get(target);
    auto rid = r.header("x-request-id");
    HTTP_CHECK_MSG(!rid.empty(), "no X-Request-Id on " << target);
    seen.insert(rid);
  }
  CAF_CHECK_EQUAL(seen.size(), 6u);
  // Also on the responses of the protocol layer.
  auto big = connect();
  auto r = big.send("GET", "/healthz", {},
                    {{"X-Pad", std::string(9 * 1024, 'a')}});
  HTTP_CHECK_STATUS(r, 431);
  CAF_CHECK(!r.header("x-request-id").empty());
}

CAF_TEST(problem documents never leak internals) {
  boot();
  auto r = call("POST", "/api/v1/bookings", booking_body({"atlantis"}));
  auto doc = check_problem(r, 422);
  CAF_CHECK(r.body.find("caf") == std::string::npos);
  CAF_CHECK(r.body.find("error(") == std::string::npos);
  CAF_CHECK(r.body.find("booking_errc") == std::string::npos);
  // The title is fixed per status.
  auto other = check_problem(call("POST", "/api/v1/bookings",
                                  booking_body({"lisbon-food", "bad"})),
                             422);
  CAF_CHECK_EQUAL(str(doc, "title"), str(other, "title"));
}

// -- regressions --------------------------------------------------------------

CAF_TEST(deeply nested JSON is 400 and the server lives on) {
  // A recursive parser would overflow the I/O thread's stack.
  cfg.http.body_limit = 1'000'000;
  boot();
  auto r = call("POST", "/api/v1/bookings", std::string(500'000, '['));
  auto doc = check_problem(r, 400);
  HTTP_CHECK_MSG(ends_with(str(doc, "type"), "malformed-json"),
                 "type: " << str(doc, "type"));
  auto t = call("POST", "/api/v1/tours", std::string(500'000, '{'));
  auto tdoc = check_problem(t, 400);
  HTTP_CHECK_MSG(ends_with(str(tdoc, "type"), "malformed-json"),
                 "type: " << str(tdoc, "type"));
  // Deep but well-formed nesting in an ignored member is no problem either.
  auto deep = std::string(200'000, '[') + std::string(200'000, ']');
  HTTP_CHECK_STATUS(
    call("POST", "/api/v1/bookings", with_extra(R"("extra": )" + deep)), 202);
  // The server still answers, on the old connection and on a new one.
  auto h = get("/healthz");
  HTTP_CHECK_STATUS(h, 200);
  CAF_CHECK_EQUAL(h.body, R"({"status":"ok"})");
  HTTP_CHECK_STATUS(connect().send("GET", "/healthz"), 200);
}

CAF_TEST(invalid UTF - 8 in a string is 400 naming the offset) {
  boot();
  booking_args a;
  a.name = "A\xff\xfe";
  auto body = booking_body(a);
  rapidjson::Document ref;
  ref.Parse<rapidjson::kParseValidateEncodingFlag>(body.c_str(), body.size());
  CAF_REQUIRE(ref.HasParseError());
  auto offset = std::to_string(ref.GetErrorOffset());
  auto r = book(a);
  auto doc = check_problem(r, 400);
  HTTP_CHECK_MSG(ends_with(str(doc, "type"), "malformed-json"),
                 "type: " << str(doc, "type"));
  auto detail = str(doc, "detail");
  HTTP_CHECK_MSG(detail.find("offset " + offset) != std::string::npos,
                 "offset " << offset << " not in: " << detail);
  CAF_CHECK(r.body.find('\xff') == std::string::npos);
  // In a tour name too; nothing was stored.
  auto t = call("POST", "/api/v1/tours",
                "{\"id\": \"utf\", \"name\": \"Caf\xc3\", \"price_cents\": 1, "
                "\"currency\": \"EUR\", \"departures\": "
                "[{\"date\": \"2026-11-01\", \"capacity\": 1}]}");
  auto tdoc = check_problem(t, 400);
  CAF_CHECK(ends_with(str(tdoc, "type"), "malformed-json"));
  check_problem(get("/api/v1/tours/utf"), 404);
  // Valid multi-byte UTF-8 is fine.
  a.name = "Jos\xc3\xa9 \xe2\x82\xac";
  HTTP_CHECK_STATUS(book(a), 202);
  CAF_CHECK(idle());
  CAF_CHECK_EQUAL(item_count(get("/api/v1/bookings?limit=200").json()), 1u);
}

CAF_TEST(a price that could overflow is 422 on price_cents) {
  boot();
  auto tour_with_price = [](const std::string& id, const std::string& price) {
    return R"({"id": ")" + id + R"(", "name": "Pricey", "price_cents": )"
           + price + R"(, "currency": "EUR",
      "departures": [{"date": "2026-11-01", "capacity": 50}]})";
  };
  auto max = call("POST", "/api/v1/tours",
                  tour_with_price("max-price", "9223372036854775807"));
  auto fields = error_fields(check_problem(max, 422));
  HTTP_CHECK_MSG(fields.count("price_cents") == 1, "fields: " << join(fields));
  check_problem(get("/api/v1/tours/max-price"), 404);
  // One above 10^13 is refused, 10^13 itself accepted.
  auto over = call("POST", "/api/v1/tours",
                   tour_with_price("over-price", "10000000000001"));
  CAF_CHECK(error_fields(check_problem(over, 422)).count("price_cents") == 1);
  auto cap = call("POST", "/api/v1/tours",
                  tour_with_price("cap-price", "10000000000000"));
  HTTP_CHECK_STATUS(cap, 201);
  CAF_CHECK_EQUAL(num(cap.json(), "price_cents"), 10'000'000'000'000);
  // The largest booking of it is priced exactly.
  CAF_REQUIRE(eventually(
    [&] { return get("/api/v1/tours/cap-price/availability").status == 200; }));
  booking_args a;
  a.tour_id = "cap-price";
  a.date = "2026-11-01";
  a.seats = 20;
  auto b = book_wait(a, 10);
  HTTP_CHECK_STATUS(b, 201);
  CAF_CHECK_EQUAL(num(b.json(), "amount_cents"), 200'000'000'000'000);
}

CAF_TEST(HEAD is 405 with Allow and no body bytes) {
  boot();
  const std::string two = "HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                          "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
  // Read as a client that knows the first response answers HEAD.
  auto c = connect();
  CAF_REQUIRE(c.write_raw(two));
  auto head = c.read_response(true);
  HTTP_CHECK_STATUS(head, 405);
  CAF_CHECK_EQUAL(allowed(head), std::set<std::string>{"GET"});
  CAF_CHECK(head.has_header("x-request-id"));
  auto next = c.read_response();
  HTTP_CHECK_STATUS(next, 200);
  CAF_CHECK_EQUAL(next.body, R"({"status":"ok"})");
  // Byte by byte: the next status line follows the first header block.
  auto raw = connect();
  CAF_REQUIRE(raw.write_raw(two));
  std::string got;
  CAF_CHECK(eventually(
    [&] {
      got += raw.wait_closed(50ms).received;
      return got.find(R"({"status":"ok"})") != std::string::npos;
    },
    3s));
  auto end = got.find("\r\n\r\n");
  CAF_REQUIRE(end != std::string::npos);
  CAF_CHECK(starts_with(got, "HTTP/1.1 405"));
  auto rest = got.substr(end + 4);
  HTTP_CHECK_MSG(starts_with(rest, "HTTP/1.1 200"),
                 "after the HEAD response's header: " << rest);
  // The connection goes on.
  HTTP_CHECK_STATUS(c.send("GET", "/healthz"), 200);
  auto again = c.send("HEAD", "/api/v1/tours");
  HTTP_CHECK_STATUS(again, 405);
  CAF_CHECK(allowed(again).count("GET") == 1);
  HTTP_CHECK_STATUS(c.send("GET", "/healthz"), 200);
}

CAF_TEST(refused requests keep the request id and CORS headers) {
  cfg.http.cors_origins = "https://a.example";
  boot();
  // 413 from Content-Length alone.
  auto c = connect();
  c.write_raw("POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\n"
              "X-Request-Id: rid-413\r\nOrigin: https://a.example\r\n"
              "Content-Type: application/json\r\n"
              "Content-Length: 100000\r\n\r\n");
  auto r = c.read_response();
  check_problem(r, 413);
  CAF_CHECK_EQUAL(r.header("x-request-id"), "rid-413");
  CAF_CHECK_EQUAL(r.header("access-control-allow-origin"), "https://a.example");
  CAF_CHECK(!r.keep_alive);
  // 413 with the body on its way.
  auto body = connect();
  body.write_raw("POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\n"
                 "X-Request-Id: rid-413b\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n11000\r\n"
                 + std::string(0x11000, ' ') + "\r\n0\r\n\r\n");
  auto rb = body.read_response();
  check_problem(rb, 413);
  CAF_CHECK_EQUAL(rb.header("x-request-id"), "rid-413b");
  // 431 when the id comes before the oversized field.
  auto big = connect();
  big.write_raw("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: rid-431\r\n"
                "Origin: https://a.example\r\nX-Pad: "
                + std::string(9 * 1024, 'a') + "\r\n\r\n");
  auto h = big.read_response();
  check_problem(h, 431);
  CAF_CHECK_EQUAL(h.header("x-request-id"), "rid-431");
  CAF_CHECK_EQUAL(h.header("access-control-allow-origin"), "https://a.example");
  // An id that is not a valid one is replaced.
  auto bad = connect();
  bad.write_raw("POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\n"
                "X-Request-Id: "
                + std::string(300, 'r')
                + "\r\n"
                  "Content-Type: application/json\r\n"
                  "Content-Length: 100000\r\n\r\n");
  auto rr = bad.read_response();
  check_problem(rr, 413);
  CAF_CHECK(!rr.header("x-request-id").empty());
  CAF_CHECK(rr.header("x-request-id") != std::string(300, 'r'));
}

CAF_TEST(unknown methods are 405 and share one metrics label) {
  boot();
  auto c = connect();
  CAF_REQUIRE(c.write_raw("FOOBAR /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.read_response();
  check_problem(r, 405);
  CAF_CHECK(allowed(r).count("GET") == 1);
  CAF_REQUIRE(c.write_raw("XYZZY /api/v1/tours HTTP/1.1\r\nHost: t\r\n\r\n"));
  check_problem(c.read_response(), 405);
  // And when refused before the request was complete.
  auto big = connect();
  big.write_raw("QUUX /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: "
                + std::string(9 * 1024, 'a') + "\r\n\r\n");
  check_problem(big.read_response(), 431);
  auto m = metrics_text();
  CAF_CHECK_EQUAL(
    metric(m, "booking_http_requests_total",
           {{"route", "/healthz"}, {"method", "other"}, {"status", "405"}}),
    1.0);
  CAF_CHECK_EQUAL(metric(m, "booking_http_requests_total",
                         {{"route", "/api/v1/tours"},
                          {"method", "other"},
                          {"status", "405"}}),
                  1.0);
  std::string raw;
  for (auto& s : parse_metrics(m)) {
    auto i = s.labels.find("method");
    if (i != s.labels.end()
        && (i->second == "FOOBAR" || i->second == "XYZZY"
            || i->second == "QUUX"))
      raw += " " + s.name + "{method=" + i->second + "}";
  }
  HTTP_CHECK_MSG(raw.empty(), "raw methods in labels:" << raw);
  CAF_CHECK(m.find("FOOBAR") == std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
