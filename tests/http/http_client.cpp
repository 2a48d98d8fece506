#include "tests/http/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <optional>
#include <sstream>
#include <system_error>

#include <sys/resource.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace booking::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr size_t response_body_limit = 64 * 1024 * 1024;

std::string lower(std::string x) {
  std::transform(x.begin(), x.end(), x.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return x;
}

bool iequals(const std::string& x, const std::string& y) {
  return lower(x) == lower(y);
}

tcp::endpoint loopback(uint16_t port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

http::request<http::string_body> make_request(const http_request_spec& spec,
                                              uint16_t port) {
  http::request<http::string_body> req;
  auto verb = http::string_to_verb(spec.method);
  if (verb == http::verb::unknown)
    req.method_string(spec.method);
  else
    req.method(verb);
  req.target(spec.target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  bool has_type = false;
  for (auto& [name, value] : spec.headers) {
    req.insert(name, value);
    if (iequals(name, "content-type"))
      has_type = true;
  }
  if (!spec.body.empty()) {
    if (!has_type)
      req.set(http::field::content_type, "application/json");
    req.body() = spec.body;
  }
  req.prepare_payload();
  return req;
}

template <class Fields>
std::map<std::string, std::string> header_map(const Fields& fields) {
  std::map<std::string, std::string> out;
  for (auto& f : fields) {
    auto key = lower(std::string{f.name_string()});
    auto& slot = out[key];
    if (!slot.empty())
      slot += ", ";
    slot += std::string{f.value()};
  }
  return out;
}

http_response failed(const std::string& what) {
  http_response r;
  r.status = 0;
  r.body = what;
  r.keep_alive = false;
  return r;
}

} // namespace

// -- http_response ------------------------------------------------------------

bool http_response::has_header(const std::string& name) const {
  return headers.count(lower(name)) > 0;
}

std::string http_response::header(const std::string& name) const {
  auto i = headers.find(lower(name));
  return i == headers.end() ? std::string{} : i->second;
}

rapidjson::Document http_response::json() const {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  return doc;
}

std::string http_response::to_text() const {
  std::ostringstream out;
  out << status;
  for (auto& [k, v] : headers)
    out << "\n" << k << ": " << v;
  out << "\n\n" << body;
  return out.str();
}

// -- http_connection ----------------------------------------------------------

struct http_connection::impl {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  beast::flat_buffer buf;
  std::chrono::milliseconds timeout;
  uint16_t port = 0;
  bool open = false;

  /// Runs the operation `start(done)` begins until `done(ec)` is called or
  /// `limit` passes, then cancels it; returns its error and whether it
  /// timed out.
  template <class Start>
  std::pair<error_code, bool>
  run(std::chrono::milliseconds limit, Start start) {
    error_code result;
    bool done = false;
    bool timed_out = false;
    asio::steady_timer timer{ioc};
    timer.expires_after(limit);
    timer.async_wait([&](error_code ec) {
      if (!ec && !done) {
        timed_out = true;
        error_code ignored;
        sock.cancel(ignored);
      }
    });
    start([&](error_code ec) {
      done = true;
      result = ec;
      timer.cancel();
    });
    ioc.restart();
    ioc.run();
    return {result, timed_out};
  }
};

http_connection::http_connection(uint16_t port,
                                 std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  impl_->timeout = timeout;
  impl_->port = port;
  auto& d = *impl_;
  auto [ec, timed_out] = d.run(timeout, [&](auto done) {
    d.sock.async_connect(loopback(port), done);
  });
  if (timed_out)
    throw std::system_error(std::make_error_code(std::errc::timed_out),
                            "connect");
  if (ec)
    throw std::system_error(ec.value(), std::system_category(), "connect");
  d.sock.set_option(tcp::no_delay{true});
  d.open = true;
}

http_connection::~http_connection() = default;

http_connection::http_connection(http_connection&&) noexcept = default;

http_connection&
http_connection::operator=(http_connection&&) noexcept = default;

http_response
http_connection::send(const std::string& method, const std::string& target,
                      const std::string& body, const header_list& headers) {
  auto& d = *impl_;
  if (!d.open)
    return failed("connection closed");
  auto req = make_request({method, target, body, headers}, d.port);
  auto [ec, timed_out] = d.run(d.timeout, [&](auto done) {
    http::async_write(d.sock, req, [done](error_code ec, size_t) { done(ec); });
  });
  if (ec) {
    d.open = false;
    if (timed_out)
      return failed("write timed out");
    // The server may have answered early (e.g. 413) and closed.
    auto early = read_response(method == "HEAD");
    return early.status != 0 ? early : failed("write: " + ec.message());
  }
  return read_response(method == "HEAD");
}

bool http_connection::write_raw(const std::string& bytes) {
  auto& d = *impl_;
  if (!d.open)
    return false;
  auto [ec, timed_out] = d.run(d.timeout, [&](auto done) {
    asio::async_write(d.sock, asio::buffer(bytes),
                      [done](error_code ec, size_t) { done(ec); });
  });
  if (ec) {
    // Reading may still work: the server may have answered and closed.
    d.open = false;
    return false;
  }
  return true;
}

http_response http_connection::read_response(bool to_head) {
  auto& d = *impl_;
  if (!d.sock.is_open())
    return failed("connection closed");
  http::response_parser<http::string_body> parser;
  parser.body_limit(response_body_limit);
  // A response to HEAD has no body, whatever Content-Length says.
  parser.skip(to_head);
  auto [ec, timed_out] = d.run(d.timeout, [&](auto done) {
    http::async_read(d.sock, d.buf, parser,
                     [done](error_code ec, size_t) { done(ec); });
  });
  if (ec) {
    d.open = false;
    return failed(timed_out ? "read timed out" : "read: " + ec.message());
  }
  auto& res = parser.get();
  http_response out;
  out.status = static_cast<int>(res.result_int());
  out.headers = header_map(res);
  out.body = res.body();
  out.keep_alive = res.keep_alive();
  if (!out.keep_alive)
    d.open = false;
  return out;
}

close_result http_connection::wait_closed(std::chrono::milliseconds limit) {
  using clock = std::chrono::steady_clock;
  auto& d = *impl_;
  close_result out;
  auto start = clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now()
                                                                 - start);
  };
  // Bytes already buffered count as received.
  if (d.buf.size() > 0) {
    auto data = d.buf.data();
    out.received.assign(static_cast<const char*>(data.data()), data.size());
    d.buf.consume(d.buf.size());
  }
  if (!d.sock.is_open()) {
    out.closed = true;
    return out;
  }
  char chunk[4096];
  for (;;) {
    auto left = limit - elapsed();
    if (left <= std::chrono::milliseconds{0}) {
      out.after = elapsed();
      return out;
    }
    size_t got = 0;
    auto [ec, timed_out] = d.run(left, [&](auto done) {
      d.sock.async_read_some(asio::buffer(chunk),
                             [&got, done](error_code ec, size_t n) {
                               got = n;
                               done(ec);
                             });
    });
    out.received.append(chunk, got);
    if (timed_out) {
      out.after = elapsed();
      return out;
    }
    if (ec) {
      out.closed = true;
      out.after = elapsed();
      d.open = false;
      return out;
    }
  }
}

