#include "sim/tcp_proxy.hpp"

#include <array>
#include <atomic>
#include <functional>
#include <future>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace booking {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

/// Bytes one direction of a connection reads before writing them on.
constexpr size_t buffer_size = 64 * 1024;

/// One forwarded connection: the client's socket, the socket to the target,
/// and one read-then-write loop per direction. Lives in the proxy's set of
/// open connections until either side closes or fails, which closes both.
class bridge : public std::enable_shared_from_this<bridge> {
public:
  using registry = std::set<std::shared_ptr<bridge>>;

  bridge(tcp::socket client, registry& open)
      : client_(std::move(client)), server_(client_.get_executor()),
        open_(open) {
    for (auto& buf : buffers_)
      buf.resize(buffer_size);
  }

  void run(const tcp::resolver::results_type& target) {
    do_connect(target);
  }

  /// Closes both sides at once; later completions see `closed_` or an
  /// aborted operation and stop.
  void close() {
    if (closed_)
      return;
    closed_ = true;
    error_code ignored;
    client_.shutdown(tcp::socket::shutdown_both, ignored);
    client_.close(ignored);
    server_.shutdown(tcp::socket::shutdown_both, ignored);
    server_.close(ignored);
    open_.erase(shared_from_this());
  }

private:
  // Direction 0 carries the client's bytes to the target, direction 1 the
  // target's bytes back to the client.
  tcp::socket& from(int dir) {
    return dir == 0 ? client_ : server_;
  }

  tcp::socket& to(int dir) {
    return dir == 0 ? server_ : client_;
  }

  // -- connecting -------------------------------------------------------------

  void do_connect(const tcp::resolver::results_type& target) {
    net::async_connect(server_, target,
                       [self = shared_from_this()](error_code ec,
                                                   const tcp::endpoint&) {
                         self->on_connect(ec);
                       });
  }

  void on_connect(error_code ec) {
    if (ec || closed_)
      return close();
    // rabbitmq-c disables Nagle's algorithm on its socket; so does the proxy,
    // lest it delay small frames the direct connection would not.
    client_.set_option(tcp::no_delay{true}, ec);
    server_.set_option(tcp::no_delay{true}, ec);
    do_read(0);
    do_read(1);
  }

  // -- forwarding -------------------------------------------------------------

  void do_read(int dir) {
    from(dir).async_read_some(net::buffer(buffers_[dir]),
                              [self = shared_from_this(), dir](error_code ec,
                                                               size_t n) {
                                self->on_read(dir, ec, n);
                              });
  }

  void on_read(int dir, error_code ec, size_t n) {
    if (ec || closed_)
      return close();
    do_write(dir, n);
  }

  void do_write(int dir, size_t n) {
    net::async_write(to(dir), net::buffer(buffers_[dir].data(), n),
                     [self = shared_from_this(), dir](error_code ec, size_t) {
                       self->on_write(dir, ec);
                     });
  }

  void on_write(int dir, error_code ec) {
    if (ec || closed_)
      return close();
    do_read(dir);
  }

  tcp::socket client_;
  tcp::socket server_;
  std::array<std::vector<char>, 2> buffers_;
  registry& open_;
  bool closed_ = false;
};

} // namespace

// -- tcp_proxy ----------------------------------------------------------------

struct tcp_proxy::state {
  net::io_context ioc{1};
  /// Keeps run() going until the destructor stops it, whatever is pending.
  net::executor_work_guard<net::io_context::executor_type> work{
    ioc.get_executor()};
  tcp::acceptor acceptor{ioc};
  /// Resolved once, so the proxy never connects anywhere else.
  tcp::resolver::results_type target;
  uint16_t port = 0;
  std::atomic<size_t> accepted{0};
  // Touched only on the proxy's thread, hence plain.
  bool down = false;
  bridge::registry open;
  std::thread thread;

  void do_accept() {
    // `this` outlives every handler: the destructor stops the thread first.
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      on_accept(ec, std::move(socket));
    });
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (!acceptor.is_open())
      return;
    // Any other failure (a client that reset before the accept, too many open
    // files) concerns one connection; the proxy keeps listening, or a
    // transient error would become an outage the simulator did not ask for.
    if (!ec) {
      if (down) {
        error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
      } else {
        ++accepted;
        auto b = std::make_shared<bridge>(std::move(socket), open);
        open.insert(b);
        b->run(target);
      }
    }
    do_accept();
  }

  void close_all() {
    // Closing a bridge erases it from `open`: iterate over a copy.
    auto all = std::move(open);
    open.clear();
    for (auto& b : all)
      b->close();
  }

  /// Runs `f` on the proxy's thread and returns once it ran.
  void run_on_thread(const std::function<void()>& f) {
    if (ioc.get_executor().running_in_this_thread()) {
      f();
      return;
    }
    std::promise<void> done;
    auto ran = done.get_future();
    net::post(ioc, [&] {
      f();
      done.set_value();
    });
    ran.wait();
  }
};

tcp_proxy::tcp_proxy(std::string target_host, uint16_t target_port)
    : state_(std::make_unique<state>()) {
  auto& s = *state_;
  tcp::resolver resolver{s.ioc};
  s.target = resolver.resolve(target_host, std::to_string(target_port),
                              tcp::resolver::numeric_service);
  tcp::endpoint local{net::ip::address_v4::loopback(), 0};
  s.acceptor.open(local.protocol());
  s.acceptor.bind(local);
  s.acceptor.listen();
  s.port = s.acceptor.local_endpoint().port();
  s.do_accept();
  s.thread = std::thread([&s] { s.ioc.run(); });
}

