// Crash tests of the durable store: the real booking-server binary runs as a
// subprocess on an SQLite file, is killed with SIGKILL at random moments
// while clients book and cancel over HTTP, and is restarted on the same
// file each time. At the end the test opens the file itself and checks
// that nothing acknowledged was lost and that the product's invariants hold.
//
//   durability.crash        >= 20 kills under a booking burst
//   durability.restart      clean restarts, and files the server refuses
//   durability.idempotency  idempotency keys across a kill
//   durability.broker       kills with a broker: every outcome event arrives
//                           (run through tests/broker/with_broker.sh)
//   durability.upgrade      stores of older releases: migrated, resumed on
//                           the table versions they started on
//
// The random delays and choices come from one seed, printed at the start;
// DURABILITY_SEED=N repeats a run's choices (not its timing);
// DURABILITY_KILLS=N changes the number of kills (0: the same load without
// a crash, to tell crash bugs from others).
// DURABILITY_KEEP=1 keeps the temporary directory (server logs and the
// database file); it is also kept when a test fails.

#define CAF_SUITE durability.crash
#include <caf/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <sqlite3.h>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/saga/invariants.hpp"
#include "actors/store/sqlite_store.hpp"
#include "bridges/routing.hpp"
#include "tests/bridges/amqp_client.hpp"
#include "tests/http/http_client.hpp"

extern char** environ;

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

// CAF 0.17 prints a failed check only at verbosity 4; this one says what
// failed at the default verbosity.
#define DUR_CHECK(cond, msg)                                                   \
  do {                                                                         \
    if (cond) {                                                                \
      CAF_CHECK(true);                                                         \
    } else {                                                                   \
      CAF_TEST_PRINT_ERROR("check failed: " #cond ": " << msg);                \
      CAF_CHECK(false);                                                        \
    }                                                                          \
  } while (false)

namespace {

using clock_type = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

bool starts_with(const std::string& x, const std::string& prefix) {
  return x.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& x, const std::string& suffix) {
  return x.size() >= suffix.size()
         && x.compare(x.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool contains(const std::string& x, const std::string& part) {
  return x.find(part) != std::string::npos;
}

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject())
    return {};
  auto i = v.FindMember(key);
  if (i == v.MemberEnd() || !i->value.IsString())
    return {};
  return {i->value.GetString(), i->value.GetStringLength()};
}

std::string read_text(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
}

/// A number member of the first log line whose message is `message`; -1
/// if there is none.
int64_t log_number(const std::string& log, const std::string& message,
                   const char* key) {
  std::istringstream in{log};
  std::string line;
  while (std::getline(in, line)) {
    if (!contains(line, "\"" + message + "\""))
      continue;
    rapidjson::Document doc;
    doc.Parse(line.c_str(), line.size());
    if (doc.HasParseError() || str(doc, "message") != message)
      continue;
    auto i = doc.FindMember(key);
    return i != doc.MemberEnd() && i->value.IsInt64() ? i->value.GetInt64()
                                                      : -1;
  }
  return -1;
}

/// The last `n` lines of `text`, for failure messages.
std::string tail(const std::string& text, size_t n = 15) {
  auto pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n')
    --pos;
  for (size_t i = 0; i < n; ++i) {
    if (pos == 0)
      return text;
    auto p = text.rfind('\n', pos - 1);
    if (p == std::string::npos)
      return text;
    pos = p;
  }
  return text.substr(pos + 1);
}

/// Kills of the crash loop: `fallback`, or DURABILITY_KILLS (debugging:
/// 0 runs the same load without a crash).
int kills_or(int fallback) {
  if (auto env = std::getenv("DURABILITY_KILLS"); env && *env)
    return std::atoi(env);
  return fallback;
}

uint64_t pick_seed() {
  if (auto env = std::getenv("DURABILITY_SEED"); env && *env)
    return std::strtoull(env, nullptr, 10);
  return std::random_device{}() % 1000000;
}

// -- the server as a subprocess -----------------------------------------------

/// Exit status as one number: the exit code, or 128 + the signal.
int decode_status(int st) {
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  return -1;
}

/// One run of booking-server, its stdout and stderr in a file. Killed with
/// SIGKILL if the test ends (or dies) while it runs.
class server_process {
public:
  /// Starts `argv` (argv[0] is the binary) in `cwd`.
  server_process(const std::vector<std::string>& argv, const std::string& cwd,
                 std::string log_path)
      : log_path_(std::move(log_path)) {
    // Everything the child needs is prepared before fork: after it, only
    // async-signal-safe calls (the test has other threads).
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // The environment of a developer's shell must not point the server at
    // a broker or require tokens.
    std::vector<char*> env;
    for (auto e = environ; *e != nullptr; ++e) {
      std::string kv{*e};
      if (starts_with(kv, "BOOKING_AMQP_URL=")
          || starts_with(kv, "BOOKING_API_TOKEN=")
          || starts_with(kv, "BOOKING_ADMIN_TOKEN="))
        continue;
      env.push_back(*e);
    }
    env.push_back(nullptr);
    auto log = log_path_.c_str();
    auto dir = cwd.c_str();
    auto parent = getpid();
    started_ = clock_type::now();
    pid_ = fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Dies with the test, even if the test is SIGKILLed.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(126);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      auto in = open("/dev/null", O_RDONLY);
      auto out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0
          || dup2(out, 2) < 0 || chdir(dir) != 0)
        _exit(126);
        // The test's sockets and files stay out of the server.
#ifdef SYS_close_range
      if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
        for (int fd = 3; fd < 65536; ++fd)
          close(fd);
      execve(args[0], args.data(), env.data());
      _exit(127);
    }
  }

  ~server_process() {
    if (running())
      kill9();
  }

  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  pid_t pid() const {
    return pid_;
  }

  /// The port of the "listening" log line, once the server wrote it.
  uint16_t port() const {
    return port_;
  }

  /// Seconds from the start to the "listening" line.
  double startup_seconds() const {
    return startup_;
  }

  bool running() {
    poll();
    return !status_.has_value();
  }

  /// Exit status (see `decode_status`) once it ended.
  std::optional<int> status() {
    poll();
    return status_;
  }

  /// Waits for the "listening" line; 0 if the server exited first or
  /// `limit` passed.
  uint16_t wait_listening(ms limit = 20s) {
    auto deadline = clock_type::now() + limit;
    while (clock_type::now() < deadline) {
      if (auto p = find_port(); p != 0) {
        port_ = p;
        startup_ = seconds_since(started_);
        return p;
      }
      if (!running())
        return 0;
      std::this_thread::sleep_for(5ms);
    }
    return 0;
  }

  /// Waits for the process to end; its status, or none after `limit`.
  std::optional<int> wait_exit(ms limit) {
    auto deadline = clock_type::now() + limit;
    for (;;) {
      if (auto st = status())
        return st;
      if (clock_type::now() >= deadline)
        return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

  /// SIGKILL, and reaps it.
  void kill9() {
    if (!running())
      return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    if (waitpid(pid_, &st, 0) == pid_)
      status_ = decode_status(st);
  }

  /// SIGTERM, then waits for the exit; none (and SIGKILL) after `limit`.
  std::optional<int> terminate(ms limit) {
    if (!running())
      return status_;
    ::kill(pid_, SIGTERM);
    auto st = wait_exit(limit);
    if (!st)
      kill9();
    return st;
  }

  std::string log() const {
    return read_text(log_path_);
  }

  const std::string& log_path() const {
    return log_path_;
  }

private:
  void poll() {
    if (status_ || pid_ <= 0)
      return;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_)
      status_ = decode_status(st);
  }

  uint16_t find_port() const {
    // The line comes early: the first few KiB of the log are enough.
    std::ifstream in{log_path_};
    std::string line;
    for (int i = 0; i < 200 && std::getline(in, line); ++i) {
      if (!contains(line, "\"listening\""))
        continue;
      rapidjson::Document doc;
      doc.Parse(line.c_str(), line.size());
      if (doc.HasParseError() || !doc.IsObject()
          || str(doc, "message") != "listening")
        continue;
      auto p = doc.FindMember("port");
      if (p != doc.MemberEnd() && p->value.IsInt() && p->value.GetInt() > 0
          && p->value.GetInt() < 65536)
        return static_cast<uint16_t>(p->value.GetInt());
    }
    return 0;
  }

  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
  clock_type::time_point started_;
  uint16_t port_ = 0;
  double startup_ = 0;
};

// -- the test's world ---------------------------------------------------------

/// A departure of the test's tours, with how often clients pick it.
struct departure_spec {
  std::string tour_id;
  std::string date;
  int32_t capacity;
  int64_t price_cents;
  int weight;
};

// Small departures sell out within the first second; the big ones take
// most of the confirmed bookings (and the cancellations).
const std::vector<departure_spec> departures{
  {"tiny-walk", "2026-12-01", 4, 1000, 12},
  {"tiny-walk", "2026-12-02", 9, 1000, 12},
  {"mid-cellar", "2026-12-05", 40, 2500, 16},
  {"big-boat", "2026-12-10", 3000, 700, 30},
  {"big-boat", "2026-12-11", 3000, 700, 30},
};

std::string tours_json() {
  std::map<std::string, std::vector<const departure_spec*>> by_tour;
  for (auto& d : departures)
    by_tour[d.tour_id].push_back(&d);
  std::ostringstream out;
  out << "[";
  bool first = true;
  for (auto& [id, deps] : by_tour) {
    out << (first ? "" : ",") << "\n  {\"id\": \"" << id << "\", \"name\": \""
        << id << "\", \"price_cents\": " << deps.front()->price_cents
        << ", \"currency\": \"EUR\", \"departures\": [";
    for (size_t i = 0; i < deps.size(); ++i)
      out << (i == 0 ? "" : ", ") << "{\"date\": \"" << deps[i]->date
          << "\", \"capacity\": " << deps[i]->capacity << "}";
    out << "]}";
    first = false;
  }
  out << "\n]\n";
  return out.str();
}

std::string booking_body(const std::string& tour_id, const std::string& date,
                         int seats, const std::string& token,
                         const std::string& who) {
  return "{\"tour_id\": \"" + tour_id + "\", \"date\": \"" + date
         + "\", \"seats\": " + std::to_string(seats)
         + ", \"customer\": {\"name\": \"Customer " + who + "\", \"email\": \""
         + who + "@example.com\"}, \"payment\": {\"token\": \"" + token
         + "\"}}";
}

/// An AMQP intake message: the CloudEvent of a `booking.create` whose
/// data is `booking_body`.
std::string intake_event(const std::string& id, const std::string& data) {
  return "{\"specversion\": \"1.0\", \"id\": \"" + id
         + "\", \"source\": \"/durability-tests\", \"type\": "
           "\"booking.create\", \"datacontenttype\": \"application/json\", "
           "\"data\": "
         + data + "}";
}

/// Properties of an intake message.
amqp_props intake_props(const std::string& message_id,
                        const std::string& correlation_id,
                        const std::string& reply_to) {
  amqp_props props;
  props.content_type = "application/cloudevents+json";
  props.message_id = message_id;
  props.correlation_id = correlation_id;
  props.reply_to = reply_to;
  props.type = "booking.create";
  props.delivery_mode = 2;
  return props;
}

/// The value of an unlabelled metric in a /metrics text; -1 without it.
int64_t metric(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::strtoll(text.c_str() + at + name.size() + 2, nullptr, 10);
}

const std::set<std::string> terminal_statuses{
  "confirmed", "failed", "cancelled", "compensation_failed"};

bool is_terminal_text(const std::string& status) {
  return terminal_statuses.count(status) > 0;
}

/// What the test saw of one booking over HTTP.
struct booking_facts {
  /// Empty if the booking was only met through a retry of a key.
  std::string token;
  /// The response code that first named the booking.
  int origin = 0;
  /// Named by a 201 or 202: the server acknowledged it.
  bool acknowledged = false;
  /// A cancel of it was sent (its answer may have been lost in a kill).
  bool cancel_sent = false;
  /// A cancel of it was answered 200 or 202.
  bool cancel_acked = false;
  /// Statuses seen, each as "how:status@run", in order.
  std::vector<std::string> seen;
  /// Statuses seen in outcome responses (201, 402, 409, 200) and cancels.
  std::set<std::string> outcomes;
  /// Statuses seen by reads: GET, and the 202 of a retried key.
  std::set<std::string> got;
  /// The status of the last read.
  std::string last;
};

/// An idempotency key the clients used, and the booking it named.
struct key_facts {
  std::string key;
  std::string body;
  std::string id;
};

struct traffic_options {
  size_t clients = 8;
  ms pause_min{10};
  ms pause_max{40};
  uint64_t seed = 1;
};

/// Clients that book, look up and cancel, each on its own keep-alive
/// connection with a short random pause between requests, reconnecting to
/// whatever port the current server listens on. Everything they learn goes
/// into one table, under a mutex.
class traffic {
public:
  explicit traffic(traffic_options opts) : opts_(opts) {
    // nop
  }

  ~traffic() {
    stop();
  }

  /// Points the clients at a new server (0: none is up).
  void set_port(uint16_t port) {
    if (port != 0)
      ++run_;
    port_ = port;
  }

  void start() {
    for (size_t i = 0; i < opts_.clients; ++i)
      threads_.emplace_back([this, i] { client(i); });
  }

  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  // -- what the clients learned (read after stop, or under the lock) ---------

  std::mutex mtx;
  std::map<std::string, booking_facts> facts;
  /// Ids in the order they were first named.
  std::vector<std::string> order;
  std::vector<key_facts> keys;
  /// Things that must not happen, in words.
  std::vector<std::string> problems;
  std::map<std::string, int> tally;

  /// Records that `id` was seen with `status`; `outcome` for responses that
  /// report an outcome (not a GET). Requires the lock.
  void observe(const std::string& id, const std::string& status,
               const std::string& how, bool outcome) {
    auto& f = facts[id];
    f.seen.push_back(how + ":" + status + "@" + std::to_string(run_.load()));
    if (outcome)
      f.outcomes.insert(status);
    else
      f.got.insert(status);
    if (!outcome)
      f.last = status;
    if (status == "confirmed" && !f.cancel_acked)
      confirmed_.push_back(id);
  }

  void problem(std::string what) {
    std::lock_guard<std::mutex> guard{mtx};
    problems.push_back(std::move(what));
  }

  uint16_t port() const {
    return port_;
  }

  int run() const {
    return run_;
  }

private:
  bool chance(std::mt19937_64& rng, double p) {
    return std::uniform_real_distribution<double>{0, 1}(rng) < p;
  }

  void count(const std::string& what) {
    std::lock_guard<std::mutex> guard{mtx};
    ++tally[what];
  }

  void client(size_t idx) {
    std::mt19937_64 rng{opts_.seed * 7919 + idx};
    std::optional<http_connection> conn;
    uint16_t conn_port = 0;
    size_t n = 0;
    while (!stop_) {
      auto port = port_.load();
      if (port == 0) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      if (!conn || !conn->is_open() || conn_port != port) {
        conn.reset();
        try {
          conn.emplace(port, 2s);
          conn->set_timeout(15s);
          conn_port = port;
        } catch (const std::exception&) {
          count("connect failed");
          std::this_thread::sleep_for(10ms);
          continue;
        }
      }
      auto what = std::uniform_int_distribution<int>{0, 99}(rng);
      if (what < 8)
        cancel_one(*conn, rng);
      else if (what < 18)
        look_up(*conn, rng);
      else
        book(*conn, rng, idx, n++);
      std::uniform_int_distribution<int64_t> pause{opts_.pause_min.count(),
                                                   opts_.pause_max.count()};
      std::this_thread::sleep_for(ms{pause(rng)});
    }
  }

  void book(http_connection& conn, std::mt19937_64& rng, size_t idx, size_t n) {
    int total = 0;
    for (auto& d : departures)
      total += d.weight;
    auto x = std::uniform_int_distribution<int>{0, total - 1}(rng);
    auto dep = &departures.front();
    for (auto& d : departures) {
      if (x < d.weight) {
        dep = &d;
        break;
      }
      x -= d.weight;
    }
    auto seats = std::uniform_int_distribution<int>{1, 3}(rng);
    static const std::vector<std::pair<const char*, int>> tokens{
      {"tok_ok", 40},    {"tok_decline", 12},     {"tok_timeout", 12},
      {"tok_flaky", 18}, {"tok_refund_fail", 18},
    };
    auto t = std::uniform_int_distribution<int>{0, 99}(rng);
    std::string token = tokens.back().first;
    for (auto& [name, w] : tokens) {
      if (t < w) {
        token = name;
        break;
      }
      t -= w;
    }
    auto who = "c" + std::to_string(idx) + "n" + std::to_string(n);
    auto body = booking_body(dep->tour_id, dep->date, seats, token, who);
    header_list headers;
    std::string key;
    int retry_of = -1;
    if (chance(rng, 0.3)) {
      std::lock_guard<std::mutex> guard{mtx};
      if (!keys.empty() && chance(rng, 0.3)) {
        // A client retrying an earlier request: same key, same body.
        retry_of = std::uniform_int_distribution<int>{
          0, static_cast<int>(keys.size()) - 1}(rng);
        key = keys[retry_of].key;
        body = keys[retry_of].body;
        token.clear();
      } else {
        key = "key-" + std::to_string(opts_.seed) + "-" + who;
        keys.push_back({key, body, {}});
        retry_of = static_cast<int>(keys.size()) - 1;
      }
      headers.emplace_back("Idempotency-Key", key);
    } else if (chance(rng, 0.3)) {
      headers.emplace_back("Prefer", "wait=3");
    }
    auto r = conn.send("POST", "/api/v1/bookings", body, headers);
    count("POST " + std::to_string(r.status));
    if (r.status == 0)
      return;
    auto doc = r.json();
    std::string id;
    std::string status;
    switch (r.status) {
      case 201:
      case 202:
      case 200:
        id = str(doc, "id");
        status = str(doc, "status");
        break;
      case 402:
      case 409:
        id = str(doc, "booking_id");
        status = "failed";
        if (!ends_with(str(doc, "type"),
                       r.status == 409 ? "sold-out" : "payment-declined"))
          problem("POST answered " + std::to_string(r.status)
                  + " of the wrong type: " + r.body);
        break;
      default:
        problem("POST answered " + std::to_string(r.status) + ": " + r.body);
        return;
    }
    if (id.empty()) {
      problem("POST " + std::to_string(r.status)
              + " names no booking: " + r.body);
      return;
    }
    std::lock_guard<std::mutex> guard{mtx};
    auto fresh = facts.count(id) == 0;
    auto& f = facts[id];
    if (fresh) {
      order.push_back(id);
      f.origin = r.status;
    }
    if (!token.empty())
      f.token = token;
    if (r.status == 201 || r.status == 202)
      f.acknowledged = true;
    if (retry_of >= 0) {
      auto& k = keys[retry_of];
      if (k.id.empty()) {
        k.id = id;
      } else if (k.id != id) {
        problems.push_back("key " + key + " named " + k.id + ", its retry "
                           + id);
      }
    }
    auto how = "POST" + std::to_string(r.status);
    // A 202 reports the current status, not an outcome.
    observe(id, status, how, r.status != 202);
  }

  /// Picks a random booking the clients know; empty if none.
  std::string any_known(std::mt19937_64& rng) {
    std::lock_guard<std::mutex> guard{mtx};
    if (order.empty())
      return {};
    return order[std::uniform_int_distribution<size_t>{0,
                                                       order.size() - 1}(rng)];
  }

  void look_up(http_connection& conn, std::mt19937_64& rng) {
    auto id = any_known(rng);
    if (id.empty())
      return;
    auto r = conn.send("GET", "/api/v1/bookings/" + id);
    count("GET " + std::to_string(r.status));
    if (r.status == 0)
      return;
    if (r.status != 200) {
      problem("GET of known booking " + id + " answered "
              + std::to_string(r.status) + " (server run "
              + std::to_string(run_.load()) + "): " + r.body);
      return;
    }
    auto doc = r.json();
    std::lock_guard<std::mutex> guard{mtx};
    observe(id, str(doc, "status"), "GET", false);
  }

  void cancel_one(http_connection& conn, std::mt19937_64& rng) {
    std::string id;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (confirmed_.empty())
        return;
      auto i
        = std::uniform_int_distribution<size_t>{0, confirmed_.size() - 1}(rng);
      id = confirmed_[i];
      confirmed_.erase(confirmed_.begin() + static_cast<ptrdiff_t>(i));
      if (facts[id].cancel_acked)
        return;
      facts[id].cancel_sent = true;
    }
    auto r = conn.send("POST", "/api/v1/bookings/" + id + "/cancel");
    count("cancel " + std::to_string(r.status));
    if (r.status == 0)
      return;
    auto doc = r.json();
    std::lock_guard<std::mutex> guard{mtx};
    auto& f = facts[id];
    if (r.status == 200 || r.status == 202) {
      f.cancel_acked = true;
      observe(id, str(doc, "status"), "cancel" + std::to_string(r.status),
              true);
    } else {
      // The booking was seen confirmed: nothing but a cancel fits.
      f.seen.push_back("cancel" + std::to_string(r.status) + "@"
                       + std::to_string(run_.load()));
      problems.push_back("cancel of " + id + " (seen confirmed) answered "
                         + std::to_string(r.status) + ": " + r.body);
    }
  }

  traffic_options opts_;
  std::atomic<uint16_t> port_{0};
  std::atomic<int> run_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  /// Bookings seen confirmed and not yet cancelled: candidates to cancel.
  std::vector<std::string> confirmed_;
};

