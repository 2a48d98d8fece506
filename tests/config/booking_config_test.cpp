#define CAF_SUITE config.booking_config

#include "config/booking_config.hpp"

#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

using namespace booking;
using namespace std::chrono_literals;

namespace fs = std::filesystem;

/// Checks that `str` starts with `start` and shows both if not.
#define CHECK_STARTS_WITH(str, start)                                          \
  CAF_CHECK_EQUAL(std::string{str}.substr(0, std::string{start}.size()),       \
                  std::string{start})

namespace {

fs::path unique_temp_path(const std::string& suffix) {
  static int counter = 0;
  return fs::temp_directory_path()
         / ("booking_config_test_" + std::to_string(::getpid()) + "_"
            + std::to_string(++counter) + suffix);
}

/// A file in the temp directory, removed at scope exit.
struct temp_file {
  fs::path path;

  explicit temp_file(const std::string& text) : path(unique_temp_path(".ini")) {
    std::ofstream{path} << text;
  }

  ~temp_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

/// Loads `args` with a config file that holds `ini`.
config_outcome load_ini(booking_config& cfg, const std::string& ini,
                        std::vector<std::string> args = {}) {
  temp_file file{ini};
  args.insert(args.begin(), "--config=" + file.path.string());
  return load_config(cfg, std::move(args));
}

/// Loads `args` with an empty config file, so that no file in the working
/// directory interferes.
config_outcome load(booking_config& cfg, std::vector<std::string> args) {
  return load_ini(cfg, "", std::move(args));
}

/// Sets or unsets an environment variable for one scope.
struct env_guard {
  std::string name;
  std::optional<std::string> saved;

  env_guard(std::string key, const char* value) : name(std::move(key)) {
    if (auto old = std::getenv(name.c_str()))
      saved = old;
    if (value)
      setenv(name.c_str(), value, 1);
    else
      unsetenv(name.c_str());
  }