tcp_proxy::~tcp_proxy() {
  auto& s = *state_;
  s.run_on_thread([&s] {
    error_code ignored;
    s.acceptor.close(ignored);
    s.close_all();
  });
  // Stops rather than waits for the aborted operations to finish, so that
  // nothing left pending can keep the destructor from returning; handlers
  // that did not run die with the io_context, and with them the last
  // references to their connections.
  s.ioc.stop();
  s.thread.join();
}

uint16_t tcp_proxy::port() const {
  return state_->port;
}

void tcp_proxy::set_down(bool down) {
  auto& s = *state_;
  s.run_on_thread([&s, down] {
    s.down = down;
    if (down)
      s.close_all();
  });
}

size_t tcp_proxy::connections() const {
  return state_->accepted.load();
}

// -- AMQP URLs ----------------------------------------------------------------

namespace {

/// An `amqp://` URL in the parts `redirect_amqp_url` keeps or replaces.
struct amqp_url_parts {
  /// "user:pass" as written, without the '@'.
  std::optional<std::string> userinfo;
  amqp_target target;
  /// "" or "/vhost" as written.
  std::string path;
};

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
         || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (c <= '9')
    return c - '0';
  return (c | 0x20) - 'a' + 10;
}

/// Decodes the %XX escapes of `x`; nothing if one is malformed. Like
/// rabbitmq-c, accepts only escapes of 7-bit characters.
std::optional<std::string> percent_decode(const std::string& x) {
  std::string out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] != '%') {
      out += x[i];
      continue;
    }
    if (i + 2 >= x.size() || !is_hex(x[i + 1]) || !is_hex(x[i + 2]))
      return std::nullopt;
    // A NUL would cut the C string rabbitmq-c makes of the URL.
    auto value = hex_value(x[i + 1]) * 16 + hex_value(x[i + 2]);
    if (value == 0 || value > 0x7f)
      return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

bool contains_any(const std::string& x, const char* chars) {
  return x.find_first_of(chars) != std::string::npos;
}

std::optional<uint16_t> parse_port(const std::string& x) {
  if (x.empty() || x.size() > 5)
    return std::nullopt;
  unsigned value = 0;
  for (auto c : x) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

/// Splits `url` the way rabbitmq-c's amqp_parse_url reads it and rejects
/// what it rejects, so that a URL the engine would refuse does not become a
/// valid one on the way through the proxy. Stricter only on oddities such as
/// a port given twice or with a sign.
std::optional<amqp_url_parts> split_amqp_url(const std::string& url) {
  static constexpr std::string_view scheme = "amqp://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return std::nullopt;
  amqp_url_parts out;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    out.path = rest.substr(slash);
    // The vhost is one segment: rabbitmq-c wants a '/' in it as %2f.
    auto vhost = out.path.substr(1);
    if (contains_any(vhost, ":@/?#[]") || !percent_decode(vhost))
      return std::nullopt;
  }
  if (contains_any(authority, "?#"))
    return std::nullopt;
  auto host_port = authority;
  if (auto at = authority.find('@'); at != std::string::npos) {
    auto userinfo = authority.substr(0, at);
    host_port = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    if (contains_any(userinfo, "[]") || !percent_decode(userinfo)
        || (colon != std::string::npos
            && userinfo.find(':', colon + 1) != std::string::npos))
      return std::nullopt;
    out.userinfo = std::move(userinfo);
  }
  if (host_port.find('@') != std::string::npos)
    return std::nullopt;
  std::string host;
  std::string port;
  bool has_port = false;
  if (!host_port.empty() && host_port.front() == '[') {
    auto close = host_port.find(']');
    if (close == std::string::npos)
      return std::nullopt;
    host = host_port.substr(1, close - 1);
    auto after = host_port.substr(close + 1);
    if (host.empty() || contains_any(host, "[")
        || (!after.empty() && after.front() != ':'))
      return std::nullopt;
    if (!after.empty()) {
      has_port = true;
      port = after.substr(1);
    }
  } else {
    if (contains_any(host_port, "[]"))
      return std::nullopt;
    auto colon = host_port.find(':');
    host = host_port.substr(0, colon);
    if (colon != std::string::npos) {
      has_port = true;
      port = host_port.substr(colon + 1);
    }
  }
  auto decoded = percent_decode(host);
  if (!decoded)
    return std::nullopt;
  out.target.host = decoded->empty() ? "localhost" : std::move(*decoded);
  if (has_port) {
    auto number = parse_port(port);
    if (!number)
      return std::nullopt;
    out.target.port = *number;
  }
  return out;
}

} // namespace

std::optional<amqp_target> parse_amqp_target(const std::string& url) {
  if (auto parts = split_amqp_url(url))
    return std::move(parts->target);
  return std::nullopt;
}

std::string redirect_amqp_url(const std::string& url, uint16_t port) {
  auto parts = split_amqp_url(url);
  if (!parts)
    return {};
  std::string out = "amqp://";
  if (parts->userinfo)
    out += *parts->userinfo + "@";
  out += "127.0.0.1:" + std::to_string(port) + parts->path;
  return out;
}

} // namespace booking
