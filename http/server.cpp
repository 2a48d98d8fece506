#include "http/server.hpp"

#include <atomic>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "actors/log.hpp"
#include "http/api.hpp"

namespace booking {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

/// Limit of the request line and header fields together.
constexpr size_t header_limit = 8 * 1024;

/// Time a client gets to take a response.
constexpr auto write_timeout = std::chrono::seconds(30);

/// What every connection of one server shares.
struct shared_state {
  std::shared_ptr<api_handler> api;
  http_settings cfg;
  std::atomic<size_t> connections{0};
  /// Requests read whose response is not written yet.
  std::atomic<size_t> busy{0};
  /// Set once the server stops: new requests get 503 and a closed connection.
  std::atomic<bool> stopping{false};
};

/// One client connection: reads a request, has it answered, writes the
/// response, and repeats while the client keeps the connection alive.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, std::shared_ptr<shared_state> shared,
          std::shared_ptr<net::io_context> ioc)
      : stream_(std::move(socket)), shared_(std::move(shared)),
        ioc_(std::move(ioc)) {
    beast::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec)
      client_ = remote.address().to_string();
  }

  ~session() {
    --shared_->connections;
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::do_read,
                                            shared_from_this()));
  }

private:
  // -- reading ------------------------------------------------------------

  void do_read() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(shared_->cfg.body_limit);
    continued_ = false;
    // The whole request must arrive within read-timeout, counted from accept
    // or from the end of the previous response; a kept-alive connection
    // closes sooner if idle-timeout is shorter.
    auto limit = shared_->cfg.read_timeout;
    if (!first_)
      limit = std::min(limit, shared_->cfg.idle_timeout);
    stream_.expires_after(limit);
    do_read_some();
  }

  void do_read_some() {
    http::async_read_some(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&session::on_read_some,
                                                    shared_from_this()));
  }

  void on_read_some(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout)
      return do_close();
    if (ec == http::error::header_limit)
      return refuse(make_problem(431, "header-too-large",
                                 "The request header section exceeds "
                                   + std::to_string(header_limit) + " bytes."));
    if (ec == http::error::body_limit)
      return refuse(make_problem(413, "body-too-large",
                                 "The request body exceeds "
                                   + std::to_string(shared_->cfg.body_limit)
                                   + " bytes."));
    if (ec
        && ec.category()
             == make_error_code(http::error::end_of_stream).category())
      return refuse(
        make_problem(400, "bad-request", "The request is not valid HTTP/1.1."));
    if (ec)
      return do_close();
    if (parser_->is_header_done() && !parser_->is_done() && !continued_) {
      continued_ = true;
      if (beast::iequals(parser_->get()[http::field::expect], "100-continue"))
        return do_continue();
    }
    if (!parser_->is_done())
      return do_read_some();
    // Nothing is read while the request is being answered: no timer runs.
    stream_.expires_never();
    if (shared_->stopping)
      return refuse(
        make_problem(503, "unavailable", "The server is shutting down."));
    ++shared_->busy;
    answering_ = true;
    auto self = shared_from_this();
    // The reply arrives on a CAF thread; it keeps the I/O context alive until
    // it is posted (members die in reverse order: session first). The
    // session is running on the context, so it still exists here.
    struct target {
      std::shared_ptr<net::io_context> ioc;
      std::shared_ptr<session> s;
    };
    auto to = std::make_shared<target>(target{ioc_.lock(), self});
    shared_->api->handle(parser_->release(), client_,
                         [to](http_response&& res) {
                           auto s = to->s;
                           net::post(s->stream_.get_executor(),
                                     [s, res = std::move(res)]() mutable {
                                       s->do_write(std::move(res));
                                     });
                         });
  }

  /// Answers `Expect: 100-continue`, then reads the body.
  void do_continue() {
    static const std::string line = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_, net::buffer(line),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec)
                         return self->do_close();
                       self->do_read_some();
                     });
  }

  // -- writing ------------------------------------------------------------

  void refuse(const problem& p) {
    do_write(shared_->api->refuse(p, parser_->get()));
  }

  void do_write(http_response&& res) {
    if (shared_->stopping)
      res.keep_alive(false);
    response_ = std::make_shared<http_response>(std::move(res));
    stream_.expires_after(write_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&session::on_write,
                                                shared_from_this(),
                                                response_->need_eof()));
  }

  void on_write(bool close, beast::error_code ec, size_t) {
    response_.reset();
    if (std::exchange(answering_, false))
      --shared_->busy;
    if (ec || close)
      return do_close();
    first_ = false;
    do_read();
  }

  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http_response> response_;
  std::shared_ptr<shared_state> shared_;
  /// Weak: the context holds the session's pending operations, which hold
  /// the session, so a strong reference here would keep both alive forever
  /// once the server is gone.
  std::weak_ptr<net::io_context> ioc_;
  std::string client_;
  bool first_ = true;
  bool continued_ = false;
  /// True from handing a request over until its response is written.
  bool answering_ = false;
};

} // namespace

