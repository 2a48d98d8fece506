// http-ceiling: the fastest a Boost.Beast HTTP/1.1 server answers on this
// machine, measured as the engine's HTTP API is measured (bench/http_run.sh).
//
// It has the engine's HTTP shape without the engine: an async keep-alive
// server (listener + one session per connection, one strand each, the
// do_x/on_x pairs of Beast's example/http/server/async) on `--threads` I/O
// threads. Every request, whatever its method and target, is read in full
// (the body into a string, as a real handler would, then dropped) and
// answered with the same small JSON body an accepted booking gets:
//
//   202 Accepted
//   {"id":"00000000-0000-4000-8000-000000000000","status":"pending"}
//
//   http-ceiling --address=127.0.0.1 --port=0 --threads=1
//
// Once bound it prints one JSON line on stderr, like booking-server:
//   {"message":"listening","address":"127.0.0.1","port":N}
// and serves until SIGINT or SIGTERM, then exits 0. Exit status 2 on bad
// options, 1 if the address cannot be bound.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

/// The answer to every request: what the API returns for a booking it
/// accepted but has not decided yet.
constexpr const char* reply_body
  = R"({"id":"00000000-0000-4000-8000-000000000000","status":"pending"})";

/// Largest request body, as the engine's default `http.body-limit`.
constexpr uint64_t body_limit = 65536;

/// Time to read one request, as the engine's default `http.read-timeout`.
constexpr auto read_timeout = std::chrono::seconds(30);

// -- connections --------------------------------------------------------------

/// One connection: reads a request, writes the fixed reply, and again until
/// the client closes or asks to close. All of it runs on the connection's
/// strand. Errors end the session quietly: under load clients reset
/// connections as a matter of course (wrk does when its run ends).
class session : public std::enable_shared_from_this<session> {
public:
  explicit session(tcp::socket&& socket) : stream_(std::move(socket)) {
  }

  void run() {
    // The socket was accepted on this connection's strand; start there.
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::do_read,
                                            shared_from_this()));
  }

private:
  void do_read() {
    // A parser reads one message only: a fresh one per request.
    parser_.emplace();
    parser_->body_limit(body_limit);
    stream_.expires_after(read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&session::on_read,
                                               shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream)
      return do_close();
    if (ec)
      return;
    auto req = parser_->release();
    res_ = {};
    res_.version(req.version());
    res_.result(http::status::accepted);
    res_.set(http::field::content_type, "application/json");
    res_.keep_alive(req.keep_alive());
    res_.body() = reply_body;
    res_.prepare_payload();
    do_write();
  }

  void do_write() {
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&session::on_write,
                                                shared_from_this(),
                                                res_.need_eof()));
  }

  void on_write(bool close, beast::error_code ec, std::size_t) {
    if (ec)
      return;
    if (close)
      return do_close();
    do_read();
  }

  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
};

/// Accepts connections and gives each its own strand and session.
class listener : public std::enable_shared_from_this<listener> {
public:
  /// Binds and listens on `endpoint`; throws `boost::system::system_error`.
  listener(net::io_context& ioc, const tcp::endpoint& endpoint)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  uint16_t port() const {
    return acceptor_.local_endpoint().port();
  }

  void run() {
    do_accept();
  }

private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&listener::on_accept,
                                                     shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted)
      return;
    if (ec)
      std::cerr << R"({"message":"accept failed","error":")" << ec.message()
                << "\"}" << std::endl;
    else
      std::make_shared<session>(std::move(socket))->run();
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
};

// -- command line -------------------------------------------------------------

struct options {
  std::string address = "127.0.0.1";
  int port = 0;
  int threads = 1;
  bool help = false;
};

constexpr const char* usage
  = R"(http-ceiling: a minimal Beast HTTP server answering every request with 202

  --address=A   address to listen on (127.0.0.1)
  --port=N      port to listen on, 0: a free one (0)
  --threads=N   I/O threads, 1..64 (1)
)";

/// Parses `--name=value` into `out`; false if `arg` is not that flag.
bool flag(const std::string& arg, const char* name, int& out, int min, int max,
          bool& bad) {
  std::string prefix = std::string{"--"} + name + "=";
  if (arg.compare(0, prefix.size(), prefix) != 0)
    return false;
  std::istringstream in{arg.substr(prefix.size())};
  int value = 0;
  if (!(in >> value) || !in.eof() || value < min || value > max) {
    std::cerr << name << ": expected a number in " << min << ".." << max
              << ", got \"" << arg.substr(prefix.size()) << "\"" << std::endl;
    bad = true;
    return true;
  }
  out = value;
  return true;
}

/// The options, or nothing after printing what is wrong.
std::optional<options> parse(int argc, char** argv) {
  options opts;
  bool bad = false;
  const std::string address_prefix = "--address=";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h")
      opts.help = true;
    else if (arg.compare(0, address_prefix.size(), address_prefix) == 0)
      opts.address = arg.substr(address_prefix.size());
    else if (!flag(arg, "port", opts.port, 0, 65535, bad)
             && !flag(arg, "threads", opts.threads, 1, 64, bad)) {
      std::cerr << "unknown option: " << arg << std::endl;
      bad = true;
    }
  }
  if (bad)
    return std::nullopt;
  return opts;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  if (!opts) {
    std::cerr << usage;
    return 2;
  }
  if (opts->help) {
    std::cout << usage;
    return 0;
  }
  beast::error_code ec;
  auto address = net::ip::make_address(opts->address, ec);
  if (ec) {
    std::cerr << "address: not an IP address: \"" << opts->address << "\""
              << std::endl;
    return 2;
  }
  net::io_context ioc{opts->threads};
  std::shared_ptr<listener> acceptor;
  try {
    acceptor = std::make_shared<listener>(
      ioc, tcp::endpoint{address, static_cast<uint16_t>(opts->port)});
  } catch (const boost::system::system_error& e) {
    std::cerr << R"({"message":"cannot listen","error":")" << e.what() << "\"}"
              << std::endl;
    return 1;
  }
  acceptor->run();
  std::fprintf(stderr,
               "{\"message\":\"listening\",\"address\":\"%s\",\"port\":%u}\n",
               address.to_string().c_str(),
               static_cast<unsigned>(acceptor->port()));
  std::fflush(stderr);
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&ioc](const beast::error_code&, int) { ioc.stop(); });
  std::vector<std::thread> threads;
  threads.reserve(opts->threads - 1);
  for (int i = 1; i < opts->threads; ++i)
    threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads)
    t.join();
  return 0;
}
