// The loopback forwarder behind the simulator's broker outages: bytes through
// it, its outage switch, and the URL rewrite that points the engine at it.
// An echo server on loopback stands in for the broker.
#define CAF_SUITE sim.tcp_proxy
#include "sim/tcp_proxy.hpp"

#include <caf/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

using namespace booking;
using namespace std::chrono_literals;

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

/// Time an exchange of bytes may take before the check fails; generous,
/// since it only matters when something is broken.
constexpr auto patience = std::chrono::milliseconds{5000};

/// Time the proxy gets to close a connection it cuts or refuses.
constexpr auto close_limit = std::chrono::milliseconds{1000};

/// Polls `pred` until it holds or `limit` passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = close_limit) {
  auto deadline = clock_type::now() + limit;
  while (!pred()) {
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// `n` bytes of every value in an order no shorter pattern repeats, so a
/// dropped, duplicated or reordered chunk shows.
std::string pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return out;
}

/// A port on which nothing listens (it was free a moment ago).
uint16_t unused_port() {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, {net::ip::address_v4::loopback(), 0}};
  return acceptor.local_endpoint().port();
}

// -- echo server --------------------------------------------------------------

/// What the echo server saw; shared with its sessions.
struct echo_counts {
  std::atomic<int> accepted{0};
  /// Connections whose socket the server still holds: one drops out once
  /// its peer closed.
  std::atomic<int> open{0};
  /// Bytes read from all connections: tells that bytes came through the
  /// server and were not merely looped back on the way.
  std::atomic<size_t> received{0};
};

/// Writes back whatever its client sends, until the client closes.
class echo_session : public std::enable_shared_from_this<echo_session> {
public:
  echo_session(tcp::socket socket, std::shared_ptr<echo_counts> counts)
      : socket_(std::move(socket)), counts_(std::move(counts)) {
    ++counts_->open;
  }

  ~echo_session() {
    --counts_->open;
  }

  void run() {
    do_read();
  }

private:
  void do_read() {
    socket_.async_read_some(
      net::buffer(buf_), [self = shared_from_this()](error_code ec, size_t n) {
        self->on_read(ec, n);
      });
  }

  void on_read(error_code ec, size_t n) {
    if (ec)
      return;
    counts_->received += n;
    do_write(n);
  }

  void do_write(size_t n) {
    net::async_write(socket_, net::buffer(buf_.data(), n),
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->on_write(ec);
                     });
  }

  void on_write(error_code ec) {
    if (ec)
      return;
    do_read();
  }

  tcp::socket socket_;
  std::shared_ptr<echo_counts> counts_;
  std::array<char, 16 * 1024> buf_;
};

/// An echo server on 127.0.0.1 on a free port, on a thread of its own.
class echo_server {
public:
  echo_server() {
    tcp::endpoint local{net::ip::address_v4::loopback(), 0};
    acceptor_.open(local.protocol());
    acceptor_.bind(local);
    acceptor_.listen();
    do_accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~echo_server() {
    // Sessions still open die with the io_context's pending handlers.
    ioc_.stop();
    thread_.join();
  }

  uint16_t port() const {
    return acceptor_.local_endpoint().port();
  }

  int accepted() const {
    return counts_->accepted.load();
  }

  int open() const {
    return counts_->open.load();
  }

  size_t received() const {
    return counts_->received.load();
  }

private:
  void do_accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      on_accept(ec, std::move(socket));
    });
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (ec)
      return;
    ++counts_->accepted;
    std::make_shared<echo_session>(std::move(socket), counts_)->run();
    do_accept();
  }

  std::shared_ptr<echo_counts> counts_ = std::make_shared<echo_counts>();
  net::io_context ioc_{1};
  tcp::acceptor acceptor_{ioc_};
  std::thread thread_;
};

// -- client -------------------------------------------------------------------