bool http_connection::is_open() const {
  return impl_ && impl_->open;
}

void http_connection::close() {
  if (!impl_)
    return;
  error_code ignored;
  impl_->sock.shutdown(tcp::socket::shutdown_both, ignored);
  impl_->sock.close(ignored);
  impl_->open = false;
}

void http_connection::set_timeout(std::chrono::milliseconds timeout) {
  impl_->timeout = timeout;
}

// -- run_concurrently ---------------------------------------------------------

namespace {

struct session : std::enable_shared_from_this<session> {
  tcp::socket sock;
  asio::steady_timer timer;
  beast::flat_buffer buf;
  std::vector<http_request_spec> specs;
  std::vector<http_result>* results;
  size_t conn;
  size_t next = 0;
  uint16_t port;
  std::chrono::milliseconds timeout;
  http::request<http::string_body> req;
  std::optional<http::response_parser<http::string_body>> parser;

  session(asio::io_context& ioc, std::vector<http_request_spec> specs,
          std::vector<http_result>* results, size_t conn, uint16_t port,
          std::chrono::milliseconds timeout)
      : sock(ioc), timer(ioc), specs(std::move(specs)), results(results),
        conn(conn), port(port), timeout(timeout) {
    // nop
  }

  void arm() {
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        error_code ignored;
        self->sock.cancel(ignored);
      }
    });
  }

  void fail_rest(const std::string& what) {
    for (; next < specs.size(); ++next) {
      http_result r;
      r.connection = conn;
      r.index = next;
      r.error = what;
      results->push_back(std::move(r));
    }
    finish();
  }

  void finish() {
    timer.cancel();
    error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }

  void start() {
    arm();
    sock.async_connect(loopback(port),
                       [self = shared_from_this()](error_code ec) {
                         if (ec)
                           return self->fail_rest("connect: " + ec.message());
                         error_code ignored;
                         self->sock.set_option(tcp::no_delay{true}, ignored);
                         self->request();
                       });
  }

  void request() {
    if (next == specs.size())
      return finish();
    arm();
    req = make_request(specs[next], port);
    http::async_write(sock, req,
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (ec)
                          return self->fail_rest("write: " + ec.message());
                        self->read();
                      });
  }

  void read() {
    parser.emplace();
    parser->body_limit(response_body_limit);
    http::async_read(sock, buf, *parser,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec)
                         return self->fail_rest("read: " + ec.message());
                       auto& res = self->parser->get();
                       http_result r;
                       r.connection = self->conn;
                       r.index = self->next;
                       r.status = static_cast<int>(res.result_int());
                       r.headers = header_map(res);
                       r.body = res.body();
                       self->results->push_back(std::move(r));
                       ++self->next;
                       if (!res.keep_alive() && self->next < self->specs.size())
                         return self->fail_rest("server closed");
                       self->request();
                     });
  }
};

} // namespace

std::vector<http_result> run_concurrently(
  uint16_t port, size_t connections,
  const std::function<std::vector<http_request_spec>(size_t)>& make,
  std::chrono::milliseconds timeout) {
  asio::io_context ioc{1};
  std::vector<std::vector<http_result>> per_conn(connections);
  for (size_t i = 0; i < connections; ++i)
    std::make_shared<session>(ioc, make(i), &per_conn[i], i, port, timeout)
      ->start();
  ioc.run();
  std::vector<http_result> out;
  for (auto& xs : per_conn)
    for (auto& x : xs)
      out.push_back(std::move(x));
  return out;
}

// -- process setup ------------------------------------------------------------

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  // A write to a connection the server closed must fail, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
}

namespace {

// Runs before the test runner's main: the load suite needs the descriptors.
const bool process_ready = [] {
  raise_fd_limit();
  return true;
}();

} // namespace

} // namespace booking::testing