// -- listener -----------------------------------------------------------------

struct http_server::impl {
  caf::actor_system& sys;
  api_peers peers;
  http_options opts;
  std::shared_ptr<shared_state> shared;
  std::shared_ptr<net::io_context> ioc;
  std::optional<tcp::acceptor> acceptor;
  /// Keeps the I/O threads running while a reply may still be posted, even
  /// when no socket operation is pending (e.g. during the drain).
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool running = false;

  impl(caf::actor_system& sys, api_peers peers, http_settings cfg,
       http_options opts)
      : sys(sys), peers(std::move(peers)), opts(std::move(opts)) {
    shared = std::make_shared<shared_state>();
    shared->cfg = std::move(cfg);
    ioc = std::make_shared<net::io_context>(
      static_cast<int>(std::max<size_t>(shared->cfg.threads, 1)));
  }

  void do_accept() {
    acceptor->async_accept(net::make_strand(*ioc),
                           [this](beast::error_code ec, tcp::socket socket) {
                             on_accept(ec, std::move(socket));
                           });
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open())
      return;
    if (ec) {
      log_line(log_level::warn, "accept failed", {{"error", ec.message()}});
    } else if (++shared->connections > shared->cfg.max_connections) {
      // Beyond the limit a connection is closed at once.
      --shared->connections;
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<session>(std::move(socket), shared, ioc)->run();
    }
    do_accept();
  }
};

http_server::http_server(caf::actor_system& sys, api_peers peers,
                         http_settings cfg, http_options opts)
    : impl_(std::make_unique<impl>(sys, std::move(peers), std::move(cfg),
                                   std::move(opts))) {
  // nop
}

http_server::~http_server() {
  stop();
}

void http_server::start() {
  auto& d = *impl_;
  auto& cfg = d.shared->cfg;
  d.shared->api = std::make_shared<api_handler>(d.sys, d.peers, cfg, d.opts);
  auto address = net::ip::make_address(cfg.address);
  tcp::endpoint ep{address, cfg.port};
  d.acceptor.emplace(*d.ioc);
  d.acceptor->open(ep.protocol());
  d.acceptor->set_option(net::socket_base::reuse_address(true));
  d.acceptor->bind(ep);
  d.acceptor->listen(net::socket_base::max_listen_connections);
  d.port = d.acceptor->local_endpoint().port();
  d.do_accept();
  d.work.emplace(d.ioc->get_executor());
  auto n = std::max<size_t>(cfg.threads, 1);
  for (size_t i = 0; i < n; ++i)
    d.threads.emplace_back([ioc = d.ioc] { ioc->run(); });
  d.running = true;
  log_line(log_level::info, "listening",
           {{"address", cfg.address},
            log_number("port", d.port),
            log_number("threads", static_cast<int64_t>(n))});
}

uint16_t http_server::port() const {
  return impl_->port;
}

void http_server::stop() {
  auto& d = *impl_;
  if (!d.running)
    return;
  d.running = false;
  // Stop taking connections, give requests in progress a moment to get
  // their answers, then end every connection.
  d.shared->stopping = true;
  net::post(d.ioc->get_executor(), [&d] {
    beast::error_code ec;
    d.acceptor->close(ec);
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (d.shared->busy > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  d.work.reset();
  d.ioc->stop();
  for (auto& t : d.threads)
    t.join();
  d.threads.clear();
  d.acceptor.reset();
}

} // namespace booking