/// One connection to 127.0.0.1:`port`, used from the test's thread. Every
/// wait has a limit, so a proxy that hangs fails a check instead of the
/// test binary.
class client {
public:
  explicit client(uint16_t port) {
    socket_.connect({net::ip::address_v4::loopback(), port}, connect_error_);
  }

  bool connected() const {
    return !connect_error_;
  }

  /// Writes `out` and reads as many bytes back. Writes and reads at once,
  /// because a large echo fills the socket buffers of both directions and
  /// would stall a client that writes everything first. Returns what came
  /// back, shorter than `out` on an error or when `limit` passed.
  std::string echo(const std::string& out,
                   std::chrono::milliseconds limit = patience) {
    std::string in(out.size(), '\0');
    size_t got = 0;
    net::async_write(socket_, net::buffer(out), [](error_code, size_t) {});
    net::async_read(socket_, net::buffer(in),
                    [&](error_code, size_t n) { got = n; });
    run(limit);
    in.resize(got);
    return in;
  }

  /// Writes `out` and ignores errors: the proxy may close the connection
  /// before, during or after.
  void write(const std::string& out) {
    error_code ignored;
    net::write(socket_, net::buffer(out), ignored);
  }

  /// Waits up to `limit` for the peer to close; true if it did (end of
  /// stream or a reset) in time. Bytes that arrive meanwhile go to `stray`.
  bool closed_within(std::chrono::milliseconds limit) {
    auto deadline = clock_type::now() + limit;
    std::array<char, 4096> chunk;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - clock_type::now());
      if (left <= std::chrono::milliseconds{0})
        return false;
      error_code result;
      size_t got = 0;
      socket_.async_read_some(net::buffer(chunk), [&](error_code ec, size_t n) {
        result = ec;
        got = n;
      });
      if (!run(left))
        return false;
      if (result) {
        close_error_ = result;
        return true;
      }
      stray_.append(chunk.data(), got);
    }
  }

  /// Bytes `closed_within` received instead of a close.
  const std::string& stray() const {
    return stray_;
  }

  /// What `closed_within` saw close the connection.
  std::string close_error() const {
    return close_error_.message();
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
  }

private:
  /// Runs the started operations to completion or until `limit` passes, in
  /// which case it cancels them; returns whether they completed in time.
  bool run(std::chrono::milliseconds limit) {
    ioc_.restart();
    ioc_.run_for(limit);
    if (ioc_.stopped())
      return true;
    error_code ignored;
    socket_.cancel(ignored);
    ioc_.restart();
    ioc_.run();
    return false;
  }

  net::io_context ioc_{1};
  tcp::socket socket_{ioc_};
  error_code connect_error_;
  error_code close_error_;
  std::string stray_;
};

