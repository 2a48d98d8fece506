// A small HTTP/1.1 client for the HTTP API tests, on Boost.Beast over
// loopback.
//
// `http_connection` is one synchronous keep-alive connection: `send` writes a
// request and reads its response; `write_raw` writes arbitrary bytes (slow
// clients, oversized or malformed requests) and `wait_closed` tells whether
// and when the server closed the connection. Every operation has a timeout,
// so a server that hangs fails a check instead of the test binary.
//
//   http_connection c{port};
//   auto r = c.send("POST", "/api/v1/bookings", body, {{"Prefer", "wait=5"}});
//   CAF_CHECK_EQUAL(r.status, 201);
//   auto doc = r.json();
//
// `run_concurrently` opens many keep-alive connections at once from one
// thread (asio's io_context) and runs a list of requests on each.

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

namespace booking::testing {

/// Extra request headers, in order.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// A response as the client read it.
struct http_response {
  int status = 0;
  /// Header fields by lower-case name; repeated fields joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;
  /// False if the server announced `Connection: close` (or HTTP/1.0).
  bool keep_alive = true;

  /// True if the header is present (any case).
  bool has_header(const std::string& name) const;

  /// The header's value, or "" if absent.
  std::string header(const std::string& name) const;

  /// Parses the body; a parse error yields a document that `IsObject()`
  /// and `IsArray()` both reject (check `HasParseError()`).
  rapidjson::Document json() const;

  /// Status line, headers and body, for failure messages.
  std::string to_text() const;
};

/// How a wait for the server to close a connection ended.
struct close_result {
  /// True if the server closed (EOF or reset).
  bool closed = false;
  /// Time from the start of the wait to the close (or to the limit).
  std::chrono::milliseconds after{0};
  /// Bytes the server sent meanwhile (e.g. a 408 before closing).
  std::string received;
};

/// One keep-alive connection to `127.0.0.1:port`.
class http_connection {
public:
  /// Connects; throws `std::system_error` if that fails.
  explicit http_connection(uint16_t port, std::chrono::milliseconds timeout
                                          = std::chrono::seconds(30));

  ~http_connection();

  http_connection(http_connection&&) noexcept;
  http_connection& operator=(http_connection&&) noexcept;

  /// Writes a request and reads the response. A non-empty body gets
  /// `Content-Type: application/json` unless `headers` names one, and a
  /// `Content-Length`. On any I/O error or timeout the result has status 0
  /// and the error text in `body`. The response to `HEAD` is read without a
  /// body, whatever its `Content-Length` says.
  http_response send(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     const header_list& headers = {});

  /// Writes bytes as they are; false if the write failed (a response the
  /// server sent before closing may still be read).
  bool write_raw(const std::string& bytes);

  /// Reads one response (after `write_raw`); status 0 on error or timeout.
  /// With `to_head`, it is the response to a `HEAD` request: header only.
  http_response read_response(bool to_head = false);

  /// Reads until the server closes the connection or `limit` passes.
  close_result wait_closed(std::chrono::milliseconds limit);

  /// False once an error or a close was seen.
  bool is_open() const;

  /// Closes from the client side.
  void close();

  /// Sets the timeout of each later operation.
  void set_timeout(std::chrono::milliseconds timeout);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// One request for `run_concurrently`.
struct http_request_spec {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  header_list headers;
};

/// The outcome of one request of `run_concurrently`.
struct http_result {
  /// Index of the connection.
  size_t connection = 0;
  /// Index of the request on its connection.
  size_t index = 0;
  /// 0 if the request failed before a response arrived.
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  /// Error text when `status` is 0.
  std::string error;
};

/// Opens `connections` keep-alive connections at once and runs, on each,
/// the requests `make(i)` lists for connection `i`, one after another. Runs
/// on the calling thread; returns every result, ordered by connection and
/// index.
std::vector<http_result> run_concurrently(
  uint16_t port, size_t connections,
  const std::function<std::vector<http_request_spec>(size_t)>& make,
  std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// Raises the soft limit of open files to the hard limit.
void raise_fd_limit();

} // namespace booking::testing
