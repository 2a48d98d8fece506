// booking-sim, black-box: every scenario of config/scenarios at a small
// size (the real program as a subprocess, its JSON report read back), the
// deterministic mode's reproducibility, its command line, and proof that a
// broken saga makes the run fail.
//
// sim.broker-outage needs BOOKING_TEST_AMQP_URL (tests/broker/with_broker.sh).

#define CAF_SUITE sim.happy
#include <caf/test/unit_test.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "actors/log.hpp"
#include "sim/simulator.hpp"

using namespace booking;

namespace {

/// A finished run of booking-sim.
struct sim_run {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string json_text;
  std::string html_text;
  rapidjson::Document json;

  int64_t number(const char* key) const {
    return json[key].GetInt64();
  }

  /// `json[object][key]`, 0 if absent.
  int64_t count(const char* object, const std::string& key) const {
    auto& obj = json[object];
    auto i = obj.FindMember(key.c_str());
    return i == obj.MemberEnd() ? 0 : i->value.GetInt64();
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string scratch_dir() {
  auto dir = std::filesystem::temp_directory_path()
             / ("booking-sim-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string scenario(const std::string& name) {
  return std::string{BOOKING_SOURCE_DIR} + "/config/scenarios/" + name + ".ini";
}

/// Runs booking-sim with `args`; reads back its outputs.
sim_run run_sim(const std::vector<std::string>& args) {
  static int counter = 0;
  auto base = scratch_dir() + "/run" + std::to_string(++counter);
  std::string cmd = BOOKING_SIM;
  for (auto& a : args)
    cmd += " '" + a + "'";
  cmd += " --json=" + base + ".json --html=" + base + ".html";
  cmd += " > " + base + ".out 2> " + base + ".err";
  sim_run r;
  auto status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  r.json_text = slurp(base + ".json");
  r.html_text = slurp(base + ".html");
  r.json.Parse(r.json_text.c_str());
  if (r.exit_code != 0 || r.json.HasParseError() || !r.json.IsObject())
    CAF_MESSAGE("booking-sim " << cmd << "\nexit " << r.exit_code << "\n"
                               << r.out << "\n"
                               << r.err);
  return r;
}

/// The run passed and its report holds together.
void check_passed(const sim_run& r, int64_t requested) {
  CAF_REQUIRE_EQUAL(r.exit_code, 0);
  CAF_REQUIRE(!r.json.HasParseError() && r.json.IsObject());
  CAF_CHECK(r.json["ok"].GetBool());
  CAF_CHECK_EQUAL(r.number("requested"), requested);
  for (auto& inv : r.json["invariants"].GetArray())
    CAF_CHECK(inv["passed"].GetBool());
  CAF_CHECK_EQUAL(r.json["invariants"].GetArray().Size(), 6u);
  // Every accepted booking has an outcome. After a process crash there may
  // be more: a booking stored just before the kill, never acknowledged.
  int64_t outcomes = 0;
  for (auto& m : r.json["outcomes"].GetObject())
    outcomes += m.value.GetInt64();
  if (r.number("process_restarts") == 0)
    CAF_CHECK_EQUAL(outcomes, r.number("accepted"));
  CAF_CHECK_GREATER_OR_EQUAL(outcomes, r.number("accepted"));
  CAF_CHECK_LESS_OR_EQUAL(outcomes, requested);
  CAF_CHECK(r.out.find("All invariants hold.") != std::string::npos);
}

/// Sum of the outcomes whose key starts with `prefix`.
int64_t outcomes_of(const sim_run& r, const std::string& prefix) {
  int64_t n = 0;
  for (auto& m : r.json["outcomes"].GetObject())
    if (std::string{m.name.GetString()}.rfind(prefix, 0) == 0)
      n += m.value.GetInt64();
  return n;
}

/// A file that exists.
std::string existing_file() {
  auto path = scratch_dir() + "/existing.db";
  std::ofstream{path} << "x";
  return path;
}

/// `json` without its "seed" line.
std::string without_seed(const std::string& json) {
  std::istringstream in{json};
  std::string result;
  for (std::string line; std::getline(in, line);)
    if (line.find("\"seed\"") == std::string::npos)
      result += line + '\n';
  return result;
}

/// `json[object]["by_step"][step]`, 0 if absent.
int64_t by_step(const sim_run& r, const char* object, const char* step) {
  auto& steps = r.json[object]["by_step"];
  auto i = steps.FindMember(step);
  return i == steps.MemberEnd() ? 0 : i->value.GetInt64();
}

bool has_fault(const sim_run& r, const std::string& kind) {
  for (auto& f : r.json["faults"].GetArray())
    if (std::string{f["kind"].GetString()}.find(kind) != std::string::npos)
      return true;
  return false;
}

} // namespace

CAF_TEST(every booking is confirmed and nothing is undone) {
  auto r = run_sim({"--scenario=" + scenario("happy"), "--sim.bookings=300"});
  check_passed(r, 300);
  CAF_CHECK_EQUAL(r.number("accepted"), 300);
  CAF_CHECK_EQUAL(r.count("outcomes", "confirmed/none"), 300);
  CAF_CHECK_EQUAL(r.json["compensations"]["total"].GetInt64(), 0);
  CAF_CHECK_GREATER(r.json["latency_ms"]["p50"].GetDouble(), 0.0);
  CAF_CHECK_GREATER(r.json["throughput_per_s"].GetDouble(), 0.0);
}

#undef CAF_SUITE
#define CAF_SUITE sim.payment_chaos

CAF_TEST(payment faults end in declines and resolved uncertain outcomes) {
  auto r = run_sim(
    {"--scenario=" + scenario("payment-chaos"), "--sim.bookings=400"});
  check_passed(r, 400);
  CAF_CHECK_GREATER(r.count("outcomes", "confirmed/none"), 0);
  CAF_CHECK_GREATER(r.count("outcomes", "failed/payment_declined"), 0);
  CAF_CHECK_GREATER(r.number("uncertain_resolved"), 0);
  CAF_CHECK_GREATER(r.json["retries"]["total"].GetInt64(), 0);
  CAF_CHECK_GREATER(r.number("cancelled_on_request"), 0);
  CAF_CHECK_GREATER(r.count("outcomes", "cancelled/none"), 0);
}

#undef CAF_SUITE
#define CAF_SUITE sim.sold_out_rush

CAF_TEST(ten times the demand sells every seat exactly once) {
  // 2 departures of 10 seats, 200 one-seat bookings.
  auto r = run_sim({"--scenario=" + scenario("sold-out-rush"),
                    "--sim.bookings=200", "--sim.capacity=10"});
  check_passed(r, 200);
  CAF_CHECK_EQUAL(r.count("outcomes", "confirmed/none"), 20);
  CAF_CHECK_EQUAL(r.count("outcomes", "failed/sold_out"), 180);
}

#undef CAF_SUITE
#define CAF_SUITE sim.notification_outage

CAF_TEST(an outage of notifications delays them but confirms every booking) {
  auto r = run_sim({"--scenario=" + scenario("notification-outage"),
                    "--sim.bookings=300", "--sim.outage-start=0s",
                    "--sim.outage-duration=1s"});
  check_passed(r, 300);
  CAF_CHECK(has_fault(r, "notification outage"));
  CAF_CHECK_GREATER(r.count("outcomes", "confirmed/none"), 0);
  CAF_CHECK_EQUAL(outcomes_of(r, "compensation_failed"), 0);
  CAF_CHECK_GREATER(by_step(r, "retries", "send_notification"), 0);
}

CAF_TEST(an outage longer than the retry budget fails the run with exit 1) {
  // Two attempts cannot outlast a 2 s outage: the bookings stand, but
  // their notifications are never sent, and invariant 5 says so.
  auto r = run_sim({"--scenario=" + scenario("notification-outage"),
                    "--sim.bookings=100", "--sim.outage-start=0s",
                    "--saga.notification-max-attempts=2"});
  CAF_CHECK_EQUAL(r.exit_code, 1);
  CAF_REQUIRE(!r.json.HasParseError() && r.json.IsObject());
  CAF_CHECK(!r.json["ok"].GetBool());
  auto& fifth = r.json["invariants"][4];
  CAF_CHECK_EQUAL(fifth["id"].GetInt(), 5);
  CAF_CHECK(!fifth["passed"].GetBool());
  CAF_CHECK_EQUAL(static_cast<int64_t>(fifth["offenders"].Size()),
                  r.number("accepted"));
  CAF_CHECK(r.out.find("Some invariants do NOT hold.") != std::string::npos);
}

#undef CAF_SUITE
#define CAF_SUITE sim.compensation_failures

CAF_TEST(failing compensations end compensation failed and break nothing) {
  // Deterministic, so the seed fixes how many run out of attempts.
  auto r = run_sim({"--scenario=" + scenario("compensation-failures"),
                    "--sim.bookings=400", "--deterministic", "--seed=3"});
  check_passed(r, 400);
  CAF_CHECK_GREATER(r.json["compensations"]["total"].GetInt64(), 0);
  CAF_CHECK_GREATER(outcomes_of(r, "compensation_failed"), 0);
  CAF_CHECK_GREATER(r.count("outcomes", "cancelled/none"), 0);
  CAF_CHECK_GREATER(r.count("outcomes", "failed/payment_declined"), 0);
}

#undef CAF_SUITE
#define CAF_SUITE sim.actor_crashes

CAF_TEST(crashed workers are restarted and every saga recovers) {
  auto r = run_sim({"--scenario=" + scenario("actor-crashes"),
                    "--sim.bookings=400", "--sim.crash-interval=20ms"});
  check_passed(r, 400);
  CAF_CHECK_GREATER_OR_EQUAL(r.number("actor_crashes"), 3);
  CAF_CHECK(has_fault(r, "crash "));
  CAF_CHECK_GREATER(r.count("outcomes", "confirmed/none"), 0);
}

#undef CAF_SUITE
#define CAF_SUITE sim.crash_restart

CAF_TEST(a killed process restarts from its store and loses nothing) {
  auto r = run_sim({"--scenario=" + scenario("crash-restart"),
                    "--sim.bookings=300", "--sim.crash-after=100"});
  check_passed(r, 300);
  CAF_CHECK_EQUAL(r.number("process_restarts"), 1);
  CAF_CHECK(has_fault(r, "process crash"));
  CAF_CHECK_GREATER_OR_EQUAL(r.number("accepted"), 100);
  CAF_CHECK_GREATER(r.count("outcomes", "confirmed/none"), 0);
}

#undef CAF_SUITE
#define CAF_SUITE sim.upgrade

CAF_TEST(sagas in flight on v1 finish on v1 after an upgrade adds v2) {
  auto r = run_sim({"--scenario=" + scenario("upgrade"), "--sim.bookings=400",
                    "--sim.crash-after=150"});
  check_passed(r, 400);
  CAF_CHECK_EQUAL(r.number("process_restarts"), 1);
  // The restarted process resumed sagas of the first version of the
  // booking saga (pinned by actors.saga_tables) and started the rest on
  // the second, which only it has.
  auto& by_version = r.json["sagas_by_version"];
  CAF_REQUIRE(by_version.IsObject());
  int64_t v1 = r.count("sagas_by_version", "booking/b54488f520ef2c8c");
  int64_t v2 = 0;
  size_t booking_versions = 0;
  for (auto& m : by_version.GetObject()) {
    std::string key = m.name.GetString();
    if (key.rfind("booking/", 0) != 0)
      continue;
    ++booking_versions;
    if (key != "booking/b54488f520ef2c8c")
      v2 += m.value.GetInt64();
  }
  CAF_CHECK_EQUAL(booking_versions, 2u);
  CAF_CHECK_GREATER(v1, 0);
  CAF_CHECK_GREATER(v2, 0);
  CAF_MESSAGE(v1 << " sagas resumed on v1, " << v2 << " started on v2");
  CAF_CHECK(r.out.find("Sagas by table version") != std::string::npos);
}

#undef CAF_SUITE
#define CAF_SUITE sim.broker_outage

CAF_TEST(a broker outage holds events back and loses none) {
  auto url = std::getenv("BOOKING_TEST_AMQP_URL");
  CAF_REQUIRE(url != nullptr);
  auto r = run_sim({"--scenario=" + scenario("broker-outage"),
                    "--sim.bookings=600", "--sim.broker-outage-start=200ms",
                    "--sim.broker-outage-duration=2s",
                    std::string{"--amqp.url="} + url});
  check_passed(r, 600);
  auto& b = r.json["broker"];
  CAF_CHECK(b["configured"].GetBool());
  CAF_CHECK(has_fault(r, "broker outage"));
  CAF_CHECK_GREATER_OR_EQUAL(b["reconnects"].GetInt64(), 1);
  CAF_CHECK_EQUAL(b["backlog"].GetInt64(), 0);
  CAF_CHECK_GREATER(b["confirmed"].GetInt64(), 0);
}

#undef CAF_SUITE
#define CAF_SUITE sim.deterministic

CAF_TEST(the same seed gives the same report) {
  for (auto name : {"payment-chaos", "actor-crashes", "notification-outage"}) {
    CAF_MESSAGE(name);
    std::vector<std::string> args{"--scenario=" + scenario(name),
                                  "--sim.bookings=200", "--deterministic",
                                  "--seed=7"};
    auto a = run_sim(args);
    auto b = run_sim(args);
    check_passed(a, 200);
    CAF_CHECK_EQUAL(a.json["mode"].GetString(), std::string{"deterministic"});
    CAF_CHECK_EQUAL(a.json_text, b.json_text);
    CAF_CHECK_EQUAL(a.html_text, b.html_text);
    CAF_CHECK_EQUAL(a.out, b.out);
    // Another seed gives other bookings and faults, not just another seed
    // line.
    args.back() = "--seed=8";
    auto c = run_sim(args);
    check_passed(c, 200);
    CAF_CHECK_NOT_EQUAL(without_seed(a.json_text), without_seed(c.json_text));
  }
}

#undef CAF_SUITE
#define CAF_SUITE sim.broken

CAF_TEST(a saga that skips releasing seats fails the run) {
  set_log_level(log_level::off);
  auto run = [](bool broken) {
    booking_config cfg{program::simulator};
    auto outcome = load_config(cfg, {"--scenario=" + scenario("payment-chaos"),
                                     "--sim.bookings=200", "--deterministic"});
    CAF_REQUIRE(outcome.kind == config_outcome::run);
    sim_hooks hooks;
    if (broken)
      hooks.adjust_tables = [](saga_tables& t) {
        for (auto& row : t.booking.back().steps)
          if (row.compensation == saga_command::release_seats)
            row.compensation = saga_command::none;
      };
    return run_scenario(cfg, hooks);
  };
  auto good = run(false);
  CAF_CHECK(good.ok());
  auto bad = run(true);
  CAF_CHECK(!bad.ok());
  // Every booking that failed after its seats were held keeps them: the
  // checker names exactly those.
  std::set<std::string> failed;
  auto& results = bad.invariants.results;
  CAF_REQUIRE_EQUAL(results.size(), 6u);
  CAF_CHECK(!results[0].passed); // held seats after quiescence
  CAF_CHECK(!results[2].passed); // failed bookings still hold seats
  CAF_CHECK(results[1].passed);
  CAF_CHECK(results[3].passed);
  int64_t failed_count = 0;
  for (auto& [key, n] : bad.outcomes)
    if (key.rfind("failed/", 0) == 0 && key != "failed/sold_out")
      failed_count += n;
  CAF_CHECK_GREATER(failed_count, 0);
  CAF_CHECK_EQUAL(static_cast<int64_t>(results[2].offenders.size()),
                  failed_count);
}

#undef CAF_SUITE
#define CAF_SUITE sim.cli

CAF_TEST(bad command lines exit 2 naming the key) {
  struct bad_case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<bad_case> cases{
    {{}, "scenario: expected --scenario=FILE"},
    {{"--scenario=" + scenario("happy"), "--sim.bookingz=3"},
     "sim.bookingz: unknown option"},
    {{"--scenario=" + scenario("happy"), "--sim.bookings=0"},
     "sim.bookings: expected an integer in 1..10000000"},
    {{"--scenario=" + scenario("happy"), "--faults.seed=4"},
     "faults.seed: not an option of booking-sim"},
    {{"--scenario=" + scenario("happy"), "--sim.seats=1:x"}, "sim.seats:"},
    {{"--scenario=" + scenario("crash-restart"), "--deterministic"},
     "deterministic: runs in memory only"},
    {{"--scenario=" + scenario("broker-outage")},
     "sim.broker-outage-duration: needs a broker"},
    {{"--scenario=" + scenario("happy"), "--sim.upgrade"},
     "sim.upgrade: needs a process crash"},
    {{"--scenario=/nonexistent.ini"}, "scenario: cannot open /nonexistent.ini"},
    {{"--scenario=" + scenario("happy"), "--store.path=" + existing_file()},
     "exists; a simulation starts from an empty store"},
  };
  for (auto& c : cases) {
    auto r = run_sim(c.args);
    CAF_CHECK_EQUAL(r.exit_code, 2);
    CAF_CHECK(r.err.find(c.message) != std::string::npos);
    if (r.err.find(c.message) == std::string::npos)
      CAF_MESSAGE("expected \"" << c.message << "\", got " << r.err);
  }
}

CAF_TEST(help lists the scenario options) {
  auto r = run_sim({"--help"});
  CAF_CHECK_EQUAL(r.exit_code, 0);
  CAF_CHECK(r.out.find("--sim.crash-interval") != std::string::npos);
  CAF_CHECK(r.out.find("--deterministic") != std::string::npos);
  CAF_CHECK(r.out.find("--demo") == std::string::npos);
}