struct fixture {
  echo_server echo;
  tcp_proxy proxy{"127.0.0.1", echo.port()};
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(tcp_proxy_tests, fixture)

CAF_TEST(bytes round trip through the proxy) {
  client c{proxy.port()};
  CAF_REQUIRE(c.connected());
  CAF_CHECK_EQUAL(c.echo("hello"), "hello");
  auto big = pattern(1024 * 1024);
  auto back = c.echo(big);
  CAF_CHECK_EQUAL(back.size(), big.size());
  CAF_CHECK(back == big);
  // The bytes went through the proxy and the server, in one connection.
  CAF_CHECK_EQUAL(echo.received(), 5 + big.size());
  CAF_CHECK_EQUAL(proxy.connections(), size_t{1});
  CAF_CHECK_EQUAL(echo.accepted(), 1);
}

CAF_TEST(connections are forwarded independently) {
  client a{proxy.port()};
  client b{proxy.port()};
  CAF_REQUIRE(a.connected() && b.connected());
  CAF_CHECK_EQUAL(a.echo("from a"), "from a");
  CAF_CHECK_EQUAL(b.echo("from b"), "from b");
  CAF_CHECK_EQUAL(a.echo("a again"), "a again");
  CAF_CHECK_EQUAL(echo.received(), size_t{6 + 6 + 7});
  CAF_CHECK_EQUAL(proxy.connections(), size_t{2});
  CAF_CHECK_EQUAL(echo.accepted(), 2);
}

CAF_TEST(a client closing closes the target side) {
  client c{proxy.port()};
  CAF_REQUIRE_EQUAL(c.echo("x"), "x");
  CAF_CHECK_EQUAL(echo.open(), 1);
  c.close();
  CAF_CHECK(eventually([&] { return echo.open() == 0; }));
}

CAF_TEST(set_down closes every open connection on both sides) {
  client a{proxy.port()};
  client b{proxy.port()};
  CAF_REQUIRE_EQUAL(a.echo("a"), "a");
  CAF_REQUIRE_EQUAL(b.echo("b"), "b");
  CAF_CHECK_EQUAL(echo.open(), 2);
  proxy.set_down(true);
  CAF_CHECK(a.closed_within(close_limit));
  CAF_CHECK(b.closed_within(close_limit));
  CAF_MESSAGE("client saw: " << a.close_error());
  CAF_CHECK(a.stray().empty());
  CAF_CHECK(b.stray().empty());
  CAF_CHECK(eventually([&] { return echo.open() == 0; }));
}

CAF_TEST(while down a new connection is closed at once) {
  proxy.set_down(true);
  for (int i = 0; i < 3; ++i) {
    client c{proxy.port()};
    // The proxy still accepts, so the connect succeeds; then it closes.
    CAF_REQUIRE(c.connected());
    c.write("lost");
    CAF_CHECK(c.closed_within(close_limit));
    CAF_CHECK(c.stray().empty());
  }
  CAF_CHECK_EQUAL(proxy.connections(), size_t{0});
  CAF_CHECK_EQUAL(echo.accepted(), 0);
  CAF_CHECK_EQUAL(echo.received(), size_t{0});
}

CAF_TEST(set_down false forwards again) {
  client before{proxy.port()};
  CAF_REQUIRE_EQUAL(before.echo("before"), "before");
  proxy.set_down(true);
  proxy.set_down(true); // a second switch changes nothing
  CAF_CHECK(before.closed_within(close_limit));
  {
    client refused{proxy.port()};
    CAF_CHECK(refused.closed_within(close_limit));
  }
  proxy.set_down(false);
  proxy.set_down(false);
  client after{proxy.port()};
  CAF_REQUIRE(after.connected());
  CAF_CHECK_EQUAL(after.echo("after"), "after");
  auto big = pattern(256 * 1024);
  CAF_CHECK(after.echo(big) == big);
  // The refused connection does not count.
  CAF_CHECK_EQUAL(proxy.connections(), size_t{2});
  CAF_CHECK_EQUAL(echo.accepted(), 2);
  CAF_CHECK_EQUAL(echo.open(), 1);
}

CAF_TEST(set_down from another thread takes effect before it returns) {
  client c{proxy.port()};
  CAF_REQUIRE_EQUAL(c.echo("x"), "x");
  std::thread other([&] { proxy.set_down(true); });
  other.join();
  // Closed already when set_down returned: the client sees it at once.
  CAF_CHECK(c.closed_within(close_limit));
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(a target that refuses closes the client) {
  tcp_proxy proxy{"127.0.0.1", unused_port()};
  client c{proxy.port()};
  CAF_REQUIRE(c.connected());
  CAF_CHECK(c.closed_within(close_limit));
  CAF_CHECK(c.stray().empty());
  CAF_CHECK_EQUAL(proxy.connections(), size_t{1});
}

CAF_TEST(destroying the proxy closes its connections) {
  echo_server echo;
  auto proxy = std::make_unique<tcp_proxy>("127.0.0.1", echo.port());
  client c{proxy->port()};
  CAF_REQUIRE_EQUAL(c.echo("x"), "x");
  auto port = proxy->port();
  proxy.reset();
  CAF_CHECK(c.closed_within(close_limit));
  CAF_CHECK(eventually([&] { return echo.open() == 0; }));
  // Nothing listens on its port any more.
  client late{port};
  CAF_CHECK(!late.connected());
}

CAF_TEST(a target host name is resolved) {
  echo_server echo;
  tcp_proxy proxy{"localhost", echo.port()};
  CAF_CHECK_NOT_EQUAL(proxy.port(), 0);
  client c{proxy.port()};
  CAF_REQUIRE(c.connected());
  CAF_CHECK_EQUAL(c.echo("via localhost"), "via localhost");
}

CAF_TEST(redirect_amqp_url points the url at the proxy) {
  auto r = [](const std::string& url) { return redirect_amqp_url(url, 6000); };
  CAF_CHECK_EQUAL(r("amqp://guest:guest@localhost:5672/%2f"),
                  "amqp://guest:guest@127.0.0.1:6000/%2f");
  CAF_CHECK_EQUAL(r("amqp://broker.example:5673/prod"),
                  "amqp://127.0.0.1:6000/prod");
  CAF_CHECK_EQUAL(r("amqp://guest:guest@rabbit/"),
                  "amqp://guest:guest@127.0.0.1:6000/");
  CAF_CHECK_EQUAL(r("amqp://user@rabbit"), "amqp://user@127.0.0.1:6000");
  CAF_CHECK_EQUAL(r("amqp://rabbit"), "amqp://127.0.0.1:6000");
  CAF_CHECK_EQUAL(r("amqp://"), "amqp://127.0.0.1:6000");
  CAF_CHECK_EQUAL(r("amqp://u:p%40ss@[::1]:5672/v%2fhost"),
                  "amqp://u:p%40ss@127.0.0.1:6000/v%2fhost");
  CAF_CHECK_EQUAL(redirect_amqp_url("amqp://h:5672/", 1),
                  "amqp://127.0.0.1:1/");
}

CAF_TEST(redirect_amqp_url rejects what it cannot parse) {
  auto reject = [](std::initializer_list<const char*> urls) {
    for (auto url : urls) {
      CAF_MESSAGE("url: " << url);
      CAF_CHECK_EQUAL(redirect_amqp_url(url, 6000), "");
      CAF_CHECK(!parse_amqp_target(url));
    }
  };
  // Not amqp:// (rabbitmq-c matches the scheme case-sensitively); amqps://
  // would need TLS through the proxy.
  reject({"", "garbage", "localhost:5672", "http://h:5672/", "AMQP://h/",
          "amqps://guest:guest@h:5671/"});
  // A port that is not one.
  reject(
    {"amqp://h:notaport/", "amqp://h:70000/", "amqp://h:/", "amqp://h:-1/"});
  // A vhost of more than one segment, a query, a fragment.
  reject({"amqp://h/a/b", "amqp://h/v?heartbeat=10", "amqp://h#x"});
  // Stray delimiters and brackets.
  reject({"amqp://a@b@c/", "amqp://u:p:q@h/", "amqp://[::1/", "amqp://h]/",
          "amqp://[]/"});
  // Broken, NUL or non-ASCII escapes.
  reject({"amqp://h/%zz", "amqp://h/%", "amqp://h/%00", "amqp://h/%ff"});
}

CAF_TEST(parse_amqp_target reads host and port with the defaults) {
  auto t = parse_amqp_target("amqp://guest:guest@rabbit:5673/%2f");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "rabbit");
  CAF_CHECK_EQUAL(t->port, 5673);
  t = parse_amqp_target("amqp://rabbit/");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "rabbit");
  CAF_CHECK_EQUAL(t->port, 5672);
  t = parse_amqp_target("amqp://");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "localhost");
  CAF_CHECK_EQUAL(t->port, 5672);
  t = parse_amqp_target("amqp://u:p@[::1]:5674/v");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "::1");
  CAF_CHECK_EQUAL(t->port, 5674);
  t = parse_amqp_target("amqp://r%61bbit:1");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "rabbit");
  CAF_CHECK_EQUAL(t->port, 1);
}