// -- reading the store --------------------------------------------------------

std::string history_text(const booking_record& b) {
  std::ostringstream out;
  for (auto& e : b.saga) {
    out << "\n          " << to_string(e.step) << " " << to_string(e.action)
        << " " << to_string(e.outcome) << " #" << e.attempt;
    if (!e.error.empty())
      out << " (" << e.error << ")";
  }
  return out.str();
}

/// Everything the store holds about one booking, in words.
std::string describe_booking(const stored_state& st, const std::string& id) {
  std::ostringstream out;
  auto b = std::find_if(st.bookings.begin(), st.bookings.end(),
                        [&](auto& x) { return x.id == id; });
  if (b == st.bookings.end())
    return id + ": not in the store";
  out << id << ": " << to_string(b->status)
      << (b->reason.empty() ? "" : " (" + b->reason + ")") << ", " << b->tour_id
      << "/" << b->date << " x" << b->seats << ", " << b->amount_cents << " "
      << b->currency << "\n        history:" << history_text(*b);
  for (auto& h : st.holds)
    if (h.booking_id == id)
      out << "\n        hold: " << h.seats << (h.sold ? " sold" : " held");
  for (auto& p : st.payments)
    if (p.intent.booking_id == id)
      out << "\n        payment: " << to_string(p.intent.state)
          << " authorized " << p.intent.authorized_cents << " captured "
          << p.intent.captured_cents << " refunded " << p.intent.refunded_cents;
  for (auto& n : st.notifications)
    if (n.booking_id == id)
      out << "\n        notification: " << to_string(n.kind) << " " << n.status
          << " after " << n.attempts << " attempts";
  for (auto& s : st.sagas)
    if (s.req.id == id)
      out << "\n        unfinished saga " << s.key << " phase "
          << static_cast<int>(s.phase) << " step " << s.step << " attempt "
          << s.attempt;
  return out.str();
}

/// The store's view as the invariant checker takes it. Departure counts
/// are the sums of the holds of each departure (the stored counts are
/// checked against them).
world_snapshot world_of(const stored_state& st,
                        std::vector<std::string> acknowledged,
                        std::vector<std::string>& unknown_holds) {
  world_snapshot w;
  w.bookings = st.bookings;
  std::map<std::pair<std::string, std::string>, departure_counts> counts;
  for (auto& t : st.tours)
    for (auto& d : t.departures)
      counts[{t.id, d.date}] = departure_counts{t.id, d.date, d.capacity, 0, 0};
  for (auto& h : st.holds) {
    auto i = counts.find({h.tour_id, h.date});
    if (i == counts.end()) {
      unknown_holds.push_back(h.booking_id + " on " + h.tour_id + "/" + h.date);
      continue;
    }
    (h.sold ? i->second.sold : i->second.held) += h.seats;
  }
  inventory_snapshot inv;
  for (auto& [k, c] : counts)
    inv.departures.push_back(c);
  for (auto& h : st.holds)
    if (counts.count({h.tour_id, h.date}) > 0)
      inv.holds.push_back(h);
  w.inventory.push_back(std::move(inv));
  for (auto& p : st.payments)
    w.payments.push_back(p.intent);
  w.notifications = st.notifications;
  w.sagas_in_flight = static_cast<int64_t>(st.sagas.size());
  w.quiescent = true;
  w.acknowledged = std::move(acknowledged);
  return w;
}

