#include "sim/simulator.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "config/wiring.hpp"
#include "sim/tcp_proxy.hpp"

namespace booking {

namespace {

using run_atom = caf::atom_constant<caf::atom("simrun")>;
using sample_atom = caf::atom_constant<caf::atom("simsample")>;
using crash_atom = caf::atom_constant<caf::atom("simcrash")>;
using outage_atom = caf::atom_constant<caf::atom("simoutage")>;
using broker_atom = caf::atom_constant<caf::atom("simbroker")>;
using deadline_atom = caf::atom_constant<caf::atom("simlimit")>;

/// How often the driver counts the sagas in flight.
constexpr auto sample_every = std::chrono::milliseconds(10);

/// Samples kept for the chart of sagas in flight.
constexpr size_t max_samples = 400;

/// 2027-01-01T00:00:00Z in Unix milliseconds: the clock of generated ids.
constexpr uint64_t id_epoch_ms = 1'798'761'600'000ULL;

double seconds(caf::timespan x) {
  return std::chrono::duration<double>(x).count();
}

// -- the driver ---------------------------------------------------------------

/// What one driver does in one process.
struct driver_plan {
  engine* e = nullptr;
  std::vector<booking_request> reqs;
  /// Index of the first request this driver sends.
  size_t first = 0;
  size_t concurrency = 1;
  double cancel_rate = 0;
  /// Timeout of the driver's own requests and the whole run.
  caf::timespan deadline = std::chrono::minutes(10);
  caf::timespan crash_interval{0};
  std::vector<std::string> crash_roles;
  std::string outage_role = "none";
  caf::timespan outage_start{0};
  caf::timespan outage_duration{0};
  std::shared_ptr<outage_switches> outages;
  caf::timespan broker_start{0};
  caf::timespan broker_duration{0};
  /// Cuts or restores the way to the broker.
  std::function<void(bool)> broker_down;
  /// Kills this process after this many acknowledged bookings (0: never).
  int64_t kill_after = 0;
  /// Receives one line per thing the parent must know after a kill.
  std::function<void(const std::string&)> journal;
  uint64_t seed = 1;
  /// Seconds added to every time (the time before a restart).
  double time_offset = 0;
};

/// What a driver saw; read once `finished` is set.
struct driver_results {
  bool finished = false;
  std::vector<std::string> acknowledged;
  std::map<std::string, int64_t> refused;
  std::vector<double> latencies_ms;
  std::vector<in_flight_sample> samples;
  std::vector<fault_window> faults;
  int64_t crashes = 0;
  int64_t cancels = 0;
  /// Seconds from the start to the last outcome.
  double last_outcome = 0;
  /// Index after the last request sent.
  size_t next = 0;
};

struct driver_state {
  driver_plan plan;
  std::shared_ptr<driver_results> out;
  caf::actor_clock::time_point start;
  std::vector<caf::actor_clock::time_point> sent_at;
  size_t in_flight = 0;
  bool sending_done = false;
  /// Fault windows scheduled or open: the run ends after the last closes.
  int windows = 0;
  int64_t acks = 0;
  std::mt19937_64 gen;
  caf::response_promise done;
  static inline const char* name = "simulator";
};

using driver_pointer = caf::stateful_actor<driver_state>*;

double now_s(driver_pointer self) {
  auto& st = self->state;
  return st.plan.time_offset + seconds(self->clock().now() - st.start);
}

void journal(driver_pointer self, const std::string& line) {
  if (self->state.plan.journal)
    self->state.plan.journal(line);
}

/// Ends the open fault windows (those of `kind`, or all) at `t`; an open
/// window ends before it starts.
void close_windows(std::vector<fault_window>& faults, double t,
                   const std::string& kind = {}) {
  for (auto& w : faults)
    if (w.end < w.start && (kind.empty() || w.kind == kind))
      w.end = t;
}

void finish_run(driver_pointer self) {
  auto& st = self->state;
  if (st.out->finished)
    return;
  close_windows(st.out->faults, now_s(self));
  st.out->finished = true;
  if (st.done.pending())
    st.done.deliver(true);
}

void send_next(driver_pointer self);

/// One booking left the driver's hands (outcome, refusal or cancel reply).
void release(driver_pointer self) {
  auto& st = self->state;
  --st.in_flight;
  send_next(self);
}

void on_outcome(driver_pointer self, size_t i, const booking_record& rec) {
  auto& st = self->state;
  auto ms = std::chrono::duration<double, std::milli>(
              self->clock().now() - st.sent_at[i - st.plan.first])
              .count();
  st.out->latencies_ms.push_back(ms);
  st.out->last_outcome = now_s(self);
  journal(self, "L " + std::to_string(ms) + " "
                  + std::to_string(st.out->last_outcome));
  auto& c = st.plan.e->coordinator_for(rec.id);
  auto roll = std::uniform_real_distribution<double>{0, 1}(st.gen);
  if (rec.status != booking_status::confirmed || roll >= st.plan.cancel_rate) {
    release(self);
    return;
  }
  self
    ->request(c, st.plan.deadline, cancel_atom::value, rec.id,
              "sim-cancel-" + std::to_string(i))
    .then(
      [=](const booking_record&) {
        ++self->state.out->cancels;
        journal(self, "N");
        release(self);
      },
      [=](caf::error&) { release(self); });
}

void send_one(driver_pointer self, size_t i) {
  auto& st = self->state;
  auto& req = st.plan.reqs[i];
  auto& c = st.plan.e->coordinator_for(req.id);
  ++st.in_flight;
  st.sent_at.push_back(self->clock().now());
  journal(self, "S " + std::to_string(i));
  self->request(c, st.plan.deadline, create_atom::value, req)
    .then(
      [=](const booking_record& rec) {
        auto& st = self->state;
        st.out->acknowledged.push_back(rec.id);
        journal(self, "A " + rec.id);
        if (st.plan.kill_after > 0 && ++st.acks >= st.plan.kill_after) {
          journal(self, "T " + std::to_string(now_s(self)));
          ::kill(::getpid(), SIGKILL);
        }
        auto& c = st.plan.e->coordinator_for(rec.id);
        self->request(c, st.plan.deadline, await_atom::value, rec.id)
          .then([=](const booking_record& out) { on_outcome(self, i, out); },
                [=](caf::error&) { release(self); });
      },
      [=](caf::error& err) {
        auto key = describe(err);
        ++self->state.out->refused[key];
        journal(self, "R " + key);
        release(self);
      });
}

void send_next(driver_pointer self) {
  auto& st = self->state;
  while (st.out->next < st.plan.reqs.size()
         && st.in_flight < st.plan.concurrency)
    send_one(self, st.out->next++);
  st.sending_done = st.out->next == st.plan.reqs.size() && st.in_flight == 0;
}

/// Counts the sagas in flight over every coordinator, then records it.
void sample(driver_pointer self) {
  auto& coordinators = self->state.plan.e->coordinators;
  auto total = std::make_shared<int64_t>(0);
  auto pending = std::make_shared<size_t>(coordinators.size());
  auto settle = [=] {
    if (--*pending > 0)
      return;
    auto& st = self->state;
    if (st.out->finished)
      return;
    auto t = now_s(self);
    st.out->samples.push_back({t, *total});
    journal(self, "F " + std::to_string(t) + " " + std::to_string(*total));
    if (st.sending_done && *total == 0 && st.windows == 0)
      finish_run(self);
    else
      self->delayed_send(self, sample_every, sample_atom::value);
  };
  for (auto& c : coordinators)
    self->request(c, self->state.plan.deadline, caf::get_atom::value)
      .then(
        [=](const saga_stats& s) mutable {
          *total += s.in_flight + s.starting;
          settle();
        },
        [=](caf::error&) mutable {
          *total += 1; // unknown: not idle
          settle();
        });
}

/// Opens (or closes) the fault window `kind`; an open one ends at -1.
void open_or_close(driver_pointer self, const std::string& kind, bool open) {
  auto& faults = self->state.out->faults;
  auto t = now_s(self);
  if (open) {
    faults.push_back({kind, t, -1});
    journal(self, "O " + std::to_string(t) + " " + kind);
    return;
  }
  close_windows(faults, t, kind);
  --self->state.windows;
  journal(self, "E " + std::to_string(t) + " " + kind);
}

std::atomic<bool>* switch_for(outage_switches& sw, const std::string& role) {
  if (role == "inventory")
    return &sw.inventory;
  if (role == "payment")
    return &sw.payment;
  if (role == "notification")
    return &sw.notification;
  return nullptr;
}

caf::behavior driver(driver_pointer self, driver_plan plan,
                     std::shared_ptr<driver_results> out) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.out = std::move(out);
  st.gen.seed(derive_seed(st.plan.seed, 5000));
  st.out->next = st.plan.first;
  return {
    [=](run_atom) {
      auto& st = self->state;
      st.start = self->clock().now();
      st.done = self->make_response_promise();
      auto& p = st.plan;
      // Times are of the whole run; after a restart this process starts at
      // `time_offset` and only runs what is left of them.
      auto offset = std::chrono::duration_cast<caf::timespan>(
        std::chrono::duration<double>(p.time_offset));
      auto left = [offset](caf::timespan at) {
        return std::max(at - offset, caf::timespan{0});
      };
      self->delayed_send(self, left(p.deadline), deadline_atom::value);
      if (p.crash_interval.count() > 0 && !p.crash_roles.empty())
        self->delayed_send(self, p.crash_interval, crash_atom::value);
      auto end = p.outage_start + p.outage_duration;
      if (p.outage_role != "none" && p.outage_duration.count() > 0
          && end > offset) {
        ++st.windows;
        self->delayed_send(self, left(p.outage_start), outage_atom::value,
                           true);
        self->delayed_send(self, left(end), outage_atom::value, false);
      }
      end = p.broker_start + p.broker_duration;
      if (p.broker_duration.count() > 0 && p.broker_down && end > offset) {
        ++st.windows;
        self->delayed_send(self, left(p.broker_start), broker_atom::value,
                           true);
        self->delayed_send(self, left(end), broker_atom::value, false);
      }
      send_next(self);
      sample(self);
      return st.done;
    },
    [=](sample_atom) { sample(self); },
    [=](crash_atom) {
      auto& st = self->state;
      if (st.out->finished || st.sending_done)
        return;
      auto& roles = st.plan.crash_roles;
      auto role = roles[st.gen() % roles.size()];
      auto name = crash_worker(self->system(), *st.plan.e, role, st.gen());
      auto t = now_s(self);
      st.out->faults.push_back({"crash " + name, t, t});
      ++st.out->crashes;
      journal(self, "C " + std::to_string(t) + " " + name);
      self->delayed_send(self, st.plan.crash_interval, crash_atom::value);
    },
    [=](outage_atom, bool on) {
      auto& st = self->state;
      if (auto sw = switch_for(*st.plan.outages, st.plan.outage_role))
        sw->store(on);
      open_or_close(self, st.plan.outage_role + " outage", on);
    },
    [=](broker_atom, bool down) {
      self->state.plan.broker_down(down);
      open_or_close(self, "broker outage", down);
    },
    [=](deadline_atom) { finish_run(self); },
  };
}

// -- one engine, one process
// ---------------------------------------------------

/// What one run of the engine found.
struct phase_result {
  std::shared_ptr<driver_results> driver = std::make_shared<driver_results>();
  saga_stats stats;
  world_snapshot world;
  broker_summary broker;
};

/// Where a phase starts and what it may do.
struct phase_plan {
  size_t first = 0;
  bool load_tours = true;
  int64_t kill_after = 0;
  /// Runs a later release's tables (see `scenario_settings::upgrade`).
  bool upgrade = false;
  std::function<void(const std::string&)> journal;
  double time_offset = 0;
};

/// Waits (real time) until the publisher is connected and has nothing left
/// to publish.
void wait_for_outbox(const engine& e, caf::timespan limit) {
  if (!e.amqp)
    return;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline
         && (e.gate->outbox_backlog > 0 || !e.amqp->publisher_up))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

phase_result run_phase(booking_config& cfg, const sim_hooks& hooks,
                       const std::vector<tour>& tours,
                       const std::vector<booking_request>& reqs,
                       const phase_plan& pp) {
  auto& sc = cfg.scenario;
  auto settings = cfg.settings;
  std::unique_ptr<tcp_proxy> proxy;
  if (sc.broker_outage_duration.count() > 0) {
    // The engine reaches the broker through a proxy the driver can cut.
    auto target = parse_amqp_target(settings.amqp.url);
    if (!target)
      throw std::runtime_error("amqp.url: not an amqp:// URL the simulator "
                               "can put a proxy in front of");
    proxy = std::make_unique<tcp_proxy>(target->host, target->port);
    settings.amqp.url = redirect_amqp_url(settings.amqp.url, proxy->port());
  }
  auto store = open_store(settings.store);
  if (!store)
    throw std::runtime_error("store.path: " + describe(store.error()));
  if (sc.deterministic)
    cfg.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator* sched = nullptr;
  pump_fn pump;
  if (sc.deterministic) {
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
    pump = [sched] { sched->run(); };
  }
  engine_options opts;
  opts.sink = nullptr;
  opts.outages = std::make_shared<outage_switches>();
  // The hook changes the release's tables, in both processes alike; the
  // upgrade then adds the later version.
  opts.adjust_tables = [&](saga_tables& t) {
    if (hooks.adjust_tables)
      hooks.adjust_tables(t);
    if (pp.upgrade)
      t.booking.push_back(verifying_booking_saga(settings.saga));
  };
  opts.store = std::move(*store);
  auto e = start_engine(sys, settings, opts);
  caf::scoped_actor self{sys};
  if (pump)
    pump();
  if (pp.load_tours)
    load_tours(self, e, tours, pump);
  phase_result result;
  driver_plan plan;
  plan.e = &e;
  plan.reqs = reqs;
  plan.first = pp.first;
  plan.concurrency = static_cast<size_t>(sc.concurrency);
  plan.cancel_rate = sc.cancel_rate;
  plan.deadline = sc.timeout;
  plan.crash_interval = sc.crash_interval;
  plan.crash_roles = sc.crash_roles;
  plan.outage_role = sc.outage_role;
  plan.outage_start = sc.outage_start;
  plan.outage_duration = sc.outage_duration;
  plan.outages = opts.outages;
  plan.broker_start = sc.broker_outage_start;
  plan.broker_duration = sc.broker_outage_duration;
  if (proxy)
    plan.broker_down = [p = proxy.get()](bool down) { p->set_down(down); };
  plan.kill_after = pp.kill_after;
  plan.journal = pp.journal;
  plan.seed = sc.seed;
  plan.time_offset = pp.time_offset;
  auto out = result.driver;
  // The run's clock starts once the engine has reached its broker: a broker
  // outage due at 200 ms must cut a connection, not the first connect of a
  // slow start (declaring the topology takes a while on a busy machine).
  wait_for_outbox(e, std::chrono::seconds(30));
  if (sched) {
    auto d = sys.spawn(driver, std::move(plan), out);
    caf::anon_send(d, run_atom::value);
    // Simulated time moves only when nothing else can happen.
    while (!out->finished) {
      sched->run();
      if (!out->finished && !sched->trigger_timeout())
        break;
    }
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
    sched->run();
    if (!out->finished)
      throw std::runtime_error("the simulation stopped before its end: "
                               "nothing left to run and no timer pending");
  } else {
    // Its own thread: it may block briefly (the proxy, a crash's spawn).
    auto d = sys.spawn<caf::detached>(driver, std::move(plan), out);
    self->request(d, caf::infinite, run_atom::value)
      .receive([](bool) {},
               [](caf::error& err) {
                 throw std::runtime_error("simulation failed: "
                                          + describe(err));
               });
    self->send_exit(d, caf::exit_reason::user_shutdown);
    self->wait_for(d);
    wait_for_outbox(e, std::chrono::seconds(30));
  }
  result.stats = collect_stats(self, e, pump);
  result.world = collect_world(self, e, pump);
  result.world.acknowledged = out->acknowledged;
  // The run ends at quiescence or at the deadline, and either way its state
  // is judged as final: a saga still running at the deadline, or a seat
  // still held, is a violation, not a pass by default.
  result.world.quiescent = true;
  if (auto st = e.amqp) {
    result.broker.configured = true;
    result.broker.published = st->published;
    result.broker.confirmed = st->confirmed;
    result.broker.reconnects = st->reconnects;
    result.broker.backlog = e.gate->outbox_backlog;
  }
  if (sched) {
    e.stop();
    sched->run();
  } else {
    shut_down(self, e);
  }
  return result;
}

// -- a process crash ----------------------------------------------------------

/// Puts what the killed process saw in front of what the restarted one saw.
void prepend(driver_results& after, driver_results before) {
  auto front = [](auto& xs, auto& ys) {
    ys.insert(ys.end(), xs.begin(), xs.end());
    xs = std::move(ys);
  };
  front(after.acknowledged, before.acknowledged);
  front(after.latencies_ms, before.latencies_ms);
  front(after.samples, before.samples);
  front(after.faults, before.faults);
  for (auto& [key, n] : before.refused)
    after.refused[key] += n;
  after.crashes += before.crashes;
  after.cancels += before.cancels;
  after.last_outcome = std::max(after.last_outcome, before.last_outcome);
}

/// A fresh directory for the store of a run that crashes on purpose.
struct temp_dir {
  std::string path;
  temp_dir() {
    auto base = std::filesystem::temp_directory_path() / "booking-sim-XXXXXX";
    auto text = base.string();
    if (::mkdtemp(text.data()) == nullptr)
      throw std::runtime_error("cannot create a temporary directory");
    path = text;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// Runs the first phase in a child process that kills itself after
/// `crash_after` acknowledged bookings, reads its journal, then restarts
/// the engine here from the same store and runs the rest.
phase_result run_with_crash(booking_config& cfg, const sim_hooks& hooks,
                            const std::vector<tour>& tours,
                            const std::vector<booking_request>& reqs,
                            sim_report& report) {
  auto& store_path = cfg.settings.store.path;
  std::unique_ptr<temp_dir> dir;
  if (store_path == ":memory:") {
    dir = std::make_unique<temp_dir>();
    store_path = dir->path + "/booking.db";
  }
  int fds[2];
  if (::pipe(fds) != 0)
    throw std::runtime_error("cannot create a pipe");
  std::fflush(nullptr);
  auto pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("cannot fork");
  if (pid == 0) {
    // Dies with the simulator, whatever kills it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(fds[0]);
    int fd = fds[1];
    phase_plan pp;
    pp.kill_after = cfg.scenario.crash_after;
    pp.journal = [fd](const std::string& line) {
      auto text = line + "\n";
      auto rc = ::write(fd, text.data(), text.size());
      static_cast<void>(rc);
    };
    try {
      run_phase(cfg, hooks, tours, reqs, pp);
    } catch (const std::exception& ex) {
      log_line(log_level::error, "simulation failed", {{"error", ex.what()}});
      ::_exit(3);
    }
    ::_exit(4); // ran out of bookings before the crash point
  }
  ::close(fds[1]);
  std::string text;
  char buf[65536];
  for (;;) {
    auto n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    continue;
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
    throw std::runtime_error("the first process ended without the crash "
                             "(status "
                             + std::to_string(status) + ")");
  // What the killed process told before it died.
  phase_plan pp;
  driver_results before;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    if (line.size() < 2)
      continue;
    auto rest = line.substr(2);
    std::istringstream words{rest};
    double t = 0;
    std::string name;
    switch (line[0]) {
      case 'S':
        pp.first = std::max(pp.first, std::stoul(rest) + 1);
        break;
      case 'A':
        before.acknowledged.push_back(rest);
        break;
      case 'R':
        ++before.refused[rest];
        break;
      case 'L': {
        double ms = 0;
        words >> ms >> t;
        before.latencies_ms.push_back(ms);
        before.last_outcome = std::max(before.last_outcome, t);
        break;
      }
      case 'N':
        ++before.cancels;
        break;
      case 'F': {
        int64_t n = 0;
        words >> t >> n;
        before.samples.push_back({t, n});
        break;
      }
      case 'C':
        words >> t >> name;
        before.faults.push_back({"crash " + name, t, t});
        ++before.crashes;
        break;
      case 'O':
      case 'E':
        words >> t;
        std::getline(words >> std::ws, name);
        if (line[0] == 'O')
          before.faults.push_back({name, t, -1});
        else
          close_windows(before.faults, t, name);
        break;
      case 'T':
        words >> pp.time_offset;
        break;
    }
  }
  close_windows(before.faults, pp.time_offset); // the kill ended them
  before.faults.push_back({"process crash", pp.time_offset, pp.time_offset});
  pp.load_tours = false;
  pp.upgrade = cfg.scenario.upgrade;
  auto result = run_phase(cfg, hooks, tours, reqs, pp);
  report.process_restarts = 1;
  prepend(*result.driver, std::move(before));
  result.world.acknowledged = result.driver->acknowledged;
  return result;
}

// -- the report ---------------------------------------------------------------

std::vector<count_row> rows_of(const std::map<std::string, int64_t>& xs) {
  return {xs.begin(), xs.end()};
}

/// Keeps at most `max_samples` samples: the largest of each time slice, so
/// that peaks survive.
std::vector<in_flight_sample> thin(std::vector<in_flight_sample> xs) {
  if (xs.size() <= max_samples)
    return xs;
  auto t0 = xs.front().time;
  auto span = std::max(xs.back().time - t0, 1e-9);
  std::vector<in_flight_sample> result;
  size_t slice = max_samples;
  for (auto& x : xs) {
    auto k = static_cast<size_t>((x.time - t0) / span * (max_samples - 1));
    if (k != slice || result.empty()) {
      result.push_back(x);
      slice = k;
    } else if (x.in_flight > result.back().in_flight) {
      result.back().in_flight = x.in_flight;
    }
  }
  return result;
}

void fill_report(sim_report& r, phase_result& p) {
  auto& d = *p.driver;
  r.accepted = static_cast<int64_t>(d.acknowledged.size());
  r.refused = rows_of(d.refused);
  r.cancelled_on_request = d.cancels;
  r.duration = d.last_outcome;
  std::map<std::string, int64_t> outcomes;
  for (auto& b : p.world.bookings)
    ++outcomes[to_string(b.status) + "/"
               + (b.reason.empty() ? "none" : b.reason)];
  r.outcomes = rows_of(outcomes);
  r.compensations_by_step = rows_of(p.stats.compensations_by_step);
  r.retries_by_step = rows_of(p.stats.retries_by_step);
  r.sagas_by_version = rows_of(p.stats.started_by_version);
  r.compensations = p.stats.compensations;
  r.retries = p.stats.retries;
  r.uncertain_resolved = p.stats.uncertain_resolved;
  r.latencies_ms = std::move(d.latencies_ms);
  std::sort(r.latencies_ms.begin(), r.latencies_ms.end());
  r.p50_ms = quantile(r.latencies_ms, 0.5);
  r.p90_ms = quantile(r.latencies_ms, 0.9);
  r.p99_ms = quantile(r.latencies_ms, 0.99);
  r.max_ms = r.latencies_ms.empty() ? 0 : r.latencies_ms.back();
  r.throughput = r.duration > 0
                   ? static_cast<double>(r.latencies_ms.size()) / r.duration
                   : 0;
  r.in_flight = thin(std::move(d.samples));
  r.faults = std::move(d.faults);
  std::stable_sort(r.faults.begin(), r.faults.end(),
                   [](auto& x, auto& y) { return x.start < y.start; });
  r.actor_crashes = d.crashes;
  r.broker = p.broker;
  r.invariants = check_invariants(p.world);
}

/// `n` days after 2027-01-01, as YYYY-MM-DD.
std::string date_after(int32_t n) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
  int year = 2027;
  int month = 0;
  while (n >= days[month] + (month == 1 && year % 4 == 0 ? 1 : 0)) {
    n -= days[month] + (month == 1 && year % 4 == 0 ? 1 : 0);
    if (++month == 12) {
      month = 0;
      ++year;
    }
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", year, month + 1, n + 1);
  return buf;
}

/// Picks one value of weighted choices.
const std::string& pick(std::mt19937_64& gen,
                        const std::vector<std::pair<std::string, double>>& xs) {
  double total = 0;
  for (auto& x : xs)
    total += x.second;
  auto r = std::uniform_real_distribution<double>{0, total}(gen);
  for (auto& x : xs) {
    if (r < x.second)
      return x.first;
    r -= x.second;
  }
  return xs.back().first;
}

} // namespace

std::vector<tour> scenario_tours(const scenario_settings& sc) {
  std::vector<tour> result;
  for (int32_t i = 1; i <= sc.tours; ++i) {
    tour t;
    t.id = "tour-" + std::to_string(i);
    t.name = "Tour " + std::to_string(i);
    t.price_cents = 2500 + 500 * (i % 10);
    t.currency = "EUR";
    for (int32_t d = 0; d < sc.dates; ++d)
      t.departures.push_back({date_after(d), sc.capacity});
    result.push_back(std::move(t));
  }
  return result;
}

std::vector<booking_request> scenario_requests(const scenario_settings& sc) {
  std::mt19937_64 gen{derive_seed(sc.seed, 6000)};
  std::vector<booking_request> result;
  result.reserve(static_cast<size_t>(sc.bookings));
  for (int32_t i = 0; i < sc.bookings; ++i) {
    booking_request req;
    auto ms = id_epoch_ms + static_cast<uint64_t>(i);
    auto r1 = gen();
    auto r2 = gen();
    char id[40];
    std::snprintf(id, sizeof(id), "%08llx-%04llx-7%03llx-%04llx-%012llx",
                  static_cast<unsigned long long>(ms >> 16),
                  static_cast<unsigned long long>(ms & 0xffff),
                  static_cast<unsigned long long>(r1 & 0xfff),
                  static_cast<unsigned long long>(0x8000
                                                  | ((r1 >> 12) & 0x3fff)),
                  static_cast<unsigned long long>(r2 & 0xffffffffffffULL));
    req.id = id;
    req.tour_id = "tour-" + std::to_string(1 + gen() % sc.tours);
    req.date = date_after(static_cast<int32_t>(gen() % sc.dates));
    req.seats = std::stoi(pick(gen, sc.seats));
    req.payment_token = pick(gen, sc.tokens);
    auto n = std::to_string(i + 1);
    req.cust = {"Sim Customer " + n, "sim" + n + "@example.com", ""};
    req.correlation_id = "sim-" + n;
    result.push_back(std::move(req));
  }
  return result;
}

sim_report run_scenario(booking_config& cfg, const sim_hooks& hooks) {
  auto& sc = cfg.scenario;
  sim_report report;
  report.scenario = sc.name;
  report.mode = sc.deterministic ? "deterministic" : "threaded";
  report.seed = sc.seed;
  report.requested = sc.bookings;
  auto tours = scenario_tours(sc);
  auto reqs = scenario_requests(sc);
  auto result = sc.crash_after > 0
                  ? run_with_crash(cfg, hooks, tours, reqs, report)
                  : run_phase(cfg, hooks, tours, reqs, {});
  fill_report(report, result);
  return report;
}

} // namespace booking