  ~env_guard() {
    if (saved)
      setenv(name.c_str(), saved->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

bool contains(const std::string& str, const std::string& what) {
  return str.find(what) != std::string::npos;
}

std::string read_file(const fs::path& path) {
  std::ifstream in{path};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The repository root, found from this file's path.
fs::path source_root() {
  return fs::path{__FILE__}.parent_path().parent_path().parent_path();
}

} // namespace

CAF_TEST(defaults) {
  env_guard no_url{"BOOKING_AMQP_URL", nullptr};
  booking_config cfg;
  auto res = load(cfg, {});
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  CAF_CHECK_EQUAL(res.message, "");
  engine_settings d;
  auto& s = cfg.settings;
  CAF_CHECK_EQUAL(cfg.demo, 0);
  CAF_CHECK_EQUAL(s.roles, std::vector<std::string>{"all"});
  CAF_CHECK_EQUAL(s.workers.booking_shards, d.workers.booking_shards);
  CAF_CHECK_EQUAL(s.workers.payment_workers, d.workers.payment_workers);
  CAF_CHECK_EQUAL(s.saga.payment_timeout, d.saga.payment_timeout);
  CAF_CHECK_EQUAL(s.saga.step_retry.initial_backoff,
                  d.saga.step_retry.initial_backoff);
  CAF_CHECK_EQUAL(s.saga.compensation_retry.initial_backoff,
                  d.saga.compensation_retry.initial_backoff);
  CAF_CHECK_EQUAL(s.saga.compensation_retry.max_attempts,
                  d.saga.compensation_retry.max_attempts);
  CAF_CHECK_EQUAL(s.saga.max_in_flight, d.saga.max_in_flight);
  CAF_CHECK_EQUAL(s.faults.payment_decline_rate, 0.0);
  CAF_CHECK_EQUAL(s.faults.seed, d.faults.seed);
  CAF_CHECK_EQUAL(s.http.address, "127.0.0.1");
  CAF_CHECK_EQUAL(s.http.port, 8080u);
  CAF_CHECK_EQUAL(s.http.idle_timeout, d.http.idle_timeout);
  CAF_CHECK_EQUAL(s.amqp.url, "");
  CAF_CHECK_EQUAL(s.amqp.queue_type, "classic");
  CAF_CHECK(s.amqp.verify);
  CAF_CHECK_EQUAL(s.amqp.ca_file, "");
  CAF_CHECK_EQUAL(s.store.path, d.store.path);
  auto cores = std::max(1u,
                        std::min(256u, std::thread::hardware_concurrency()));
  CAF_CHECK_EQUAL(caf::get_or(cfg, "scheduler.max-threads", size_t{0}), cores);
  CAF_CHECK_EQUAL(caf::get_or(cfg, "scheduler.policy", caf::atom("")),
                  caf::atom("stealing"));
}

CAF_TEST(the command line overrides every section) {
  env_guard no_url{"BOOKING_AMQP_URL", nullptr};
  booking_config cfg;
  auto res = load(cfg,
                  {"--roles=api,payment",
                   "--demo=7",
                   "--scheduler.policy=sharing",
                   "--scheduler.max-threads=3",
                   "--workers.booking-shards=5",
                   "--workers.inventory-shards=6",
                   "--workers.payment=7",
                   "--workers.notification=8",
                   "--workers.saga-coordinators=9",
                   "--saga.payment-timeout=750ms",
                   "--saga.max-attempts=4",
                   "--saga.compensation-max-attempts=11",
                   "--saga.notification-max-attempts=12",
                   "--saga.backoff-initial=10ms",
                   "--saga.backoff-max=1s",
                   "--saga.backoff-multiplier=1.5",
                   "--saga.backoff-jitter=0",
                   "--saga.max-in-flight=99",
                   "--saga.seed=5",
                   "--faults.payment-decline-rate=0.25",
                   "--faults.payment-latency=20ms",
                   "--faults.seed=6",
                   "--http.address=0.0.0.0",
                   "--http.port=9090",
                   "--http.rate-limit=100",
                   "--http.cors-origins=https://a.example,https://b.example",
                   "--amqp.url=amqp://localhost:5672/%2f",
                   "--amqp.queue-type=quorum",
                   "--amqp.heartbeat=0",
                   "--amqp.retry-delay=1500ms",
                   "--store.path=/var/lib/booking/x.db"});
  CAF_REQUIRE_EQUAL(res.message, "");
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  auto& s = cfg.settings;
  CAF_CHECK_EQUAL(s.roles, (std::vector<std::string>{"api", "payment"}));
  CAF_CHECK_EQUAL(cfg.demo, 7);
  CAF_CHECK_EQUAL(caf::get_or(cfg, "scheduler.policy", caf::atom("")),
                  caf::atom("sharing"));
  CAF_CHECK_EQUAL(caf::get_or(cfg, "scheduler.max-threads", size_t{0}), 3u);
  CAF_CHECK_EQUAL(s.workers.booking_shards, 5u);
  CAF_CHECK_EQUAL(s.workers.inventory_shards, 6u);
  CAF_CHECK_EQUAL(s.workers.payment_workers, 7u);
  CAF_CHECK_EQUAL(s.workers.notification_workers, 8u);
  CAF_CHECK_EQUAL(s.workers.saga_coordinators, 9u);
  CAF_CHECK_EQUAL(s.saga.payment_timeout, caf::timespan{750ms});
  CAF_CHECK_EQUAL(s.saga.step_retry.max_attempts, 4);
  CAF_CHECK_EQUAL(s.saga.compensation_retry.max_attempts, 11);
  CAF_CHECK_EQUAL(s.saga.notification_retry.max_attempts, 12);
  for (auto* p : {&s.saga.step_retry, &s.saga.compensation_retry,
                  &s.saga.notification_retry}) {
    CAF_CHECK_EQUAL(p->initial_backoff, caf::timespan{10ms});
    CAF_CHECK_EQUAL(p->max_backoff, caf::timespan{1s});
    CAF_CHECK_EQUAL(p->multiplier, 1.5);
    CAF_CHECK_EQUAL(p->jitter, 0.0);
  }
  CAF_CHECK_EQUAL(s.saga.max_in_flight, 99u);
  CAF_CHECK_EQUAL(s.saga.seed, 5u);
  CAF_CHECK_EQUAL(s.faults.payment_decline_rate, 0.25);
  CAF_CHECK_EQUAL(s.faults.payment_latency, caf::timespan{20ms});
  CAF_CHECK_EQUAL(s.faults.seed, 6u);
  CAF_CHECK_EQUAL(s.http.address, "0.0.0.0");
  CAF_CHECK_EQUAL(s.http.port, 9090u);
  CAF_CHECK_EQUAL(s.http.rate_limit, 100.0);
  CAF_CHECK_EQUAL(s.http.cors_origins, "https://a.example,https://b.example");
  CAF_CHECK_EQUAL(s.amqp.url, "amqp://localhost:5672/%2f");
  CAF_CHECK_EQUAL(s.amqp.queue_type, "quorum");
  CAF_CHECK_EQUAL(s.amqp.heartbeat, caf::timespan{0});
  CAF_CHECK_EQUAL(s.amqp.retry_delay,
                  caf::timespan{std::chrono::milliseconds(1500)});
  CAF_CHECK_EQUAL(s.store.path, "/var/lib/booking/x.db");
}

CAF_TEST(an INI file overrides the defaults and the command line wins) {
  booking_config cfg;
  auto res = load_ini(cfg,
                      "roles=[\"booking\", \"payment\"]\n"
                      "[scheduler]\n"
                      "policy='sharing'\n"
                      "max-threads=2\n"
                      "[workers]\n"
                      "payment=3\n"
                      "[saga]\n"
                      "inventory-timeout=1500ms\n"
                      "backoff-initial=20ms\n"
                      "seed=9\n"
                      "[faults]\n"
                      "inventory-error-rate=0.5\n"
                      "seed=10\n"
                      "[http]\n"
                      "address=\"0.0.0.0\"\n"
                      "port=9000\n"
                      "[amqp]\n"
                      "queue-type=\"quorum\"\n"
                      "prefetch=10\n"
                      "[store]\n"
                      "path=\"other.db\"\n",
                      {"--http.port=9001", "--workers.payment=12",
                       "--amqp.url=amqp://h/%2f"});
  CAF_REQUIRE_EQUAL(res.message, "");
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  auto& s = cfg.settings;
  CAF_CHECK_EQUAL(s.roles, (std::vector<std::string>{"booking", "payment"}));
  CAF_CHECK_EQUAL(caf::get_or(cfg, "scheduler.policy", caf::atom("")),
                  caf::atom("sharing"));
  CAF_CHECK_EQUAL(caf::get_or(cfg, "scheduler.max-threads", size_t{0}), 2u);
  CAF_CHECK_EQUAL(s.workers.payment_workers, 12u);
  CAF_CHECK_EQUAL(s.saga.inventory_timeout, caf::timespan{1500ms});
  CAF_CHECK_EQUAL(s.saga.notification_retry.initial_backoff,
                  caf::timespan{20ms});
  CAF_CHECK_EQUAL(s.saga.seed, 9u);
  CAF_CHECK_EQUAL(s.faults.inventory_error_rate, 0.5);
  CAF_CHECK_EQUAL(s.faults.seed, 10u);
  CAF_CHECK_EQUAL(s.http.address, "0.0.0.0");
  CAF_CHECK_EQUAL(s.http.port, 9001u);
  CAF_CHECK_EQUAL(s.amqp.queue_type, "quorum");
  CAF_CHECK_EQUAL(s.amqp.prefetch, 10u);
  CAF_CHECK_EQUAL(s.store.path, "other.db");
  CAF_CHECK(contains(cfg.config_file, "booking_config_test_"));
}

CAF_TEST(a bare number of a duration counts seconds) {
  booking_config cfg;
  auto res = load(cfg, {"--http.read-timeout=2", "--http.idle-timeout=1.5"});
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  CAF_CHECK_EQUAL(cfg.settings.http.read_timeout,
                  caf::timespan{std::chrono::seconds(2)});
  CAF_CHECK_EQUAL(cfg.settings.http.idle_timeout,
                  caf::timespan{std::chrono::milliseconds(1500)});
  booking_config cfg2;
  res = load(cfg2, {"--http.read-timeout=-1"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
}

CAF_TEST(a bad command line value fails naming the key) {
  booking_config cfg;
  auto res = load(cfg, {"--http.port=abc"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message,
                  "http.port: expected an integer in 0..65535, got \"abc\"");
  booking_config cfg2;
  res = load(cfg2, {"--saga.payment-timeout=0s"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message,
                  "saga.payment-timeout: expected a duration > 0 "
                  "(like 500ms or 2s; a bare number is seconds), got 0s");
  booking_config cfg3;
  res = load(cfg3, {"--scheduler.policy=fast"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "scheduler.policy: expected one of stealing, "
                               "sharing, got \"fast\"");
  booking_config cfg4;
  res = load(cfg4, {"--roles=api,web"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "roles: ");
  booking_config cfg5;
  res = load(cfg5, {"--http.port"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "http.port: ");
}

CAF_TEST(TLS files are checked at start) {
  // This source file stands in for a readable certificate.
  std::string file = __FILE__;
  auto tls = [&](std::vector<std::string> args) {
    booking_config cfg;
    return load(cfg, std::move(args));
  };
  auto ok = tls({"--amqp.url=amqps://h/%2f", "--amqp.ca-file=" + file,
                 "--amqp.cert-file=" + file, "--amqp.key-file=" + file,
                 "--amqp.verify=false"});
  CAF_CHECK_EQUAL(ok.kind, config_outcome::run);
  auto res = tls({"--amqp.url=amqp://h/%2f", "--amqp.ca-file=" + file});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "amqp.ca-file: TLS files need an amqps:// URL");
  res = tls({"--amqp.url=amqps://h/%2f", "--amqp.cert-file=" + file});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "amqp.cert-file and amqp.key-file go "
                               "together: give both or neither");
  res = tls({"--amqp.url=amqps://h/%2f", "--amqp.key-file=/no/such.key"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "amqp.key-file: cannot read /no/such.key");
  res = tls({"--amqp.url=amqps://h/%2f", "--amqp.ca-file=/tmp"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "amqp.ca-file: cannot read /tmp");
}

CAF_TEST(a bad INI value fails naming the key) {
  booking_config cfg;
  auto res = load_ini(cfg, "[http]\nport=70000\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "http.port: expected an integer in 0..65535, "
                                 "got 70000 (in ");
  booking_config cfg2;
  res = load_ini(cfg2, "[http]\nport=\"8080\"\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "http.port: expected an integer in 0..65535, "
                                 "got \"8080\"");
  booking_config cfg3;
  res = load_ini(cfg3, "[scheduler]\npolicy='fast'\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "scheduler.policy: ");
  booking_config cfg4;
  res = load_ini(cfg4, "[store]\npath=5\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "store.path: ");
}

CAF_TEST(an INI syntax error fails naming config) {
  booking_config cfg;
  auto res = load_ini(cfg, "[http]\naddress=0.0.0.0\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "config: cannot parse ");
  CAF_CHECK(contains(res.message, "line 2"));
}

CAF_TEST(unknown INI keys and sections fail) {
  booking_config cfg;
  auto res = load_ini(cfg, "[saga]\nbogus=1\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "saga.bogus: unknown option (in ");
  booking_config cfg2;
  res = load_ini(cfg2, "[htp]\nport=1\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "htp: unknown section (in ");
  booking_config cfg3;
  res = load_ini(cfg3, "port=1\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "port: unknown option (in ");
  booking_config cfg4;
  res = load_ini(cfg4, "config=\"x.ini\"\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "config: ");
}

CAF_TEST(unknown command line options fail) {
  for (auto arg : {"--http.prot=1", "--bogus=1", "--bogus", "-x", "stray"}) {
    booking_config cfg;
    auto res = load(cfg, {arg});
    CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
    CAF_CHECK(contains(res.message, ": unknown option")
              || contains(res.message, ": unexpected argument"));
  }
  booking_config cfg;
  auto res = load(cfg, {"--http.prot=1"});
  CAF_CHECK_EQUAL(res.message, "http.prot: unknown option");
}

CAF_TEST(out of range rates fail) {
  booking_config cfg;
  auto res = load(cfg, {"--faults.payment-decline-rate=1.5"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "faults.payment-decline-rate: expected a "
                               "number in 0..1, got 1.5");
  booking_config cfg2;
  res = load_ini(cfg2, "[faults]\nnotification-error-rate=-0.1\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(
    res.message, "faults.notification-error-rate: expected a number in 0..1, "
                 "got -");
  booking_config cfg3;
  res = load(cfg3, {"--saga.backoff-jitter=2"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "saga.backoff-jitter");
}

CAF_TEST(backoff max must not be below backoff initial) {
  booking_config cfg;
  auto res = load(cfg,
                  {"--saga.backoff-initial=1s", "--saga.backoff-max=500ms"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "saga.backoff-max: ");
  booking_config cfg2;
  res = load(cfg2, {"--saga.backoff-initial=3s"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "saga.backoff-initial: ");
}

CAF_TEST(demo and config take their value from the next argument) {
  temp_file file{"[http]\nport=7000\n"};
  booking_config cfg;
  auto res = load_config(cfg, {"--demo", "5", "--config", file.path.string()});
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  CAF_CHECK_EQUAL(cfg.demo, 5);
  CAF_CHECK_EQUAL(cfg.settings.http.port, 7000u);
  CAF_CHECK_EQUAL(cfg.config_file, file.path.string());
  booking_config cfg2;
  res = load(cfg2, {"--demo"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "demo: ");
}

CAF_TEST(argc and argv skip the program name) {
  temp_file file{""};
  auto config_arg = "--config=" + file.path.string();
  std::string args[] = {"booking-server", config_arg, "--demo=3"};
  char* argv[] = {args[0].data(), args[1].data(), args[2].data()};
  booking_config cfg;
  auto res = load_config(cfg, 3, argv);
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  CAF_CHECK_EQUAL(cfg.demo, 3);
}

CAF_TEST(a missing config file given explicitly fails) {
  booking_config cfg;
  auto missing = unique_temp_path(".ini").string();
  auto res = load_config(cfg, {"--config=" + missing});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "config: cannot open " + missing);
}

CAF_TEST(the default file is read from the working directory) {
  auto dir = unique_temp_path("");
  fs::create_directories(dir / "config");
  std::ofstream{dir / "config" / "booking.ini"} << "[http]\nport=9999\n";
  auto old_cwd = fs::current_path();
  fs::current_path(dir);
  booking_config with_file;
  auto res = load_config(with_file, std::vector<std::string>{});
  fs::current_path(dir / "config"); // no config/booking.ini below here
  booking_config without_file;
  auto res2 = load_config(without_file, std::vector<std::string>{});
  fs::current_path(old_cwd);
  fs::remove_all(dir);
  CAF_CHECK_EQUAL(res.kind, config_outcome::run);
  CAF_CHECK_EQUAL(with_file.config_file, "config/booking.ini");
  CAF_CHECK_EQUAL(with_file.settings.http.port, 9999u);
  CAF_CHECK_EQUAL(res2.kind, config_outcome::run);
  CAF_CHECK_EQUAL(without_file.config_file, "");
  CAF_CHECK_EQUAL(without_file.settings.http.port, 8080u);
}

CAF_TEST(roles accept lists and reject unknown roles) {
  env_guard url{"BOOKING_AMQP_URL", "amqp://h/%2f"};
  booking_config cfg;
  auto res = load_ini(cfg, "roles=\"api, saga\"\n");
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  CAF_CHECK_EQUAL(cfg.settings.roles,
                  (std::vector<std::string>{"api", "saga"}));
  // A role named twice, `all` with others, and the synonyms together.
  booking_config cfg2;
  res = load(cfg2, {"--roles=[payment,payment,notification]"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "roles: expected a comma-separated list of");
  CAF_CHECK(res.message.find("each at most once") != std::string::npos);
  booking_config cfg2b;
  res = load(cfg2b, {"--roles=api,api"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  booking_config cfg2c;
  res = load(cfg2c, {"--roles=all,payment"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "roles: 'all' runs every role: give it alone, "
                               "or the roles without it");
  booking_config cfg2d;
  res = load(cfg2d, {"--roles=booking,saga"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message,
                  "roles: saga named twice (booking is another name for saga)");
  booking_config cfg3;
  res = load_ini(cfg3, "roles=[]\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "roles: ");
}

CAF_TEST(the AMQP URL falls back to the environment) {
  env_guard url{"BOOKING_AMQP_URL", "amqp://guest:guest@localhost/"};
  booking_config cfg;
  auto res = load(cfg, {});
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  CAF_CHECK_EQUAL(cfg.settings.amqp.url, "amqp://guest:guest@localhost/");
  // The secret never enters CAF's content, which --dump-config prints.
  CAF_CHECK_EQUAL(caf::get_or(cfg, "amqp.url", "?"), "");
  booking_config cfg2;
  res = load(cfg2, {"--amqp.url=amqp://other/"});
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  CAF_CHECK_EQUAL(cfg2.settings.amqp.url, "amqp://other/");
}

CAF_TEST(a URL that is not an AMQP URL fails naming the key) {
  booking_config cfg;
  auto res = load(cfg, {"--amqp.url=http://broker:5672/"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "amqp.url: expected an amqp:// or amqps:// URL");
  env_guard url{"BOOKING_AMQP_URL", "amqp://u:s3cret@h/a/b"};
  booking_config cfg2;
  res = load(cfg2, {});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CAF_CHECK_EQUAL(res.message, "amqp.url: the vhost is one path segment: "
                               "write a '/' in it as %2f");
}

CAF_TEST(roles other than all need the broker) {
  env_guard no_url{"BOOKING_AMQP_URL", nullptr};
  booking_config cfg;
  auto res = load(cfg, {"--roles=api"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message,
                    "roles: a process that runs some of the roles");
  booking_config cfg2;
  res = load(cfg2, {"--roles=api", "--amqp.url=amqp://h/%2f"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::run);
  booking_config cfg3;
  res = load(cfg3, {"--roles=all"});
  CAF_CHECK_EQUAL(res.kind, config_outcome::run);
}

CAF_TEST(a key given twice in one section fails naming both lines) {
  booking_config cfg;
  auto res = load_ini(cfg, "; a comment with port=1\n"
                           "[http]\n"
                           "port=8081\n"
                           "address=\"a;b=c\"\n"
                           "[store]\n"
                           "path=\"x.db\"\n"
                           "[http]\n"
                           "port = 8082\n");
  CAF_CHECK_EQUAL(res.kind, config_outcome::fail);
  CHECK_STARTS_WITH(res.message, "http.port: given twice (lines 3 and 8 of ");
  // A list spanning lines is one value; the section after it still counts.
  booking_config cfg3;
  res = load_ini(cfg3, "roles=[\n  \"all\"\n]\n[http]\nport=1\nport=2\n");
  CHECK_STARTS_WITH(res.message, "http.port: given twice (lines 5 and 6 of ");
  // The same key in two sections is two keys.
  booking_config cfg2;
  res = load_ini(cfg2, "[http]\nport=8081\n[amqp]\nprefetch=3\n"
                       "[saga]\nseed=4\n[faults]\nseed=5\n");
  CAF_CHECK_EQUAL(res.message, "");
  CAF_CHECK_EQUAL(res.kind, config_outcome::run);
}

CAF_TEST(max threads and policy reach the scheduler) {
  booking_config cfg;
  auto res = load_ini(cfg, "[scheduler]\nmax-threads=3\n",
                      {"--scheduler.policy=sharing"});
  CAF_REQUIRE_EQUAL(res.kind, config_outcome::run);
  caf::actor_system sys{cfg};
  CAF_CHECK_EQUAL(sys.scheduler().num_workers(), 3u);
}

CAF_TEST(help lists every option) {
  booking_config cfg;
  std::ostringstream captured;
  auto old = std::cout.rdbuf(captured.rdbuf());
  auto res = load_config(cfg, std::vector<std::string>{"--help"});
  std::cout.rdbuf(old);
  CAF_CHECK_EQUAL(res.kind, config_outcome::help);
  auto text = captured.str();
  CAF_CHECK_EQUAL(text, help_text(cfg));
  for (auto& name : option_names())
    CAF_CHECK(contains(text, "--" + name + "="));
  booking_config cfg2;
  std::cout.rdbuf(captured.rdbuf());
  res = load_config(cfg2, std::vector<std::string>{"-h"});
  std::cout.rdbuf(old);
  CAF_CHECK_EQUAL(res.kind, config_outcome::help);
}

CAF_TEST(the shipped booking.ini holds the defaults and every key) {
  auto ini_path = source_root() / "config" / "booking.ini";
  auto docs_path = source_root() / "docs" / "configuration.md";
  if (!fs::exists(ini_path) || !fs::exists(docs_path)) {
    CAF_ERROR("missing " << ini_path << " or " << docs_path);
    return;
  }
  booking_config defaults;
  CAF_REQUIRE_EQUAL(load(defaults, {}).kind, config_outcome::run);
  booking_config shipped;
  auto res = load_config(shipped, {"--config=" + ini_path.string()});
  CAF_REQUIRE_EQUAL(res.message, "");
  CAF_CHECK_EQUAL(to_string(shipped.content), to_string(defaults.content));
  auto ini = read_file(ini_path);
  auto docs = read_file(docs_path);
  for (auto& name : option_names()) {
    if (!contains(docs, "`" + name + "`"))
      CAF_ERROR("configuration.md lacks " << name);
    if (name == "config")
      continue; // command line only
    auto dot = name.find('.');
    auto section = std::string{};
    auto key = name;
    if (dot != std::string::npos) {
      section = "\n[" + name.substr(0, dot) + "]\n";
      key = name.substr(dot + 1);
    }
    auto begin = section.empty() ? 0 : ini.find(section);
    if (begin == std::string::npos) {
      CAF_ERROR("booking.ini lacks section " << section);
      continue;
    }
    auto end = ini.find("\n[", begin + 1);
    auto block = ini.substr(begin, end - begin);
    if (!contains(block, "\n" + key + "=")
        && !contains(block, "; " + key + "="))
      CAF_ERROR("booking.ini lacks " << name);
  }
}