/// What a store file holds: what start-up loads, and the outbox rows.
struct store_contents : stored_state {
  std::vector<outbox_row> outbox;
};

std::optional<store_contents> load_store(const std::string& path) {
  auto db = sqlite_store::open(path);
  if (!db) {
    CAF_TEST_PRINT_ERROR("cannot open " << path << ": "
                                        << describe(db.error()));
    return std::nullopt;
  }
  auto st = (*db)->load(load_scope::everything);
  if (!st) {
    CAF_TEST_PRINT_ERROR("cannot load " << path << ": "
                                        << describe(st.error()));
    return std::nullopt;
  }
  auto rows = (*db)->read_outbox(0, std::numeric_limits<int32_t>::max());
  if (!rows) {
    CAF_TEST_PRINT_ERROR("cannot read the outbox of "
                         << path << ": " << describe(rows.error()));
    return std::nullopt;
  }
  store_contents result;
  static_cast<stored_state&>(result) = std::move(*st);
  result.outbox = std::move(*rows);
  return result;
}

/// Checks the store after the last clean stop: the invariant checker, no
/// unfinished saga, and what the clients saw against what the store kept.
void check_store(const store_contents& st, traffic& t) {
  std::map<std::string, const booking_record*> by_id;
  for (auto& b : st.bookings)
    by_id[b.id] = &b;
  std::vector<std::string> acknowledged;
  for (auto& id : t.order)
    if (t.facts[id].acknowledged)
      acknowledged.push_back(id);
  std::map<std::string, int> statuses;
  for (auto& b : st.bookings)
    ++statuses[to_string(b.status) + (b.reason.empty() ? "" : "/" + b.reason)];
  std::ostringstream summary;
  for (auto& [k, n] : statuses)
    summary << " " << k << "=" << n;
  CAF_MESSAGE("store: " << st.bookings.size() << " bookings (" << t.order.size()
                        << " named to clients, " << acknowledged.size()
                        << " acknowledged):" << summary.str());
  CAF_MESSAGE("store: " << st.sagas.size() << " unfinished sagas, "
                        << st.outbox.size() << " outbox rows, "
                        << st.holds.size() << " holds, " << st.payments.size()
                        << " payments, " << st.notifications.size()
                        << " notifications, " << st.keys.size() << " keys");
  // 1. The product's invariants over the file.
  std::vector<std::string> unknown_holds;
  auto world = world_of(st, acknowledged, unknown_holds);
  auto report = check_invariants(world);
  if (!report.ok()) {
    CAF_TEST_PRINT_ERROR("invariants broken:\n" << report.to_text());
    size_t shown = 0;
    for (auto& r : report.results)
      for (auto& who : r.offenders)
        if (by_id.count(who) > 0 && shown++ < 8)
          CAF_TEST_PRINT_ERROR("invariant " << r.id << ": "
                                            << describe_booking(st, who));
  }
  DUR_CHECK(report.ok(), "see the invariant table above");
  DUR_CHECK(unknown_holds.empty(), unknown_holds.size()
                                     << " holds on unknown departures, e.g. "
                                     << unknown_holds.front());
  // The seat counts the file keeps (and start-up loads instead of the
  // holds) are the sums of its holds.
  for (auto& c : st.counts)
    for (auto& inv : world.inventory)
      for (auto& d : inv.departures)
        if (d.tour_id == c.tour_id && d.date == c.date)
          DUR_CHECK(d.held == c.held && d.sold == c.sold,
                    c.tour_id << "/" << c.date << " stores held " << c.held
                              << ", sold " << c.sold << "; its holds sum to "
                              << d.held << ", " << d.sold);
  // 2. No saga left behind.
  for (size_t i = 0; i < st.sagas.size() && i < 5; ++i)
    CAF_TEST_PRINT_ERROR("unfinished saga "
                         << st.sagas[i].key << ": "
                         << describe_booking(st, st.sagas[i].req.id));
  DUR_CHECK(st.sagas.empty(), st.sagas.size() << " unfinished sagas");
  // 3. What clients were told still holds, and each booking ended as its
  // payment token says it must (product spec, "Failure injection").
  std::map<std::string, std::vector<std::string>> wrong;
  auto fail = [&](const std::string& id, const std::string& what) {
    wrong[what].push_back(id);
  };
  for (auto& id : t.order) {
    auto& f = t.facts[id];
    auto i = by_id.find(id);
    if (i == by_id.end()) {
      fail(id, "named by a " + std::to_string(f.origin)
                 + " but missing from the store");
      continue;
    }
    auto& b = *i->second;
    auto status = to_string(b.status);
    if (!f.last.empty() && f.last != status && is_terminal_text(f.last))
      fail(id, "the last read said " + f.last + ", the store " + status);
    auto cancelled_path = b.status == booking_status::cancelled
                          || b.status == booking_status::compensation_failed;
    if (f.outcomes.count("failed") > 0 && b.status != booking_status::failed)
      fail(id, "a response reported failed, the store says " + status);
    if (f.outcomes.count("confirmed") > 0
        && b.status != booking_status::confirmed
        && !(f.cancel_sent && cancelled_path))
      fail(id, "a response reported confirmed, the store says " + status);
    if (f.cancel_acked && !cancelled_path)
      fail(id, "a cancel was acknowledged, the store says " + status);
    if ((f.outcomes.count("cancelling") > 0 || f.got.count("cancelling") > 0)
        && !cancelled_path)
      fail(id, "seen cancelling, the store says " + status);
    if (f.got.count("failed") > 0 && b.status != booking_status::failed)
      fail(id, "a read showed failed, the store says " + status);
    if (f.got.count("confirmed") > 0 && b.status != booking_status::confirmed
        && !cancelled_path)
      fail(id, "a read showed confirmed, the store says " + status);
  }
  std::map<std::string, std::string> tokens;
  for (auto& [id, f] : t.facts)
    if (!f.token.empty())
      tokens[id] = f.token;
  for (auto& p : st.payments)
    tokens[p.intent.booking_id] = p.token;
  for (auto& b : st.bookings) {
    auto status = to_string(b.status);
    if (!is_terminal(b.status))
      fail(b.id, "not terminal: " + status);
    if (b.status == booking_status::cancelled) {
      auto f = t.facts.find(b.id);
      if (f == t.facts.end() || !f->second.cancel_sent)
        fail(b.id, "cancelled, but no client asked for it");
    }
    auto dep = std::find_if(departures.begin(), departures.end(), [&](auto& d) {
      return d.tour_id == b.tour_id && d.date == b.date;
    });
    if (dep == departures.end() || b.amount_cents != dep->price_cents * b.seats)
      fail(b.id, "amount is not seats x price");
    auto tok = tokens.find(b.id);
    if (tok == tokens.end() || b.reason == "sold_out")
      continue;
    // tok_flaky fails twice and tok_refund_fail reverses only on the third
    // try, within every retry budget; tok_decline and tok_timeout never
    // confirm.
    std::set<std::string> allowed{"confirmed", "cancelled"};
    if (tok->second == "tok_decline")
      allowed = {"failed/payment_declined"};
    else if (tok->second == "tok_timeout")
      allowed = {"failed/timeout"};
    // A call that timed out (a slow machine) may fail any booking; it
    // leaves a timeout entry in the history.
    auto timed_out = std::any_of(b.saga.begin(), b.saga.end(), [](auto& e) {
      return e.outcome == step_outcome::timeout;
    });
    auto outcome = status + (b.reason.empty() ? "" : "/" + b.reason);
    if (timed_out && tok->second != "tok_timeout"
        && b.status == booking_status::failed)
      continue;
    if (allowed.count(outcome) == 0)
      fail(b.id, tok->second + " booking ended " + outcome);
  }
  size_t errors = 0;
  for (auto& [what, ids] : wrong) {
    errors += ids.size();
    CAF_TEST_PRINT_ERROR(ids.size() << " bookings: " << what);
    for (size_t i = 0; i < ids.size() && i < 2; ++i) {
      std::string seen;
      if (auto f = t.facts.find(ids[i]); f != t.facts.end()) {
        seen = "\n        first named by a " + std::to_string(f->second.origin)
               + "; seen:";
        for (auto& x : f->second.seen)
          seen += " " + x;
      }
      CAF_TEST_PRINT_ERROR("e.g. " << describe_booking(st, ids[i]) << seen);
    }
  }
  DUR_CHECK(errors == 0, errors << " bookings in " << wrong.size()
                                << " kinds of trouble, listed above");
  // 4. Retries of a key named one booking.
  std::map<std::string, std::string> key_of;
  for (auto& k : t.keys)
    if (!k.id.empty())
      key_of[k.key] = k.id;
  std::map<std::string, std::string> stored_keys;
  for (auto& k : st.keys)
    stored_keys[k.key] = k.booking_id;
  size_t key_errors = 0;
  for (auto& [key, id] : key_of)
    if (stored_keys.count(key) == 0 || stored_keys[key] != id)
      if (key_errors++ < 5)
        CAF_TEST_PRINT_ERROR("key "
                             << key << " named " << id << ", the store has "
                             << (stored_keys.count(key) > 0 ? stored_keys[key]
                                                            : "nothing"));
  DUR_CHECK(key_errors == 0, key_errors << " keys lost or changed");
  // 5. Per booking, exactly one outcome notification of each expected kind
  // (the checker covers confirmed, failed and cancelled; this covers the
  // bookings left in compensation_failed).
  std::map<std::pair<std::string, notification_kind>, int> notes;
  for (auto& n : st.notifications)
    ++notes[{n.booking_id, n.kind}];
  size_t note_errors = 0;
  for (auto& b : st.bookings) {
    if (b.status != booking_status::compensation_failed)
      continue;
    auto in_cancel = std::any_of(b.saga.begin(), b.saga.end(), [](auto& e) {
      return e.step == saga_step::refund_payment
             || e.step == saga_step::release_seats
             || e.step == saga_step::cancel_booking;
    });
    auto want_confirmed = in_cancel ? 1 : 0;
    auto want_failed = in_cancel ? 0 : 1;
    if (notes[{b.id, notification_kind::booking_confirmed}] != want_confirmed
        || notes[{b.id, notification_kind::booking_failed}] != want_failed
        || notes[{b.id, notification_kind::booking_cancelled}] != 0)
      if (note_errors++ < 5)
        CAF_TEST_PRINT_ERROR(
          "wrong notifications: " << describe_booking(st, b.id));
  }
  DUR_CHECK(note_errors == 0, note_errors << " compensation_failed bookings "
                                             "with wrong notifications");
  // 6. Nothing the clients hit was wrong while the server ran.
  for (size_t i = 0; i < t.problems.size() && i < 12; ++i)
    CAF_TEST_PRINT_ERROR("during the run: " << t.problems[i]);
  DUR_CHECK(t.problems.empty(), t.problems.size()
                                  << " problems during the run");
}

// -- the fixture --------------------------------------------------------------

struct fixture {
  std::string dir;
  std::string tours_path;
  std::string db_path;
  uint64_t seed = pick_seed();
  std::mt19937_64 rng{seed};
  int runs = 0;
  /// Arguments every server gets (after the path ones): tok_timeout
  /// bookings give up waiting for the gateway after 300 ms, and a cache of
  /// a few finished bookings makes reads, cancels and keyed retries go to
  /// the file most of the time.
  std::vector<std::string> common{"--saga.payment-timeout=300ms",
                                  "--store.cache-bookings=4"};

  fixture() {
    const char* tmp = std::getenv("TMPDIR");
    auto templ = std::string{tmp && *tmp ? tmp : "/tmp"}
                 + "/booking-durability.XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr)
      CAF_FAIL("mkdtemp failed");
    dir = buf.data();
    tours_path = dir + "/tours.json";
    db_path = dir + "/booking.db";
    write_text(tours_path, tours_json());
    CAF_MESSAGE("seed " << seed << " (DURABILITY_SEED=" << seed
                        << " repeats the choices), files in " << dir);
  }

