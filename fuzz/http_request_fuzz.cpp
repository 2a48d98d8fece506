// Fuzz target: the HTTP request path without the actors behind it.
//
// The input is a raw byte stream from a client. It goes through Beast's
// request parser with the server's limits (8 KiB of header, 64 KiB of
// body), in pieces as a socket would deliver them, and every request it
// yields goes through our routing, query parsing and percent-decoding, and
// the JSON decode and validation of the bodies the API takes. Nothing may
// crash, hang or grow without bound.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <ostream> // needed by boost/core/detail/string_view.hpp

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "actors/codec/json_codec.hpp"
#include "actors/codec/problem.hpp"
#include "http/router.hpp"

namespace http = boost::beast::http;
using namespace booking;

namespace {

constexpr size_t header_limit = 8 * 1024;
constexpr size_t body_limit = 64 * 1024;

void handle(const http::request<http::string_body>& req) {
  auto target = std::string_view{req.target().data(), req.target().size()};
  auto qpos = target.find('?');
  auto route = match_route(req.method(), target.substr(0, qpos));
  if (qpos != std::string_view::npos)
    parse_query(target.substr(qpos + 1));
  percent_decode(route.id);
  problem err;
  switch (route.target) {
    case endpoint::create_booking: {
      booking_request br;
      if (parse_booking_request(req.body(), br, err))
        to_json(booking_record{});
      break;
    }
    case endpoint::create_tour: {
      tour t;
      if (parse_tour(req.body(), t, err))
        to_json(t);
      break;
    }
    default:
      break;
  }
  if (!err.slug.empty())
    to_json(err);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte sets how many bytes each read delivers (1..256).
  if (size < 1)
    return 0;
  size_t chunk = static_cast<size_t>(data[0]) + 1;
  std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  boost::beast::flat_buffer buf;
  auto parser = std::make_unique<http::request_parser<http::string_body>>();
  parser->header_limit(header_limit);
  parser->body_limit(body_limit);
  while (!rest.empty()) {
    auto n = std::min(chunk, rest.size());
    auto dst = buf.prepare(n);
    std::memcpy(dst.data(), rest.data(), n);
    buf.commit(n);
    rest.remove_prefix(n);
    for (;;) {
      boost::system::error_code ec;
      auto used = parser->put(buf.data(), ec);
      buf.consume(used);
      if (ec == http::error::need_more)
        break;
      if (ec)
        return 0; // the server answers 400/413/431 and closes
      if (!parser->is_done()) {
        if (used == 0)
          break;
        continue;
      }
      handle(parser->get());
      // Keep-alive: the next request on the same connection.
      parser = std::make_unique<http::request_parser<http::string_body>>();
      parser->header_limit(header_limit);
      parser->body_limit(body_limit);
    }
  }
  return 0;
}