  ~fixture() {
    auto keep = std::getenv("DURABILITY_KEEP");
    auto failed = caf::test::engine::current_test() != nullptr
                  && caf::test::engine::current_test()->bad() > 0;
    if (failed || (keep && *keep && std::string{keep} != "0")) {
      CAF_TEST_PRINT_INFO("kept " << dir << " (server logs, database)");
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  /// The throwaway broker's URL that tests/broker/with_broker.sh gives.
  static std::string broker_url() {
    auto url = std::getenv("BOOKING_TEST_AMQP_URL");
    if (url == nullptr || *url == '\0')
      CAF_FAIL("BOOKING_TEST_AMQP_URL is not set: run this suite through "
               "tests/broker/with_broker.sh");
    return url;
  }

  /// Starts a server on `db` (default: the test's file) without waiting.
  std::unique_ptr<server_process>
  spawn(const std::vector<std::string>& extra = {}, std::string db = {}) {
    std::vector<std::string> argv{BOOKING_SERVER, "--http.port=0",
                                  "--store.path=" + (db.empty() ? db_path : db),
                                  "--tours=" + tours_path};
    argv.insert(argv.end(), common.begin(), common.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto log = dir + "/server-" + std::to_string(++runs) + ".log";
    return std::make_unique<server_process>(argv, dir, log);
  }

  /// Starts a server and waits until it listens; fails the test if not.
  std::unique_ptr<server_process>
  start(const std::vector<std::string>& extra = {}, std::string db = {}) {
    auto p = spawn(extra, std::move(db));
    if (p->wait_listening(30s) == 0) {
      CAF_TEST_PRINT_ERROR("server " << p->log_path()
                                     << " did not start; exit status "
                                     << p->status().value_or(-1) << "; log:\n"
                                     << tail(p->log()));
      CAF_FAIL("server did not start");
    }
    return p;
  }

  /// Stops a server with SIGTERM; checks it exits 0.
  void stop(server_process& p, ms limit = 45s) {
    auto t0 = clock_type::now();
    auto st = p.terminate(limit);
    DUR_CHECK(st && *st == 0, "SIGTERM: exit status "
                                << (st ? std::to_string(*st) : "none (hung)")
                                << ", log " << p.log_path() << ":\n"
                                << tail(p.log()));
    CAF_MESSAGE("SIGTERM: exited " << st.value_or(-1) << " after "
                                   << seconds_since(t0) << " s");
  }

  /// Polls /readyz until it answers `status` with `part` in its body; the
  /// last answer.
  http_response readyz_until(http_connection& c, int status, ms limit,
                             const std::string& part = {}) {
    auto deadline = clock_type::now() + limit;
    http_response r;
    while (clock_type::now() < deadline) {
      r = c.send("GET", "/readyz");
      if (r.status == status && contains(r.body, part))
        break;
      std::this_thread::sleep_for(50ms);
    }
    return r;
  }

  ms random_ms(int64_t lo, int64_t hi) {
    return ms{std::uniform_int_distribution<int64_t>{lo, hi}(rng)};
  }

  /// Polls every booking the clients know until each is terminal or
  /// `limit` passes; returns the ones that are not.
  std::vector<std::string> wait_terminal(uint16_t port, traffic& t, ms limit) {
    auto deadline = clock_type::now() + limit;
    std::vector<std::string> left = t.order;
    std::optional<http_connection> conn;
    while (!left.empty()) {
      std::vector<std::string> next;
      for (auto& id : left) {
        if (!conn || !conn->is_open())
          conn.emplace(port, 5s);
        auto r = conn->send("GET", "/api/v1/bookings/" + id);
        if (r.status == 0) {
          conn.reset();
          next.push_back(id);
          continue;
        }
        if (r.status != 200) {
          t.problems.push_back("final GET of " + id + " answered "
                               + std::to_string(r.status) + ": " + r.body);
          continue;
        }
        auto status = str(r.json(), "status");
        {
          std::lock_guard<std::mutex> guard{t.mtx};
          t.observe(id, status, "GET", false);
        }
        if (!is_terminal_text(status))
          next.push_back(id);
      }
      left.swap(next);
      if (left.empty() || clock_type::now() >= deadline)
        break;
      std::this_thread::sleep_for(200ms);
    }
    return left;
  }

  /// Checks that every booking named since `from` exists on the server at
  /// `port` (right after a restart); returns the new cursor.
  size_t check_survivors(uint16_t port, traffic& t, size_t from, int kill) {
    std::vector<std::string> ids;
    {
      std::lock_guard<std::mutex> guard{t.mtx};
      ids.assign(t.order.begin() + static_cast<ptrdiff_t>(from), t.order.end());
    }
    try {
      http_connection conn{port, 5s};
      for (auto& id : ids) {
        auto r = conn.send("GET", "/api/v1/bookings/" + id);
        if (r.status == 200)
          continue;
        if (r.status == 0 && !conn.is_open())
          conn = http_connection{port, 5s};
        if (r.status != 200)
          t.problem("after kill " + std::to_string(kill) + ", GET of " + id
                    + " answered " + std::to_string(r.status) + ": " + r.body);
      }
    } catch (const std::exception& ex) {
      t.problem("after kill " + std::to_string(kill) + ": " + ex.what());
    }
    return from + ids.size();
  }

  /// The crash loop: clients book while the server is killed `kills` times
  /// and restarted on the same file; then the bookings settle and the
  /// server stops cleanly. Returns the traffic with what clients saw.
  std::unique_ptr<traffic> crash_loop(int kills,
                                      const std::vector<std::string>& extra,
                                      traffic_options topts) {
    topts.seed = seed;
    auto t = std::make_unique<traffic>(topts);
    auto srv = start(extra);
    std::vector<double> startups{srv->startup_seconds()};
    t->set_port(srv->port());
    t->start();
    auto t0 = clock_type::now();
    size_t cursor = 0;
    int64_t resumed = 0;
    int64_t unpublished = 0;
    for (int k = 1; k <= kills; ++k) {
      auto ready = clock_type::now();
      auto delay = random_ms(50, 400);
      if (k > 1)
        cursor = check_survivors(srv->port(), *t, cursor, k - 1);
      std::this_thread::sleep_until(ready + delay);
      srv->kill9();
      t->set_port(0);
      size_t named = 0;
      {
        std::lock_guard<std::mutex> guard{t->mtx};
        named = t->order.size();
      }
      CAF_MESSAGE("kill " << k << " after " << delay.count() << " ms (" << named
                          << " bookings named so far)");
      srv = start(extra);
      startups.push_back(srv->startup_seconds());
      t->set_port(srv->port());
      // What the kill left for the restart to pick up.
      auto log = srv->log();
      resumed += log_number(log, "store opened", "unfinished_sagas");
      unpublished += log_number(log, "store opened", "unpublished_events");
    }
    if (kills == 0) // DURABILITY_KILLS=0: the same load, no crash
      std::this_thread::sleep_for(5s);
    cursor = check_survivors(srv->port(), *t, cursor, kills);
    t->stop();
    auto max_startup = *std::max_element(startups.begin(), startups.end());
    CAF_MESSAGE(kills << " kills in " << seconds_since(t0)
                      << " s; slowest start " << max_startup
                      << " s; the restarts found " << resumed
                      << " unfinished sagas and " << unpublished
                      << " unpublished events");
    {
      std::ostringstream out;
      for (auto& [k, n] : t->tally)
        out << " [" << k << "]=" << n;
      CAF_MESSAGE("requests:" << out.str());
    }
    // Let every booking reach its outcome, then stop cleanly.
    auto t1 = clock_type::now();
    auto left = wait_terminal(srv->port(), *t, 90s);
    CAF_MESSAGE("bookings settled after " << seconds_since(t1) << " s");
    for (size_t i = 0; i < left.size() && i < 10; ++i)
      CAF_TEST_PRINT_ERROR("not terminal: " << left[i] << ", last seen "
                                            << t->facts[left[i]].last);
    DUR_CHECK(left.empty(), left.size() << " bookings not terminal after 90 s");
    stop(*srv);
    return t;
  }
};

} // namespace

// -- durability.crash ---------------------------------------------------------

CAF_TEST_FIXTURE_SCOPE(durability_crash_tests, fixture)

CAF_TEST(kills under load lose nothing and break no invariant) {
  auto t = crash_loop(kills_or(24), {}, traffic_options{});
  auto st = load_store(db_path);
  CAF_REQUIRE(st.has_value());
  check_store(*st, *t);
}

CAF_TEST_FIXTURE_SCOPE_END()

#undef CAF_SUITE
#define CAF_SUITE durability.restart

CAF_TEST_FIXTURE_SCOPE(durability_restart_tests, fixture)

CAF_TEST(a clean restart keeps a booking as it was) {
  auto path = dir + "/new/booking.db";
  CAF_REQUIRE(!std::filesystem::exists(path));
  std::string id;
  std::string before;
  {
    auto srv = start({}, path);
    http_connection c{srv->port()};
    auto r
      = c.send("POST", "/api/v1/bookings",
               booking_body("mid-cellar", "2026-12-05", 2, "tok_ok", "ana"),
               {{"Prefer", "wait=5"}});
    DUR_CHECK(r.status == 201, r.to_text());
    id = str(r.json(), "id");
    CAF_REQUIRE(!id.empty());
    // The notification step ends the saga after the 201: wait for it, so
    // that nothing changes any more.
    auto deadline = clock_type::now() + 10s;
    while (clock_type::now() < deadline) {
      auto g = c.send("GET", "/api/v1/bookings/" + id);
      if (g.status == 200 && contains(g.body, "\"send_notification\"")) {
        before = g.body;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    DUR_CHECK(!before.empty(), "the notification step did not run");
    stop(*srv);
  }
  CAF_REQUIRE(std::filesystem::exists(path));
  for (int round = 1; round <= 2; ++round) {
    auto srv = start({}, path);
    http_connection c{srv->port()};
    auto g = c.send("GET", "/api/v1/bookings/" + id);
    DUR_CHECK(g.status == 200, g.to_text());
    DUR_CHECK(g.body == before, "after restart " << round
                                                 << ":\n  before: " << before
                                                 << "\n  after:  " << g.body);
    stop(*srv);
  }
  auto st = load_store(path);
  CAF_REQUIRE(st.has_value());
  CAF_CHECK_EQUAL(st->bookings.size(), 1u);
  CAF_CHECK(st->sagas.empty());
}

CAF_TEST(a file that is not a database is refused) {
  auto path = dir + "/garbage.db";
  std::string junk(64 * 1024, '\0');
  std::mt19937_64 gen{seed};
  for (auto& ch : junk)
    ch = static_cast<char>(gen() & 0xff);
  write_text(path, junk);
  auto srv = spawn({}, path);
  auto st = srv->wait_exit(5s);
  DUR_CHECK(st && *st == 1, "exit status " << st.value_or(-1) << ":\n"
                                           << tail(srv->log()));
  DUR_CHECK(contains(srv->log(), "not a database"), tail(srv->log()));
  // The file is left as it was.
  CAF_CHECK(read_text(path) == junk);
}

CAF_TEST(a read only file is refused) {
  auto path = dir + "/readonly.db";
  {
    auto srv = start({}, path);
    stop(*srv);
  }
  CAF_REQUIRE(chmod(path.c_str(), 0444) == 0);
  auto srv = spawn({}, path);
  auto st = srv->wait_exit(5s);
  DUR_CHECK(st && *st == 1, "exit status " << st.value_or(-1) << ":\n"
                                           << tail(srv->log()));
  DUR_CHECK(contains(srv->log(), "read-only"), tail(srv->log()));
  chmod(path.c_str(), 0644);
}

CAF_TEST(a second server on the same file is refused) {
  auto first = start();
  auto second = spawn();
  auto st = second->wait_exit(5s);
  DUR_CHECK(st && *st == 1, "exit status " << st.value_or(-1) << ":\n"
                                           << tail(second->log()));
  DUR_CHECK(contains(second->log(), "locked"), tail(second->log()));
  // The first one is unharmed.
  http_connection c{first->port()};
  auto r = c.send("POST", "/api/v1/bookings",
                  booking_body("big-boat", "2026-12-10", 1, "tok_ok", "bo"),
                  {{"Prefer", "wait=5"}});
  DUR_CHECK(r.status == 201, r.to_text());
  stop(*first);
}

CAF_TEST_FIXTURE_SCOPE_END()

#undef CAF_SUITE
#define CAF_SUITE durability.idempotency

CAF_TEST_FIXTURE_SCOPE(durability_idempotency_tests, fixture)

CAF_TEST(a key answered before a kill names the same booking after it) {
  constexpr int rounds = 5;
  auto srv = start();
  std::vector<std::string> ids;
  for (int i = 0; i < rounds; ++i) {
    auto key = "idem-" + std::to_string(seed) + "-" + std::to_string(i);
    auto body = booking_body("big-boat", "2026-12-11", 1 + i % 3, "tok_ok",
                             "idem" + std::to_string(i));
    auto other = booking_body("big-boat", "2026-12-11", 1 + (i + 1) % 3,
                              "tok_ok", "idem" + std::to_string(i));
    header_list keyed{{"Idempotency-Key", key}};
    std::string id;
    {
      http_connection c{srv->port()};
      auto r = c.send("POST", "/api/v1/bookings", body, keyed);
      // Killed right after the answer: whatever made it durable is all
      // there is.
      srv->kill9();
      DUR_CHECK(r.status == 202, r.to_text());
      id = str(r.json(), "id");
      CAF_REQUIRE(!id.empty());
    }
    srv = start();
    http_connection c{srv->port()};
    auto again = c.send("POST", "/api/v1/bookings", body, keyed);
    DUR_CHECK(again.status == 202,
              "retry of " << key << ": " << again.to_text());
    DUR_CHECK(str(again.json(), "id") == id,
              "key " << key << " named " << id << " before the kill, "
                     << str(again.json(), "id") << " after it");
    auto changed = c.send("POST", "/api/v1/bookings", other, keyed);
    DUR_CHECK(changed.status == 422,
              "other body, same key: " << changed.to_text());
    auto g = c.send("GET", "/api/v1/bookings/" + id);
    DUR_CHECK(g.status == 200, g.to_text());
    ids.push_back(id);
  }
  // Settle, stop, and look at the file: one booking per key, all
  // confirmed, invariants hold.
  {
    http_connection c{srv->port()};
    for (auto& id : ids) {
      std::string status;
      auto deadline = clock_type::now() + 20s;
      while (clock_type::now() < deadline) {
        auto g = c.send("GET", "/api/v1/bookings/" + id);
        status = g.status == 200 ? str(g.json(), "status")
                                 : "HTTP " + std::to_string(g.status);
        if (g.status != 200 || is_terminal_text(status))
          break;
        std::this_thread::sleep_for(50ms);
      }
      DUR_CHECK(status == "confirmed", id << " is " << status);
    }
  }
  stop(*srv);
  auto st = load_store(db_path);
  CAF_REQUIRE(st.has_value());
  DUR_CHECK(st->bookings.size() == ids.size(),
            st->bookings.size() << " bookings for " << ids.size() << " keys");
  CAF_CHECK(st->sagas.empty());
  std::vector<std::string> unknown;
  auto report = check_invariants(world_of(*st, ids, unknown));
  DUR_CHECK(report.ok(), "\n" << report.to_text());
}

CAF_TEST_FIXTURE_SCOPE_END()

#undef CAF_SUITE
#define CAF_SUITE durability.redrive

namespace {

rapidjson::Document parse_json(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  return doc;
}

/// The authorization times out (the gateway did authorize) and every void
/// fails: a booking ends in compensation_failed after two attempts.
const std::vector<std::string> stuck_faults{
  "--faults.payment-timeout-rate=1", "--faults.refund-error-rate=1",
  "--saga.compensation-max-attempts=2"};

/// Books while `srv` runs with `stuck_faults`; the booking's id once its
/// saga has ended (compensation_failed, notification sent).
std::string book_stuck(server_process& srv, const std::string& name) {
  http_connection c{srv.port()};
  auto r = c.send("POST", "/api/v1/bookings",
                  booking_body("mid-cellar", "2026-12-05", 1, "tok_ok", name),
                  {{"Prefer", "wait=10"}});
  DUR_CHECK(r.status == 200 && contains(r.body, "\"compensation_failed\""),
            r.to_text());
  auto id = str(r.json(), "id");
  auto deadline = clock_type::now() + 10s;
  while (clock_type::now() < deadline) {
    auto g = c.send("GET", "/api/v1/bookings/" + id);
    if (contains(g.body, "\"send_notification\""))
      return id;
    std::this_thread::sleep_for(20ms);
  }
  CAF_FAIL("the saga of " << id << " did not end");
  return id;
}

/// Polls booking `id` until its status is `status`; the last body.
std::string await_status(uint16_t port, const std::string& id,
                         const std::string& status, ms limit = 15s) {
  http_connection c{port};
  auto deadline = clock_type::now() + limit;
  std::string body;
  while (clock_type::now() < deadline) {
    auto g = c.send("GET", "/api/v1/bookings/" + id);
    body = g.body;
    if (g.status == 200 && str(g.json(), "status") == status)
      return body;
    std::this_thread::sleep_for(20ms);
  }
  CAF_TEST_PRINT_ERROR(id << " did not reach " << status << ": " << body);
  return body;
}

/// The attempt numbers of one step and action in a booking's JSON.
std::vector<int> attempts_in(const std::string& body, const std::string& step,
                             const std::string& action) {
  std::vector<int> result;
  auto doc = parse_json(body);
  if (!doc.IsObject() || !doc.HasMember("saga"))
    return result;
  for (auto& e : doc["saga"].GetArray())
    if (e["step"].GetString() == step && e["action"].GetString() == action)
      result.push_back(e["attempt"].GetInt());
  return result;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(durability_redrive_tests, fixture)

CAF_TEST(a redrive killed midway resumes after the restart) {
  std::string id;
  {
    auto srv = start(stuck_faults);
    id = book_stuck(*srv, "stuck");
    stop(*srv);
  }
  {
    // The provider is back but slow: the re-drive's void is under way when
    // the process dies.
    auto srv
      = start({"--saga.payment-timeout=10s", "--faults.payment-latency=3s"});
    http_connection c{srv->port()};
    auto r = c.send("POST", "/api/v1/bookings/" + id + "/retry");
    DUR_CHECK(r.status == 202, r.to_text());
    CAF_CHECK_EQUAL(str(r.json(), "status"), "pending");
    std::this_thread::sleep_for(300ms);
    srv->kill9();
  }
  auto srv = start();
  auto body = await_status(srv->port(), id, "failed");
  auto voids = attempts_in(body, "authorize_payment", "compensate");
  DUR_CHECK(voids == (std::vector<int>{1, 2, 3}), body);
  DUR_CHECK(attempts_in(body, "reserve_seats", "compensate")
              == std::vector<int>{1},
            body);
  http_connection c{srv->port()};
  auto m = c.send("GET", "/metrics").body;
  DUR_CHECK(contains(m, "booking_saga_redrives_total{outcome=\"failed\"} 1"),
            m);
  auto notes = c.send("GET", "/api/v1/notifications?booking_id=" + id);
  DUR_CHECK(parse_json(notes.body)["items"].Size() == 1, notes.body);
  auto summary = c.send("GET", "/api/v1/bookings/summary");
  auto counts = parse_json(summary.body);
  DUR_CHECK(counts.HasMember("by_status")
              && counts["by_status"]["failed"].GetInt() == 1
              && counts["by_status"]["compensation_failed"].GetInt() == 0,
            summary.body);
  stop(*srv);
  auto db = sqlite_store::open(db_path);
  CAF_REQUIRE(db);
  CAF_CHECK(!(*db)->read_parked(id));
  db->reset();
  auto st = load_store(db_path);
  CAF_REQUIRE(st.has_value());
  CAF_CHECK(st->sagas.empty());
  std::vector<std::string> unknown;
  auto report = check_invariants(world_of(*st, {id}, unknown));
  DUR_CHECK(report.ok(), "\n" << report.to_text());
}

CAF_TEST(redrive all at start re - drives every compensation_failed booking) {
  std::vector<std::string> ids;
  {
    auto srv = start(stuck_faults);
    ids.push_back(book_stuck(*srv, "first"));
    ids.push_back(book_stuck(*srv, "second"));
    stop(*srv);
  }
  auto srv = start({"--redrive-all"});
  for (auto& id : ids) {
    auto body = await_status(srv->port(), id, "failed");
    DUR_CHECK(attempts_in(body, "authorize_payment", "compensate")
                == (std::vector<int>{1, 2, 3}),
              body);
  }
  DUR_CHECK(contains(srv->log(), "re-driving every compensation_failed"),
            tail(srv->log()));
  stop(*srv);
  // Nothing is parked any more: a second start re-drives nothing.
  auto again = start({"--redrive-all"});
  http_connection c{again->port()};
  auto m = c.send("GET", "/metrics").body;
  DUR_CHECK(contains(m, "booking_saga_redrives_total{outcome=\"failed\"} 0"),
            m);
  stop(*again);
}

CAF_TEST_FIXTURE_SCOPE_END()

#undef CAF_SUITE
#define CAF_SUITE durability.broker

CAF_TEST_FIXTURE_SCOPE(durability_broker_tests, fixture)

CAF_TEST(kills with a broker lose no outcome event) {
  auto url = broker_url();
  auto client = connect_with_retry(url, 30s);
  auto queue = "test.durability.events." + std::to_string(seed);
  client->declare_exchange(events_exchange);
  client->declare_queue(queue, true);
  client->bind(queue, events_exchange, "#");
  auto t = crash_loop(kills_or(8), {"--amqp.url=" + url}, traffic_options{});
  auto st = load_store(db_path);
  CAF_REQUIRE(st.has_value());
  check_store(*st, *t);
  // Every outcome in the file has its event on the broker.
  auto t0 = clock_type::now();
  auto info = client->inspect_queue(queue);
  CAF_REQUIRE(info.has_value());
  auto msgs = client->drain(queue, 1s, 120s);
  CAF_MESSAGE("drained " << msgs.size() << " events (queue said "
                         << info->messages << ") in " << seconds_since(t0)
                         << " s");
  std::map<std::string, std::set<std::string>> events;
  size_t undecodable = 0;
  for (auto& m : msgs) {
    rapidjson::Document doc;
    doc.Parse(m.body.data(), m.body.size());
    auto data = doc.IsObject() ? doc.FindMember("data") : doc.MemberEnd();
    if (!doc.IsObject() || data == doc.MemberEnd()) {
      ++undecodable;
      continue;
    }
    events[str(data->value, "booking_id")].insert(m.routing_key);
  }
  DUR_CHECK(undecodable == 0, undecodable << " events without data");
  // Per booking: each outcome event its status calls for, and no outcome
  // event of another status (copies of one are fine: at least once).
  const std::set<std::string> outcome_types{"booking.confirmed",
                                            "booking.failed",
                                            "booking.cancelled",
                                            "saga.compensation_failed"};
  size_t missing = 0;
  size_t conflicting = 0;
  auto seen_text = [](const std::set<std::string>& got) {
    std::string out;
    for (auto& g : got)
      out += " " + g;
    return out;
  };
  std::set<std::string> stored_ids;
  for (auto& b : st->bookings) {
    stored_ids.insert(b.id);
    std::set<std::string> want;
    auto in_cancel = std::any_of(b.saga.begin(), b.saga.end(), [](auto& e) {
      return e.step == saga_step::refund_payment;
    });
    switch (b.status) {
      case booking_status::confirmed:
        want = {"booking.confirmed"};
        break;
      case booking_status::failed:
        want = {"booking.failed"};
        break;
      case booking_status::cancelled:
        want = {"booking.confirmed", "booking.cancelled"};
        break;
      case booking_status::compensation_failed:
        want = {"saga.compensation_failed"};
        if (in_cancel)
          want.insert("booking.confirmed");
        break;
      default:
        break; // not terminal: check_store said so already
    }
    auto& got = events[b.id];
    for (auto& type : want)
      if (got.count(type) == 0 && missing++ < 10)
        CAF_TEST_PRINT_ERROR("no " << type << " event; got:" << seen_text(got)
                                   << "\n        "
                                   << describe_booking(*st, b.id));
    for (auto& type : got)
      if (outcome_types.count(type) > 0 && want.count(type) == 0
          && conflicting++ < 10)
        CAF_TEST_PRINT_ERROR("a " << type << " event contradicts the store; "
                                  << "got:" << seen_text(got) << "\n        "
                                  << describe_booking(*st, b.id));
  }
  DUR_CHECK(missing == 0, missing << " outcome events missing");
  DUR_CHECK(conflicting == 0, conflicting << " outcome events contradict the "
                                             "store");
  // No event speaks of a booking the store does not have.
  size_t strangers = 0;
  for (auto& [id, types] : events)
    if (stored_ids.count(id) == 0 && strangers++ < 5)
      CAF_TEST_PRINT_ERROR("events of a booking not in the store: "
                           << id << ":" << seen_text(types));
  DUR_CHECK(strangers == 0, strangers << " bookings with events but no row");
  // The outbox drained before the clean stop.
  std::map<std::string, int> left;
  for (auto& row : st->outbox)
    ++left[row.event.type];
  std::ostringstream out;
  for (auto& [type, n] : left)
    out << " " << type << "=" << n;
  DUR_CHECK(st->outbox.empty(),
            st->outbox.size() << " events left in the outbox:" << out.str());
  client->delete_queue(queue);
}

CAF_TEST(a traceparent reaches the response every log line and every event) {
  auto url = broker_url();
  auto client = connect_with_retry(url, 30s);
  auto queue = "test.durability.trace." + std::to_string(seed);
  client->declare_exchange(events_exchange);
  client->declare_queue(queue, true);
  client->bind(queue, events_exchange, "#");
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string create_tp = "00-" + trace_id + "-00f067aa0ba902b7-01";
  const std::string cancel_trace = "0af7651916cd43dd8448eb211c80319c";
  const std::string cancel_tp = "00-" + cancel_trace + "-b7ad6b7169203331-01";
  auto srv = start({"--amqp.url=" + url});
  http_connection c{srv->port()};
  auto r = c.send("POST", "/api/v1/bookings",
                  booking_body("mid-cellar", "2026-12-05", 1, "tok_ok", "tia"),
                  {{"Prefer", "wait=10"}, {"traceparent", create_tp}});
  DUR_CHECK(r.status == 201, r.to_text());
  CAF_CHECK_EQUAL(r.header("traceparent"), create_tp);
  auto id = str(r.json(), "id");
  CAF_REQUIRE(!id.empty());
  auto cancel = c.send("POST", "/api/v1/bookings/" + id + "/cancel", {},
                       {{"Prefer", "wait=10"}, {"traceparent", cancel_tp}});
  DUR_CHECK(cancel.status == 200, cancel.to_text());
  CAF_CHECK_EQUAL(cancel.header("traceparent"), cancel_tp);
  // A request without one gets a new, valid one.
  auto fresh = c.send("GET", "/api/v1/bookings/" + id);
  CAF_CHECK(valid_traceparent(fresh.header("traceparent")));
  CAF_CHECK(fresh.header("traceparent") != create_tp);
  // Every event of the booking carries the trace of the saga that emitted
  // it, as the CloudEvents attribute and as an AMQP header: the booking
  // saga's (requested ... confirmed, notification) and the cancellation's.
  // The last events (the notices) follow the answers: drain until all ten
  // of the booking are in, or 30 s passed.
  std::vector<amqp_received> msgs;
  auto ours = [&] {
    return std::count_if(msgs.begin(), msgs.end(), [&](const amqp_received& m) {
      return contains(m.body, id);
    });
  };
  auto drain_until = clock_type::now() + 30s;
  while (ours() < 10 && clock_type::now() < drain_until) {
    auto more = client->drain(queue, 1s, 5s);
    msgs.insert(msgs.end(), more.begin(), more.end());
  }
  size_t create_events = 0;
  size_t cancel_events = 0;
  for (auto& m : msgs) {
    rapidjson::Document doc;
    doc.Parse(m.body.data(), m.body.size());
    CAF_REQUIRE(doc.IsObject() && doc.HasMember("data"));
    if (str(doc["data"], "booking_id") != id)
      continue;
    auto attribute = str(doc, "traceparent");
    std::string header;
    for (auto& [k, v] : m.props.headers)
      if (k == "traceparent")
        header = v;
    DUR_CHECK(attribute == header, m.routing_key << ": attribute " << attribute
                                                 << ", header " << header);
    auto cancelling = m.routing_key == "booking.cancelled"
                      || m.routing_key == "payment.refunded"
                      || m.routing_key == "inventory.released"
                      || (m.routing_key == "notification.sent"
                          && str(doc["data"], "kind") == "booking_cancelled");
    DUR_CHECK(attribute == (cancelling ? cancel_tp : create_tp),
              m.routing_key << " carries " << attribute);
    ++(cancelling ? cancel_events : create_events);
  }
  CAF_CHECK_EQUAL(create_events, 6u);
  CAF_CHECK_EQUAL(cancel_events, 4u);
  stop(*srv);
  // Every log line of the booking names the trace of its saga.
  size_t lines = 0;
  std::istringstream log{srv->log()};
  for (std::string line; std::getline(log, line);) {
    if (!contains(line, id))
      continue;
    ++lines;
    DUR_CHECK(contains(line, "\"trace_id\":\"" + trace_id + "\"")
                || contains(line, "\"trace_id\":\"" + cancel_trace + "\""),
              line);
  }
  CAF_CHECK(lines >= 4);
}

CAF_TEST(an intake reply survives a kill after the ack) {
  auto url_env = std::getenv("BOOKING_TEST_AMQP_URL");
  if (url_env == nullptr || *url_env == '\0')
    CAF_FAIL("run this suite through tests/broker/with_broker.sh");
  std::string url = url_env;
  auto client = connect_with_retry(url, 30s);
  auto events = "test.durability.reply-events." + std::to_string(seed);
  auto replies = "test.durability.replies." + std::to_string(seed);
  client->declare_exchange(events_exchange);
  client->declare_queue(events, true);
  client->bind(events, events_exchange, "#");
  client->declare_queue(replies, true);
  // The gateway answers after a minute: every saga still waits for its
  // payment when the server is killed, after it acked every intake message.
  common = {"--store.cache-bookings=4"};
  auto srv = start({"--amqp.url=" + url, "--faults.payment-latency=60s",
                    "--saga.payment-timeout=120s"});
  http_connection c{srv->port()};
  CAF_REQUIRE_EQUAL(readyz_until(c, 200, 30s).status, 200);
  constexpr int n = 5;
  for (int i = 0; i < n; ++i) {
    auto id = "reply-" + std::to_string(i) + "-" + std::to_string(seed);
    client->publish(
      "booking.commands", "booking.create",
      intake_props(id, "corr-" + std::to_string(i), replies),
      intake_event(id, booking_body("big-boat", "2026-12-10", 1, "tok_ok",
                                    "reply" + std::to_string(i))));
  }
  auto deadline = clock_type::now() + 30s;
  while (metric(c.send("GET", "/metrics").body, "booking_amqp_acked_total") < n
         && clock_type::now() < deadline)
    std::this_thread::sleep_for(20ms);
  CAF_REQUIRE_EQUAL(
    metric(c.send("GET", "/metrics").body, "booking_amqp_acked_total"), n);
  srv->kill9();
  auto before = client->inspect_queue(replies);
  CAF_REQUIRE(before.has_value());
  CAF_REQUIRE_EQUAL(before->messages, 0u);
  // The restarted server resumes the sagas; each reply comes with the
  // outcome, as the same event booking.events gets.
  common = {"--saga.payment-timeout=300ms", "--store.cache-bookings=4"};
  srv = start({"--amqp.url=" + url});
  std::map<std::string, amqp_received> got; // booking id -> reply
  for (int i = 0; i < n; ++i) {
    auto m = client->get(replies, 30s);
    if (!m)
      break;
    rapidjson::Document doc;
    doc.Parse(m->body.data(), m->body.size());
    DUR_CHECK(doc.IsObject() && doc.HasMember("data"), m->body);
    if (doc.IsObject() && doc.HasMember("data"))
      got.emplace(str(doc["data"], "booking_id"), std::move(*m));
  }
  DUR_CHECK(got.size() == static_cast<size_t>(n),
            got.size() << " of " << n << " replies after the restart");
  // The events of those bookings, until each has its outcome.
  std::map<std::string, std::string> outcome_id; // booking id -> event id
  deadline = clock_type::now() + 30s;
  while (outcome_id.size() < got.size() && clock_type::now() < deadline) {
    auto m = client->get(events, 1s);
    if (!m)
      continue;
    if (m->routing_key != "booking.confirmed"
        && m->routing_key != "booking.failed")
      continue;
    rapidjson::Document doc;
    doc.Parse(m->body.data(), m->body.size());
    if (doc.IsObject() && doc.HasMember("data"))
      outcome_id[str(doc["data"], "booking_id")] = m->props.message_id;
  }
  for (auto& [booking, m] : got) {
    DUR_CHECK(m.props.type == "booking.confirmed"
                || m.props.type == "booking.failed",
              m.props.type);
    auto same = outcome_id.find(booking);
    DUR_CHECK(same != outcome_id.end() && same->second == m.props.message_id,
              "reply " << m.props.message_id << " of " << booking
                       << " is not the outcome event on booking.events");
    // Customer replyI@example.com sent corr-I.
    rapidjson::Document doc;
    doc.Parse(m.body.data(), m.body.size());
    auto email = str(doc["data"], "customer_email");
    auto i = email.substr(5, email.find('@') - 5);
    DUR_CHECK(m.props.correlation_id == "corr-" + i,
              email << " got correlation id " << m.props.correlation_id);
  }
  stop(*srv);
  client->delete_queue(events);
  client->delete_queue(replies);
}

CAF_TEST(a frozen broker is seen through heartbeats and left) {
  auto url_env = std::getenv("BOOKING_TEST_AMQP_URL");
  auto broker_dir = std::getenv("BOOKING_TEST_BROKER_DIR");
  if (url_env == nullptr || broker_dir == nullptr)
    CAF_FAIL("run this suite through tests/broker/with_broker.sh");
  auto srv
    = start({std::string{"--amqp.url="} + url_env, "--amqp.heartbeat=1s"});
  http_connection c{srv->port()};
  CAF_REQUIRE_EQUAL(readyz_until(c, 200, 30s).status, 200);
  // The broker's VM stops: its sockets stay open, and it answers nothing,
  // heartbeats included. It runs again whatever happens below.
  auto pid = static_cast<pid_t>(
    std::stol(read_text(std::string{broker_dir} + "/rabbit.pid")));
  struct resume {
    pid_t pid;
    ~resume() {
      ::kill(pid, SIGCONT);
    }
  } guard{pid};
  CAF_REQUIRE_EQUAL(::kill(pid, SIGSTOP), 0);
  auto t0 = clock_type::now();
  auto r = readyz_until(c, 503, 15s, "heartbeat timeout");
  CAF_MESSAGE("readyz said 503 after " << seconds_since(t0) << " s");
  DUR_CHECK(r.status == 503, r.to_text());
  DUR_CHECK(contains(r.body, "heartbeat timeout"), r.body);
  ::kill(pid, SIGCONT);
  r = readyz_until(c, 200, 60s);
  DUR_CHECK(r.status == 200, r.to_text());
  stop(*srv);
}

CAF_TEST(an intake held back by backpressure gives its messages back) {
  auto url_env = std::getenv("BOOKING_TEST_AMQP_URL");
  if (url_env == nullptr || *url_env == '\0')
    CAF_FAIL("run this suite through tests/broker/with_broker.sh");
  std::string url = url_env;
  auto client = connect_with_retry(url, 30s);
  // One saga at a time, and the first waits a minute for its payment: the
  // intake's next message meets a full engine.
  common = {"--store.cache-bookings=4"};
  auto srv = start({"--amqp.url=" + url, "--saga.max-in-flight=1",
                    "--faults.payment-latency=60s",
                    "--saga.payment-timeout=120s", "--amqp.stall-timeout=2s"});
  http_connection c{srv->port()};
  CAF_REQUIRE_EQUAL(readyz_until(c, 200, 30s).status, 200);
  for (int i = 0; i < 3; ++i) {
    auto id = "held-" + std::to_string(i) + "-" + std::to_string(seed);
    client->publish(
      "booking.commands", "booking.create", intake_props(id, id, ""),
      intake_event(id, booking_body("big-boat", "2026-12-10", 1, "tok_ok",
                                    "held" + std::to_string(i))));
  }
  auto count = [&](const std::string& text, const std::string& part) {
    size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos;
         at = text.find(part, at + part.size()))
      ++n;
    return n;
  };
  auto deadline = clock_type::now() + 20s;
  while (!contains(srv->log(), "amqp intake gives its messages back")
         && clock_type::now() < deadline)
    std::this_thread::sleep_for(50ms);
  auto log = srv->log();
  DUR_CHECK(contains(log, "\"amqp intake gives its messages back\","
                          "\"reason\":\"the engine refused new bookings for "
                          "2 s"),
            tail(log));
  // It consumes again once the backoff passed: the messages it gave back
  // come to it again, and it gives them back again, while the engine
  // stays full.
  deadline = clock_type::now() + 10s;
  while (count(srv->log(), "\"amqp intake consuming\"") < 2
         && clock_type::now() < deadline)
    std::this_thread::sleep_for(50ms);
  DUR_CHECK(count(srv->log(), "\"amqp intake consuming\"") >= 2,
            tail(srv->log()));
  // A clean stop would wait for the parked saga to drain; this test is not
  // about stopping.
  srv->kill9();
}

CAF_TEST(a refused login is named in the log and in readyz) {
  auto url_env = std::getenv("BOOKING_TEST_AMQP_URL");
  if (url_env == nullptr || *url_env == '\0')
    CAF_FAIL("run this suite through tests/broker/with_broker.sh");
  // The test broker's URL with a bare trailing slash: the empty vhost.
  std::string url = url_env;
  url = url.substr(0, url.rfind('/')) + "/";
  auto srv = start({"--amqp.url=" + url});
  http_connection c{srv->port()};
  auto expected = std::string{"login refused: user guest, vhost '' (use %2f "
                              "for /)"};
  auto r = readyz_until(c, 503, 20s, "login refused");
  DUR_CHECK(r.status == 503, r.to_text());
  DUR_CHECK(contains(r.body, "\"amqp\":\"down\""), r.body);
  DUR_CHECK(contains(r.body, "\"detail\":{\"amqp\":\"" + expected + "\"}"),
            r.body);
  DUR_CHECK(contains(srv->log(), expected), tail(srv->log()));
  stop(*srv);
}

CAF_TEST(a full outbox pushes back and recovers once the broker is back) {
  auto url_env = std::getenv("BOOKING_TEST_AMQP_URL");
  auto broker_dir = std::getenv("BOOKING_TEST_BROKER_DIR");
  auto port_env = std::getenv("BOOKING_TEST_AMQP_PORT");
  if (url_env == nullptr || broker_dir == nullptr || port_env == nullptr)
    CAF_FAIL("run this suite through tests/broker/with_broker.sh");
  std::string url = url_env;
  auto broker = [&](const std::string& cmd, const std::string& args) {
    auto line = "bash '" BOOKING_SOURCE_DIR "/deploy/rabbitmq/broker.sh' " + cmd
                + " '" + broker_dir + "' " + args;
    return std::system(line.c_str()) == 0;
  };
  auto queue = "test.durability.backlog." + std::to_string(seed);
  {
    auto client = connect_with_retry(url, 30s);
    client->declare_exchange(events_exchange);
    client->declare_queue(queue, true);
    client->bind(queue, events_exchange, "#");
  }
  // A small bound, and a small window: most of the backlog waits in the
  // store's table, not in the publisher.
  auto srv = start(
    {"--amqp.url=" + url, "--amqp.max-backlog=40", "--amqp.confirm-window=4"});
  http_connection c{srv->port()};
  auto ready = [&] { return c.send("GET", "/readyz"); };
  CAF_REQUIRE_EQUAL(readyz_until(c, 200, 30s).status, 200);
  CAF_REQUIRE(broker("stop", ""));
  // Bookings go on until the events nobody confirms reach the bound.
  std::vector<std::string> accepted;
  http_response refused;
  for (int i = 0; i < 60 && refused.status == 0; ++i) {
    auto r = c.send("POST", "/api/v1/bookings",
                    booking_body("big-boat", "2026-12-10", 1, "tok_ok",
                                 "who-" + std::to_string(i)),
                    {{"Prefer", "wait=5"}});
    if (r.status == 201 || r.status == 202)
      accepted.push_back(str(r.json(), "id"));
    else if (r.status == 429)
      refused = r;
    else
      DUR_CHECK(false, "unexpected answer: " << r.to_text());
  }
  CAF_REQUIRE_EQUAL(refused.status, 429);
  DUR_CHECK(contains(refused.body, "outbox-backlog"), refused.to_text());
  DUR_CHECK(!refused.header("retry-after").empty(), refused.to_text());
  CAF_MESSAGE(accepted.size() << " bookings accepted before the 429");
  // At 6 events a booking, 40 events take about 7 bookings.
  DUR_CHECK(accepted.size() >= 5 && accepted.size() <= 12,
            accepted.size() << " bookings accepted");
  auto r = ready();
  DUR_CHECK(r.status == 503, r.to_text());
  DUR_CHECK(contains(r.body, R"("backpressure":"outbox-backlog")"),
            r.to_text());
  // The broker comes back: the backlog drains and bookings are taken again.
  CAF_REQUIRE(broker("start", port_env));
  r = readyz_until(c, 200, 60s);
  DUR_CHECK(r.status == 200, r.to_text());
  auto after
    = c.send("POST", "/api/v1/bookings",
             booking_body("big-boat", "2026-12-10", 1, "tok_ok", "after"),
             {{"Prefer", "wait=5"}});
  DUR_CHECK(after.status == 201, after.to_text());
  accepted.push_back(str(after.json(), "id"));
  // Nothing accepted is lost: every booking is confirmed, and every one of
  // its events reaches the queue.
  for (auto& id : accepted) {
    auto g = c.send("GET", "/api/v1/bookings/" + id);
    DUR_CHECK(g.status == 200 && str(g.json(), "status") == "confirmed",
              g.to_text());
  }
  auto deadline = clock_type::now() + 30s;
  while (clock_type::now() < deadline
         && !contains(c.send("GET", "/metrics").body,
                      "\nbooking_amqp_outbox_backlog 0\n"))
    std::this_thread::sleep_for(100ms);
  stop(*srv);
  auto client = connect_with_retry(url, 30s);
  auto msgs = client->drain(queue, 1s, 60s);
  std::map<std::string, std::set<std::string>> types;
  for (auto& m : msgs) {
    rapidjson::Document doc;
    doc.Parse(m.body.data(), m.body.size());
    if (doc.IsObject() && doc.HasMember("data"))
      types[str(doc["data"], "booking_id")].insert(m.routing_key);
  }
  size_t incomplete = 0;
  for (auto& id : accepted)
    if (types[id].count("booking.confirmed") == 0
        || types[id].count("booking.requested") == 0)
      ++incomplete;
  DUR_CHECK(incomplete == 0, incomplete << " of " << accepted.size()
                                        << " bookings without their events");
  auto st = load_store(db_path);
  CAF_REQUIRE(st.has_value());
  DUR_CHECK(st->outbox.empty(), st->outbox.size() << " events left");
  client->delete_queue(queue);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- durability.upgrade -------------------------------------------------------

// Stores written by older releases, opened by this one: the first is the
// file release 2ee12ec left when it was killed with 16 sagas in flight
// (tests/fixtures/README.md). A release that changes the schema or a saga
// table adds its own file here, so the chain of upgrades stays tested.

#undef CAF_SUITE
#define CAF_SUITE durability.upgrade

namespace {

/// The first column of every row `sql` yields, one per line.
std::string query_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr)
      != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_stmt* stmt = nullptr;
  auto rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    auto text = sqlite3_column_text(stmt, 0);
    out += text ? reinterpret_cast<const char*>(text) : "";
    out += "\n";
    rc = SQLITE_OK;
  }
  sqlite3_finalize(stmt);
  auto err = rc == SQLITE_DONE ? std::string{} : sqlite3_errmsg(db);
  sqlite3_close(db);
  if (!err.empty())
    throw std::runtime_error(sql + ": " + err);
  return out;
}

struct upgrade_fixture : fixture {
  std::string fixture_tours = std::string{BOOKING_SOURCE_DIR}
                              + "/tests/fixtures/store-2ee12ec.tours.json";

  /// A writable copy of the store release 2ee12ec left.
  std::string copy_of_2ee12ec() {
    auto path = dir + "/2ee12ec.db";
    std::filesystem::copy_file(std::string{BOOKING_SOURCE_DIR}
                                 + "/tests/fixtures/store-2ee12ec.db",
                               path);
    std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
    return path;
  }

  std::unique_ptr<server_process> start_on(const std::string& path) {
    std::vector<std::string> argv{BOOKING_SERVER, "--http.port=0",
                                  "--store.path=" + path,
                                  "--tours=" + fixture_tours};
    argv.insert(argv.end(), common.begin(), common.end());
    auto log = dir + "/server-" + std::to_string(++runs) + ".log";
    auto p = std::make_unique<server_process>(argv, dir, log);
    if (p->wait_listening(30s) == 0) {
      CAF_TEST_PRINT_ERROR("server did not start; log:\n" << tail(p->log()));
      CAF_FAIL("server did not start");
    }
    return p;
  }

  /// Waits until `want` bookings are pending and cancelling, by default
  /// none (or `limit` passed); then "pending=N cancelling=M".
  std::string wait_settled(uint16_t port, ms limit,
                           const std::string& want = "pending=0 cancelling=0") {
    http_connection c{port};
    auto count = [&](const char* status) {
      auto r = c.send("GET", std::string{"/api/v1/bookings?limit=200&status="}
                               + status);
      auto doc = r.json();
      if (r.status != 200 || !doc.IsObject() || !doc.HasMember("items")
          || !doc["items"].IsArray())
        return std::string{"? (" + r.body + ")"};
      return std::to_string(doc["items"].Size());
    };
    auto deadline = clock_type::now() + limit;
    for (;;) {
      auto text = std::string{"pending="} + count("pending")
                  + " cancelling=" + count("cancelling");
      if (text == want || clock_type::now() >= deadline)
        return text;
      std::this_thread::sleep_for(100ms);
    }
  }

  /// Statuses in the file, as "status=n" sorted by status.
  static std::string statuses(const store_contents& st) {
    std::map<std::string, int> n;
    for (auto& b : st.bookings)
      ++n[to_string(b.status)];
    std::string out;
    for (auto& [k, v] : n)
      out += k + "=" + std::to_string(v) + " ";
    return out;
  }

  /// The invariants over the file, every booking in it acknowledged.
  void check_file(const store_contents& st) {
    std::vector<std::string> ids;
    for (auto& b : st.bookings)
      ids.push_back(b.id);
    std::vector<std::string> unknown;
    auto report = check_invariants(world_of(st, ids, unknown));
    if (!report.ok())
      CAF_TEST_PRINT_ERROR(report.to_text());
    DUR_CHECK(report.ok(), "see the invariant table above");
    DUR_CHECK(unknown.empty(), unknown.size()
                                 << " holds on unknown departures");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(durability_upgrade_tests, upgrade_fixture)

CAF_TEST(a store of release 2ee12ec resumes every saga to its end) {
  auto path = copy_of_2ee12ec();
  CAF_REQUIRE_EQUAL(query_text(path, "PRAGMA user_version"), "1\n");
  auto srv = start_on(path);
  CAF_CHECK_EQUAL(log_number(srv->log(), "store opened", "unfinished_sagas"),
                  16);
  auto summary = wait_settled(srv->port(), 60s);
  DUR_CHECK(summary == "pending=0 cancelling=0",
            "not settled after 60 s: " << summary);
  http_connection c{srv->port()};
  auto ready = c.send("GET", "/readyz");
  DUR_CHECK(ready.status == 200 && !contains(ready.body, "suspended"),
            ready.to_text());
  auto metrics = c.send("GET", "/metrics").body;
  DUR_CHECK(contains(metrics, "booking_sagas_in_flight_by_version{saga="
                              "\"booking\",version=\"b54488f520ef2c8c\"} 0"),
            "no per-version gauge of the booking saga");
  DUR_CHECK(contains(metrics, "booking_sagas_suspended 0"), "suspended gauge");
  stop(*srv);
  CAF_CHECK_EQUAL(query_text(path, "PRAGMA user_version"),
                  std::to_string(sqlite_store::schema_version()) + "\n");
  auto st = load_store(path);
  CAF_REQUIRE(st.has_value());
  CAF_CHECK_EQUAL(st->bookings.size(), 21u);
  CAF_CHECK(st->sagas.empty());
  // As the fixture's README says release 2ee12ec ends them.
  CAF_CHECK_EQUAL(statuses(*st), "cancelled=2 confirmed=14 failed=5 ");
  check_file(*st);
}

CAF_TEST(sagas on a table version this release lacks wait untouched) {
  auto path = copy_of_2ee12ec();
  // Migrated by this release, then two sagas named as a release this one
  // does not know would name them: a confirming booking and a cancellation.
  CAF_REQUIRE(static_cast<bool>(sqlite_store::open(path)));
  auto confirming = std::string{"01a24cd3-909e-7944-8eed-df39d2d1a42f"};
  auto cancelling = std::string{"01a24cd3-75b4-7895-901f-d61fa3a93ea1"};
  auto orig = query_text(path, "SELECT table_version FROM sagas WHERE key = '"
                                 + confirming + "'");
  CAF_REQUIRE_EQUAL(orig, "b54488f520ef2c8c\n");
  auto orig_cancel = query_text(path,
                                "SELECT table_version FROM sagas WHERE key = '"
                                  + cancelling + "#cancel'");
  query_text(path, "UPDATE sagas SET table_version = '00000000000000aa' "
                   "WHERE key IN ('"
                     + confirming + "', '" + cancelling + "#cancel')");
  auto dump = [&] {
    return query_text(
      path, "SELECT key || '|' || phase || '|' || step || '|' || attempt || "
            "'|' || to_compensate || '|' || table_version FROM sagas "
            "ORDER BY key");
  };
  auto sagas_before = dump();
  std::string body_confirming;
  std::string body_cancelling;
  {
    auto srv = start_on(path);
    auto log = srv->log();
    DUR_CHECK(log_number(log, "sagas suspended", "count") == 2,
              "no count of suspended sagas:\n"
                << tail(log));
    // The two stay as stored; the 14 others end.
    auto summary = wait_settled(srv->port(), 30s, "pending=1 cancelling=1");
    DUR_CHECK(summary == "pending=1 cancelling=1", summary);
    http_connection c{srv->port()};
    auto ready = c.send("GET", "/readyz");
    DUR_CHECK(ready.status == 200, ready.to_text());
    DUR_CHECK(contains(ready.body, "2 sagas suspended")
                && contains(ready.body, confirming)
                && contains(ready.body, cancelling + "#cancel")
                && contains(ready.body, "00000000000000aa"),
              ready.body);
    auto metrics = c.send("GET", "/metrics").body;
    DUR_CHECK(contains(metrics, "booking_sagas_suspended 2"), "gauge");
    body_confirming = c.send("GET", "/api/v1/bookings/" + confirming).body;
    body_cancelling = c.send("GET", "/api/v1/bookings/" + cancelling).body;
    DUR_CHECK(contains(body_confirming, "\"status\":\"pending\""),
              body_confirming);
    DUR_CHECK(contains(body_cancelling, "\"status\":\"cancelling\""),
              body_cancelling);
    stop(*srv);
  }
  // Exactly the two rows remain, as they were.
  auto sagas_after = dump();
  std::string expected;
  for (size_t pos = 0; pos < sagas_before.size();) {
    auto end = sagas_before.find('\n', pos);
    auto row = sagas_before.substr(pos, end - pos + 1);
    if (starts_with(row, confirming + "|")
        || starts_with(row, cancelling + "#cancel|"))
      expected += row;
    pos = end + 1;
  }
  CAF_CHECK_EQUAL(sagas_after, expected);
  // A release that has the version resumes them.
  query_text(path, "UPDATE sagas SET table_version = 'b54488f520ef2c8c' "
                   "WHERE key = '"
                     + confirming + "'");
  query_text(path, "UPDATE sagas SET table_version = " + std::string{"'"}
                     + orig_cancel.substr(0, orig_cancel.size() - 1)
                     + "' WHERE key = '" + cancelling + "#cancel'");
  {
    auto srv = start_on(path);
    auto summary = wait_settled(srv->port(), 30s);
    DUR_CHECK(summary == "pending=0 cancelling=0", summary);
    http_connection c{srv->port()};
    DUR_CHECK(!contains(c.send("GET", "/readyz").body, "suspended"), "readyz");
    stop(*srv);
  }
  auto st = load_store(path);
  CAF_REQUIRE(st.has_value());
  CAF_CHECK(st->sagas.empty());
  CAF_CHECK_EQUAL(statuses(*st), "cancelled=2 confirmed=14 failed=5 ");
  check_file(*st);
}

CAF_TEST(a store newer than the binary is refused) {
  auto path = copy_of_2ee12ec();
  CAF_REQUIRE(static_cast<bool>(sqlite_store::open(path)));
  auto newer = sqlite_store::schema_version() + 1;
  query_text(path, "PRAGMA user_version=" + std::to_string(newer));
  auto before = read_text(path);
  std::vector<std::string> argv{BOOKING_SERVER, "--http.port=0",
                                "--store.path=" + path};
  auto srv = std::make_unique<server_process>(argv, dir, dir + "/newer.log");
  auto st = srv->wait_exit(10s);
  DUR_CHECK(st && *st == 1, "exit status " << st.value_or(-1) << ":\n"
                                           << tail(srv->log()));
  DUR_CHECK(contains(srv->log(), "written by a newer version (schema "
                                   + std::to_string(newer)),
            tail(srv->log()));
  CAF_CHECK(read_text(path) == before);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- amqp.tls -----------------------------------------------------------------

// The real server against a throwaway broker with a TLS listener
// (tests/broker/with_broker.sh --tls): a CA, a server certificate for
// `localhost` and a client certificate made for the run; the broker asks
// every TLS client for a certificate. The test's own client observes over
// plain AMQP.

#undef CAF_SUITE
#define CAF_SUITE amqp.tls

namespace {

struct tls_fixture : fixture {
  std::string plain_url = env("BOOKING_TEST_AMQP_URL");
  std::string tls_url = env("BOOKING_TEST_AMQPS_URL");
  std::string tls_dir = env("BOOKING_TEST_TLS_DIR");
  std::string broker_dir = env("BOOKING_TEST_BROKER_DIR");
  /// The broker's TLS port, from the amqps URL.
  std::string tls_port = [&] {
    auto port = tls_url.substr(tls_url.rfind(':') + 1);
    return port.substr(0, port.find('/'));
  }();

  static std::string env(const char* name) {
    auto x = std::getenv(name);
    if (x == nullptr || *x == '\0')
      CAF_FAIL(name << " is not set: run this suite through "
                       "tests/broker/with_broker.sh --tls");
    return x;
  }

  /// The options of a server that trusts `ca` and shows the client
  /// certificate.
  std::vector<std::string> tls_options(const std::string& url,
                                       const std::string& ca = "ca.pem") {
    return {"--amqp.url=" + url, "--amqp.ca-file=" + tls_dir + "/" + ca,
            "--amqp.cert-file=" + tls_dir + "/client.pem",
            "--amqp.key-file=" + tls_dir + "/client.key"};
  }

  /// The broker's connections as "port ssl" lines (port: the broker's).
  std::string broker_connections() {
    auto line = "bash '" BOOKING_SOURCE_DIR "/deploy/rabbitmq/broker.sh' ctl '"
                + broker_dir
                + "' list_connections -q --no-table-headers port ssl 2>&1";
    std::string out;
    if (auto p = popen(line.c_str(), "r")) {
      char buf[512];
      while (fgets(buf, sizeof(buf), p) != nullptr)
        out += buf;
      pclose(p);
    }
    return out;
  }

  /// A server whose TLS connection must fail with `expected`: /readyz says
  /// so with 503, the log says so, and the broker never sees the engine,
  /// over TLS or otherwise.
  void check_refused(const std::vector<std::string>& options,
                     const std::string& expected) {
    auto srv = start(options);
    http_connection c{srv->port()};
    auto r = readyz_until(c, 503, 20s, expected);
    DUR_CHECK(r.status == 503, r.to_text());
    DUR_CHECK(contains(r.body, "\"amqp\":\"down\""), r.body);
    DUR_CHECK(contains(r.body, expected), r.body);
    // A few reconnects later: still refused, and nothing got through.
    std::this_thread::sleep_for(1s);
    r = c.send("GET", "/readyz");
    DUR_CHECK(r.status == 503, r.to_text());
    // The test's own client is not connected here: any connection is the
    // engine's.
    auto conns = broker_connections();
    DUR_CHECK(conns.empty(), "connections:\n" << conns);
    DUR_CHECK(contains(srv->log(), expected), tail(srv->log()));
    stop(*srv);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(amqp_tls_tests, tls_fixture)

CAF_TEST(the engine publishes and consumes over TLS) {
  auto client = connect_with_retry(plain_url, 30s);
  auto queue = "test.tls.events." + std::to_string(seed);
  client->declare_exchange(events_exchange);
  client->declare_queue(queue, true);
  client->bind(queue, events_exchange, "#");
  auto srv = start(tls_options(tls_url));
  http_connection c{srv->port()};
  CAF_REQUIRE_EQUAL(readyz_until(c, 200, 30s).status, 200);
  // Every connection but the test's own (on the plain port) is the
  // engine's, on the TLS port, with TLS: the publisher, the intake and the
  // intake's replies.
  auto conns = broker_connections();
  size_t engine = 0;
  std::istringstream lines{conns};
  for (std::string line; std::getline(lines, line);) {
    if (starts_with(line, env("BOOKING_TEST_AMQP_PORT") + "\t"))
      continue;
    ++engine;
    DUR_CHECK(line == tls_port + "\ttrue", "not TLS: " << line);
  }
  DUR_CHECK(engine == 3, "connections:\n" << conns);
  // Published: a booking taken over HTTP has its events on the queue.
  auto r = c.send("POST", "/api/v1/bookings",
                  booking_body("big-boat", "2026-12-10", 1, "tok_ok", "tls"),
                  {{"Prefer", "wait=5"}});
  CAF_REQUIRE_EQUAL(r.status, 201);
  auto id = str(r.json(), "id");
  // Consumed: a booking submitted on the intake is confirmed on reply_to.
  auto reply_to = client->declare_reply_queue();
  auto props = intake_props("tls-intake-" + std::to_string(seed),
                            "tls-correlation", reply_to);
  client->publish("booking.commands", "booking.create", props,
                  intake_event(props.message_id,
                               booking_body("big-boat", "2026-12-10", 1,
                                            "tok_ok", "tls-intake")));
  auto reply = client->get(reply_to, 20s);
  CAF_REQUIRE(reply.has_value());
  DUR_CHECK(reply->props.type == "booking.confirmed",
            reply->props.type << ": " << reply->body);
  DUR_CHECK(reply->props.correlation_id == "tls-correlation",
            reply->props.correlation_id);
  std::set<std::string> types;
  auto deadline = clock_type::now() + 20s;
  while (types.count("booking.confirmed") == 0
         && clock_type::now() < deadline) {
    auto m = client->get(queue, 1s);
    if (!m)
      continue;
    rapidjson::Document doc;
    doc.Parse(m->body.data(), m->body.size());
    if (doc.IsObject() && doc.HasMember("data")
        && str(doc["data"], "booking_id") == id)
      types.insert(m->routing_key);
  }
  DUR_CHECK(types.count("booking.requested") == 1, "events of " << id);
  DUR_CHECK(types.count("booking.confirmed") == 1, "events of " << id);
  stop(*srv);
  client->delete_queue(queue);
}

CAF_TEST(a certificate from another CA is refused) {
  check_refused(tls_options(tls_url, "other-ca.pem"),
                "TLS: the broker's certificate at localhost:" + tls_port
                  + " is not trusted: self-signed certificate in certificate "
                    "chain; checked against amqp.ca-file "
                  + tls_dir + "/other-ca.pem");
}

CAF_TEST(a host the certificate does not name is refused) {
  auto url = tls_url;
  url.replace(url.find("localhost"), 9, "127.0.0.1");
  check_refused(tls_options(url), "is not trusted: IP address mismatch");
}

CAF_TEST(a broker that asks for a client certificate is answered clearly) {
  check_refused({"--amqp.url=" + tls_url,
                 "--amqp.ca-file=" + tls_dir + "/ca.pem"},
                "client certificate: set amqp.cert-file and "
                "amqp.key-file)");
}

CAF_TEST(without verification another CA is accepted and a warning logged) {
  // The CA of "a certificate from another CA is refused".
  auto options = tls_options(tls_url, "other-ca.pem");
  options.push_back("--amqp.verify=false");
  auto srv = start(options);
  http_connection c{srv->port()};
  auto r = readyz_until(c, 200, 30s);
  DUR_CHECK(r.status == 200, r.to_text());
  DUR_CHECK(contains(srv->log(), "amqp.verify is off"), tail(srv->log()));
  stop(*srv);
}

CAF_TEST_FIXTURE_SCOPE_END()
