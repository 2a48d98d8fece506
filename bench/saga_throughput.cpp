// saga-throughput: in-process booking sagas per second, a CAF round-trip
// ceiling measured in the same run, and memory per in-flight saga.
//
// The engine is built as booking-server builds it (`start_engine`), from the
// same options (`load_config`), so every engine option works here too:
//
//   saga-throughput --bookings=200000 --window=1000
//     --scheduler.max-threads=2 --workers.saga-coordinators=2 [--json]
//
// Phases, in this order (so the memory phase sees a fresh heap):
//   1. memory: a burst of K bookings fired at once on its own engine whose
//      payment calls take `--mem-hold-ms`, so all K sagas sit in flight; RSS
//      and heap in use are sampled while they do.
//   2. ceiling: trivial typed request/response round trips (P echo pairs,
//      C requests in flight each), once with and once without a request
//      timeout, for `--ceiling-seconds` each, on the same scheduler.
//   3. throughput: N bookings (`tok_ok`, 1 seat) with W in flight; the
//      coordinator's `await` reply marks an outcome, `wait_idle` (and with
//      a store `drain`: every change committed) marks full completion
//      (notifications included); then the invariant check.
//   4. store floor (with a store file only): SQLite alone writing one row
//      per change of a saga, round trips and one-way messages to a detached
//      actor that answers in rounds like the store: the least CPU a durable
//      saga adds, to bound durable / in-memory throughput.
//
// Between phases the benchmark waits until the previous phase's request
// timeouts have fired (see `let_timeouts_expire`).
//
// Store: the benchmark runs in memory (`--store.path=:memory:`) unless
// `--store.path=FILE` is on its command line (config/booking.ini's path is
// not used). With a file, each engine (memory and throughput phase) gets a
// fresh database there: the file and its -wal/-shm are deleted, then it is
// opened with `open_store`, as booking-server opens it. The throughput
// phase then also reports the store's commits, batches (batches per commit
// is the group-commit factor) and the CPU time of the store's thread.
//
// Every driver is an event-based actor (no blocking on scheduler threads);
// `main` waits on a scoped actor. Exit status: 0 on success, 1 if a booking
// did not confirm or an invariant broke, 2 on bad options.

#include <dlfcn.h>
#include <malloc.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <sqlite3.h>

#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "actors/saga/invariants.hpp"
#include "actors/shard.hpp"
#include "config/booking_config.hpp"
#include "config/wiring.hpp"

namespace {

using namespace booking;
using clock_type = std::chrono::steady_clock;

using run_atom = caf::atom_constant<caf::atom("run")>;
using created_atom = caf::atom_constant<caf::atom("created")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

/// The booking saga's performance target (product spec).
constexpr double target_sagas_per_second = 50000;

/// The memory target per in-flight saga (product spec).
constexpr double target_bytes_per_saga = 2048;

/// Request/response round trips one booking saga makes, counted in the
/// coordinator: create, quote, store, await (client side); reserve,
/// authorize, capture, commit, update (confirmed), notify. The history
/// entries of the other steps go to the booking shard one-way.
constexpr int round_trips_per_saga = 10;

/// How long `main` waits for a phase's outcomes before it gives up.
constexpr auto drive_limit = std::chrono::minutes(10);

/// Timeout of the ceiling's timed requests, like a participant call's.
constexpr auto echo_timeout = std::chrono::seconds(2);

/// Waits until every request timeout armed so far has fired: CAF 0.17 keeps
/// each one in its clock until then (a reply does not cancel it), and the
/// next phase should not pay for the previous one's.
void let_timeouts_expire(caf::timespan longest) {
  std::this_thread::sleep_for(longest + std::chrono::milliseconds(200));
}

int64_t nanos(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           t.time_since_epoch())
    .count();
}

double seconds_between(int64_t from_ns, int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}

// -- command line -------------------------------------------------------------

/// The benchmark's own flags; everything else goes to `load_config`.
struct bench_options {
  int64_t bookings = 200000;
  int64_t window = 1000;
  int32_t tours = 4;
  int64_t mem_burst = 20000;
  int64_t mem_hold_ms = 5000;
  int32_t mem_await = 0;
  int32_t drivers = 1;
  int64_t client_timeout_ms = 0;
  double ceiling_seconds = 2.0;
  int32_t ceiling_pairs = 4;
  int64_t ceiling_window = 50;
  int64_t floor_sagas = 100000;
  bool json = false;
  bool help = false;
};

constexpr const char* usage
  = R"(saga-throughput: in-process booking sagas per second

Benchmark options (all other options go to the engine, as for booking-server):
  --bookings=N         bookings driven in the throughput phase (200000)
  --window=W           bookings the driver keeps in flight (1000)
  --tours=T            tours the bookings are spread over (4)
  --mem-burst=K        bookings fired at once in the memory phase, 0: skip (20000)
  --mem-hold-ms=MS     payment latency that holds them in flight (5000)
  --mem-await=0|1      1: a client awaits each outcome of the burst, as
                       Prefer: wait does; 0: the sagas alone (0)
  --drivers=D          driver actors sharing the bookings and window (1)
  --client-timeout-ms=MS  timeout of each driver request, 0: none (0)
  --ceiling-seconds=S  duration of each round-trip ceiling run, 0: skip (2)
  --ceiling-pairs=P    echo actor + driver pairs in the ceiling run (4)
  --ceiling-window=C   requests each ceiling driver keeps in flight (50)
  --floor-sagas=N      with a store file: sagas written by the store floor's
                       bare SQLite run, 0: skip the floor (100000)
  --json               also print one line of JSON with every figure

Engine options (see below), e.g. --scheduler.max-threads=2,
--scheduler.policy=sharing, --workers.saga-coordinators=4.
--store.path defaults to :memory: here (no store); with --store.path=FILE
each engine gets a fresh database FILE (FILE, FILE-wal and FILE-shm are
deleted first).

)";

/// Parses `--name=value` into `out`; false if `arg` is not that flag.
template <class T>
bool flag(const std::string& arg, const char* name, T& out, bool& bad) {
  std::string prefix = std::string{"--"} + name + "=";
  if (arg.compare(0, prefix.size(), prefix) != 0)
    return false;
  std::istringstream in{arg.substr(prefix.size())};
  T value{};
  if (!(in >> value) || !in.eof() || value < 0) {
    std::cerr << name << ": expected a non-negative number, got \""
              << arg.substr(prefix.size()) << "\"" << std::endl;
    bad = true;
    return true;
  }
  out = value;
  return true;
}

/// Splits the command line; returns false on a bad benchmark flag.
bool parse_bench_options(int argc, char** argv, bench_options& opts,
                         std::vector<std::string>& rest) {
  bool bad = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json") {
      opts.json = true;
    } else if (arg == "--help" || arg == "-h") {
      opts.help = true;
    } else if (!flag(arg, "bookings", opts.bookings, bad)
               && !flag(arg, "window", opts.window, bad)
               && !flag(arg, "tours", opts.tours, bad)
               && !flag(arg, "mem-burst", opts.mem_burst, bad)
               && !flag(arg, "mem-await", opts.mem_await, bad)
               && !flag(arg, "mem-hold-ms", opts.mem_hold_ms, bad)
               && !flag(arg, "ceiling-seconds", opts.ceiling_seconds, bad)
               && !flag(arg, "drivers", opts.drivers, bad)
               && !flag(arg, "client-timeout-ms", opts.client_timeout_ms, bad)
               && !flag(arg, "ceiling-pairs", opts.ceiling_pairs, bad)
               && !flag(arg, "ceiling-window", opts.ceiling_window, bad)
               && !flag(arg, "floor-sagas", opts.floor_sagas, bad)) {
      rest.push_back(std::move(arg));
    }
  }
  if (!bad
      && (opts.bookings < 1 || opts.window < 1 || opts.tours < 1
          || opts.drivers < 1 || opts.ceiling_pairs < 1
          || opts.ceiling_window < 1)) {
    std::cerr << "bookings, window, tours, drivers, ceiling-pairs and "
                 "ceiling-window must be >= 1"
              << std::endl;
    bad = true;
  }
  if (!bad && opts.mem_await > 1) {
    std::cerr << "mem-await must be 0 or 1" << std::endl;
    bad = true;
  }
  return !bad;
}

// -- memory -------------------------------------------------------------------

/// Reads one `kB` field of /proc/self/status, in bytes (0 if absent).
int64_t proc_status_bytes(const char* field) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  auto len = std::char_traits<char>::length(field);
  while (std::getline(in, line))
    if (line.compare(0, len, field) == 0 && line.size() > len
        && line[len] == ':')
      return std::atoll(line.c_str() + len + 1) * 1024;
  return 0;
}

int64_t rss_bytes() {
  return proc_status_bytes("VmRSS");
}

int64_t peak_rss_bytes() {
  return proc_status_bytes("VmHWM");
}

/// Bytes the allocator has handed out and not taken back (all arenas):
/// jemalloc's `stats.allocated` when it is the allocator (its `mallctl` is
/// looked up, so the program still runs on another one), else glibc's.
int64_t heap_in_use_bytes() {
  using mallctl_fn = int (*)(const char*, void*, size_t*, void*, size_t);
  static auto mallctl
    = reinterpret_cast<mallctl_fn>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl != nullptr) {
    // The statistics are a snapshot taken when the epoch advances.
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    mallctl("epoch", &epoch, &len, &epoch, len);
    size_t allocated = 0;
    len = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0)
      return static_cast<int64_t>(allocated);
  }
  auto info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

/// CPU time (user + system) of the whole process so far, in seconds.
double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// -- threads and the store ----------------------------------------------------

/// Ids of this process's threads.
std::set<std::string> thread_ids() {
  std::set<std::string> result;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator{"/proc/self/task", ec})
    result.insert(entry.path().filename().string());
  return result;
}

std::string thread_name(const std::string& tid) {
  std::ifstream in{"/proc/self/task/" + tid + "/comm"};
  std::string name;
  std::getline(in, name);
  return name;
}

/// Nanoseconds thread `tid` has run on a CPU so far (first field of its
/// schedstat), or -1 if it is gone.
int64_t thread_cpu_ns(const std::string& tid) {
  std::ifstream in{"/proc/self/task/" + tid + "/schedstat"};
  int64_t ns = -1;
  if (!(in >> ns))
    return -1;
  return ns;
}

/// The thread CAF started for the store actor: the one thread named
/// `caf.actor` (CAF's name for a detached actor's thread) not in `before`.
/// Empty if there is not exactly one.
std::string find_store_thread(const std::set<std::string>& before) {
  std::string found;
  for (auto& tid : thread_ids())
    if (before.count(tid) == 0 && thread_name(tid) == "caf.actor") {
      if (!found.empty())
        return {};
      found = tid;
    }
  return found;
}

/// Deletes the SQLite database `path` with its -wal, -shm and -journal
/// files, those that exist.
void remove_database(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    std::filesystem::remove(path + suffix, ec);
  }
}

/// A fresh database for one engine: deletes `cfg.path` with its -wal and
/// -shm files, then opens it as booking-server does. Null for `:memory:`.
caf::expected<std::shared_ptr<opened_store>>
open_fresh_store(const store_settings& cfg) {
  if (cfg.path != ":memory:")
    remove_database(cfg.path);
  return open_store(cfg);
}

/// Starts an engine with a fresh store (if the settings name a file);
/// false, after printing why, if the store does not open.
bool start_bench_engine(caf::actor_system& sys, const engine_settings& settings,
                        engine_options opts, engine& out, const char* phase) {
  auto opened = open_fresh_store(settings.store);
  if (!opened) {
    std::cerr << phase << ": cannot open the store " << settings.store.path
              << ": " << describe(opened.error()) << std::endl;
    return false;
  }
  opts.store = std::move(*opened);
  out = start_engine(sys, settings, std::move(opts));
  return true;
}

// -- the saga driver ----------------------------------------------------------

/// What a saga driver runs.
struct saga_plan {
  std::vector<saga_coordinator_actor> coordinators;
  std::vector<std::string> tour_ids;
  std::string date;
  /// Number of this driver's first booking, for correlation ids.
  int64_t first_index = 0;
  int64_t bookings = 0;
  int64_t window = 0;
  /// Timeout of the driver's requests (infinite: none).
  caf::duration timeout{caf::infinite};
  /// False: the driver asks for no outcome, and counts a booking done once
  /// its create is answered (the caller checks the outcomes afterwards).
  bool await_outcomes = true;
};

struct saga_driver_state {
  saga_plan plan;
  caf::actor listener;
  int64_t issued = 0;
  int64_t acked = 0;
  int64_t refused = 0;
  int64_t finished = 0;
  int64_t confirmed = 0;
  int64_t not_confirmed = 0;
  int64_t errors = 0;
  std::string first_problem;
  static inline const char* name = "saga_driver";
};

using saga_driver_pointer = caf::stateful_actor<saga_driver_state>*;

void note_problem(saga_driver_pointer self, std::string what) {
  if (self->state.first_problem.empty())
    self->state.first_problem = std::move(what);
}

void launch_booking(saga_driver_pointer self);

void on_created(saga_driver_pointer self) {
  auto& st = self->state;
  if (st.acked + st.refused == st.plan.bookings)
    self->send(st.listener, created_atom::value, st.acked);
}

void on_outcome(saga_driver_pointer self) {
  auto& st = self->state;
  if (++st.finished == st.plan.bookings) {
    self->send(st.listener, done_atom::value, st.confirmed,
               st.not_confirmed + st.errors, nanos(clock_type::now()),
               st.first_problem);
    return;
  }
  if (st.issued < st.plan.bookings)
    launch_booking(self);
}

/// Starts one booking: `create`, and right behind it `await`, whose reply
/// is the outcome (the coordinator queues the awaiter while it stores the
/// booking, since both arrive in order).
void launch_booking(saga_driver_pointer self) {
  auto& st = self->state;
  auto n = st.issued++;
  booking_request req;
  req.id = new_booking_id();
  req.tour_id
    = st.plan.tour_ids[static_cast<size_t>(n) % st.plan.tour_ids.size()];
  req.date = st.plan.date;
  req.seats = 1;
  req.cust = {"Bench Customer", "bench@example.com", ""};
  req.payment_token = "tok_ok";
  req.correlation_id = "bench-" + std::to_string(st.plan.first_index + n);
  auto& coordinator = shard_for(st.plan.coordinators, req.id);
  auto id = req.id;
  auto await = st.plan.await_outcomes;
  self
    ->request(coordinator, st.plan.timeout, create_atom::value, std::move(req))
    .then(
      [=](booking_record&) {
        ++self->state.acked;
        on_created(self);
        if (!await) {
          ++self->state.confirmed; // accepted; the caller checks the outcome
          on_outcome(self);
        }
      },
      [=](caf::error& e) {
        ++self->state.refused;
        note_problem(self, "create: " + describe(e));
        on_created(self);
        if (!await) {
          ++self->state.errors;
          on_outcome(self);
        }
      });
  if (!await)
    return;
  self->request(coordinator, st.plan.timeout, await_atom::value, std::move(id))
    .then(
      [=](booking_record& rec) {
        if (rec.status == booking_status::confirmed) {
          ++self->state.confirmed;
        } else {
          ++self->state.not_confirmed;
          note_problem(self,
                       "outcome: " + to_string(rec.status) + " " + rec.reason);
        }
        on_outcome(self);
      },
      [=](caf::error& e) {
        ++self->state.errors;
        note_problem(self, "await: " + describe(e));
        on_outcome(self);
      });
}

caf::behavior saga_driver(saga_driver_pointer self, saga_plan plan) {
  self->state.plan = std::move(plan);
  return {
    [=](run_atom, caf::actor listener) {
      auto& st = self->state;
      st.listener = std::move(listener);
      auto first = std::min(st.plan.window, st.plan.bookings);
      for (int64_t i = 0; i < first; ++i)
        launch_booking(self);
    },
  };
}

// -- the round-trip ceiling ---------------------------------------------------

/// The least a request/response can do: answer its argument.
using echo_actor = caf::typed_actor<caf::replies_to<int32_t>::with<int32_t>>;

echo_actor::behavior_type echo() {
  return {[](int32_t x) { return x; }};
}

struct echo_driver_state {
  echo_actor echo;
  caf::actor listener;
  bool with_timeout = true;
  /// One-way messages (an `int64_t`) sent ahead of each request.
  int32_t oneway = 0;
  clock_type::time_point deadline;
  int64_t outstanding = 0;
  int64_t replies = 0;
  int64_t errors = 0;
  static inline const char* name = "echo_driver";
};

using echo_driver_pointer = caf::stateful_actor<echo_driver_state>*;

void echo_once(echo_driver_pointer self) {
  auto on_reply = [=](int32_t) {
    auto& st = self->state;
    ++st.replies;
    if (clock_type::now() < st.deadline) {
      echo_once(self);
    } else if (--st.outstanding == 0) {
      self->send(st.listener, done_atom::value, st.replies, st.errors,
                 nanos(clock_type::now()));
    }
  };
  auto on_error = [=](caf::error&) {
    auto& st = self->state;
    ++st.errors;
    if (--st.outstanding == 0)
      self->send(st.listener, done_atom::value, st.replies, st.errors,
                 nanos(clock_type::now()));
  };
  // Requests with a timeout arm a timer in CAF's clock per request, as every
  // call the coordinator makes to a participant does.
  auto& st = self->state;
  for (int32_t i = 0; i < st.oneway; ++i)
    self->send(caf::actor_cast<caf::actor>(st.echo), int64_t{1});
  if (st.with_timeout)
    self->request(st.echo, echo_timeout, int32_t{1}).then(on_reply, on_error);
  else
    self->request(st.echo, caf::infinite, int32_t{1}).then(on_reply, on_error);
}

caf::behavior echo_driver(echo_driver_pointer self, echo_actor target,
                          int64_t window, bool with_timeout, int32_t oneway) {
  self->state.echo = std::move(target);
  self->state.with_timeout = with_timeout;
  self->state.oneway = oneway;
  return {
    [=](run_atom, caf::actor listener, int64_t deadline_ns) {
      auto& st = self->state;
      st.listener = std::move(listener);
      st.deadline
        = clock_type::time_point{std::chrono::nanoseconds{deadline_ns}};
      st.outstanding = window;
      for (int64_t i = 0; i < window; ++i)
        echo_once(self);
    },
  };
}

/// What one run of echo drivers did.
struct echo_run {
  int64_t replies = 0;
  int64_t errors = 0;
  double seconds = 0;
  /// CPU time of the whole process during the run.
  double cpu_seconds = 0;
};

/// One echo driver per target, each keeping `window` requests in flight for
/// `seconds` (with a timeout or not, each behind `oneway` one-way
/// messages); the targets stay up.
echo_run drive_echoes(caf::actor_system& sys,
                      const std::vector<echo_actor>& targets, int64_t window,
                      bool with_timeout, int32_t oneway, double seconds) {
  caf::scoped_actor self{sys};
  std::vector<caf::actor> drivers;
  for (auto& target : targets)
    drivers.push_back(
      sys.spawn(echo_driver, target, window, with_timeout, oneway));
  auto cpu0 = process_cpu_seconds();
  auto start = clock_type::now();
  auto deadline = start
                  + std::chrono::duration_cast<clock_type::duration>(
                    std::chrono::duration<double>(seconds));
  for (auto& d : drivers)
    self->send(d, run_atom::value, caf::actor{self}, nanos(deadline));
  echo_run result;
  int64_t last_ns = nanos(start);
  for (size_t i = 0; i < drivers.size(); ++i)
    self->receive([&](done_atom, int64_t n, int64_t errors, int64_t end_ns) {
      result.replies += n;
      result.errors += errors;
      last_ns = std::max(last_ns, end_ns);
    });
  result.cpu_seconds = process_cpu_seconds() - cpu0;
  result.seconds = seconds_between(nanos(start), last_ns);
  for (auto& d : drivers)
    self->send_exit(d, caf::exit_reason::user_shutdown);
  return result;
}

struct ceiling_result {
  double round_trips_per_second = 0;
  int64_t errors = 0;
};

/// Round trips per second of `pairs` echo pairs with `window` in flight each.
ceiling_result measure_ceiling(caf::actor_system& sys, int32_t pairs,
                               int64_t window, double seconds,
                               bool with_timeout) {
  std::vector<echo_actor> echoes;
  for (int32_t i = 0; i < pairs; ++i)
    echoes.push_back(sys.spawn(echo));
  auto run = drive_echoes(sys, echoes, window, with_timeout, 0, seconds);
  for (auto& e : echoes)
    caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  return {static_cast<double>(run.replies) / run.seconds, run.errors};
}

constexpr const char* bench_date = "2030-01-01";

// -- the durable store's floor ------------------------------------------------
//
// What making a saga durable costs at the least, measured in the same run
// against the same disk, for the engine's protocol: SQLite writing one row
// per change of a happy saga, two of those changes waited for (a round trip
// to a detached actor that, like the store, takes all requests waiting in
// its mailbox and answers them together) and the others sent one-way to
// it. BENCHMARKS.md turns these into a bound on durable ÷ in-memory
// throughput.

/// Rows a happy saga makes durable at the least, one per change: booking
/// created, seats held, payment authorized, payment captured, seats sold,
/// booking confirmed, notification recorded. The coordinator's own progress
/// is not counted: it rides along with the booking's changes.
constexpr int floor_rows_per_saga = 7;

/// Of those, the changes the saga waits for before it goes on (the
/// write-ahead rule): the booking's insert, which carries the saga's first
/// checkpoint, and its outcome. The others go to the store one-way.
constexpr int floor_waits_per_saga = 2;

/// Time the floor's commit stub waits per round, as a commit's fsync would,
/// so requests gather like they do at the store.
constexpr auto floor_commit_wait = std::chrono::milliseconds(1);

struct floor_result {
  bool ran = false;
  bool ok = true;
  /// CPU time of the writing thread per saga, in microseconds.
  double sqlite_us_per_saga = 0;
  /// Wall time per transaction the writing thread spent off the CPU (the
  /// commit's fsync, mostly), in milliseconds.
  double commit_off_cpu_ms = 0;
  /// Process CPU time per request/answer with the commit stub, in
  /// microseconds.
  double handoff_us = 0;
  int64_t handoffs = 0;
  /// Process CPU time per one-way message to the commit stub, in
  /// microseconds.
  double oneway_us = 0;
  int64_t oneways = 0;
  /// Sagas per transaction of the SQLite run.
  int64_t per_commit = 0;

  double us_per_saga() const {
    return sqlite_us_per_saga + floor_waits_per_saga * handoff_us
           + (floor_rows_per_saga - floor_waits_per_saga) * oneway_us;
  }
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// Runs `sql` on `db`; false (after printing why) if it fails.
bool floor_exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK)
    return true;
  std::cerr << "store floor: " << (msg ? msg : "error") << " in: " << sql
            << std::endl;
  sqlite3_free(msg);
  return false;
}

/// CPU microseconds per saga of writing `floor_rows_per_saga` rows for each
/// of `sagas` sagas to a fresh file at `path`, `per_commit` sagas per
/// transaction, with the engine's settings (WAL, synchronous=FULL, an
/// exclusive lock, a 16 MiB page cache); -1 on failure. Each row is keyed by
/// a time-ordered 36-character id, like a booking's, in its own table
/// without a rowid (one B-tree per row written).
double sqlite_floor_us(const std::string& path, int64_t sagas,
                       int64_t per_commit, double& off_cpu_ms) {
  remove_database(path);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::cerr << "store floor: cannot open " << path << std::endl;
    sqlite3_close(db);
    return -1;
  }
  std::vector<sqlite3_stmt*> puts;
  auto done = [&](double result) {
    for (auto* s : puts)
      sqlite3_finalize(s);
    sqlite3_close(db);
    remove_database(path);
    return result;
  };
  if (!floor_exec(db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                      " PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;"
                      " PRAGMA mmap_size=0"))
    return done(-1);
  for (int i = 0; i < floor_rows_per_saga; ++i) {
    auto table = "t" + std::to_string(i);
    auto create = "CREATE TABLE " + table
                  + " (id TEXT PRIMARY KEY, tour_id TEXT NOT NULL, date TEXT "
                    "NOT NULL, seats INTEGER NOT NULL, at INTEGER NOT NULL, "
                    "email TEXT NOT NULL, state TEXT NOT NULL) WITHOUT ROWID";
    if (!floor_exec(db, create.c_str()))
      return done(-1);
    auto put = "INSERT OR REPLACE INTO " + table + " VALUES (?,?,?,?,?,?,?)";
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db, put.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s,
                           nullptr)
        != SQLITE_OK) {
      std::cerr << "store floor: " << sqlite3_errmsg(db) << std::endl;
      return done(-1);
    }
    puts.push_back(s);
  }
  const std::string tour_id = "bench-tour-1";
  const std::string date = bench_date;
  const std::string email = "guest-000001@example.com";
  const std::string state = "confirmed";
  char id[48];
  auto cpu0 = thread_cpu_seconds();
  auto wall0 = clock_type::now();
  for (int64_t n = 0; n < sagas; ++n) {
    if (n % per_commit == 0 && !floor_exec(db, "BEGIN IMMEDIATE"))
      return done(-1);
    auto x = static_cast<unsigned long long>(n);
    std::snprintf(id, sizeof(id), "%08llx-%04llx-7000-8000-%012llx",
                  0x01900000ULL + (x >> 32), (x >> 16) & 0xffff, x);
    for (auto* s : puts) {
      sqlite3_bind_text(s, 1, id, 36, SQLITE_STATIC);
      sqlite3_bind_text(s, 2, tour_id.data(), static_cast<int>(tour_id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(s, 3, date.data(), static_cast<int>(date.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(s, 4, 1);
      sqlite3_bind_int64(s, 5, n);
      sqlite3_bind_text(s, 6, email.data(), static_cast<int>(email.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(s, 7, state.data(), static_cast<int>(state.size()),
                        SQLITE_STATIC);
      auto rc = sqlite3_step(s);
      sqlite3_reset(s);
      if (rc != SQLITE_DONE) {
        std::cerr << "store floor: " << sqlite3_errmsg(db) << std::endl;
        return done(-1);
      }
    }
    if ((n + 1) % per_commit == 0 || n + 1 == sagas)
      if (!floor_exec(db, "COMMIT"))
        return done(-1);
  }
  auto cpu = thread_cpu_seconds() - cpu0;
  auto wall = std::chrono::duration<double>(clock_type::now() - wall0).count();
  auto commits = (sagas + per_commit - 1) / per_commit;
  off_cpu_ms = (wall - cpu) * 1e3 / static_cast<double>(commits);
  return done(cpu * 1e6 / static_cast<double>(sagas));
}

/// Answers every request (an `int32_t`) with its argument, a round of them
/// at a time, as `echo` would: it takes one, waits as a commit would, takes all
/// that arrived meanwhile, then answers them all. One-way messages (an
/// `int64_t`) it takes and drops.
void commit_stub(caf::blocking_actor* self) {
  bool running = true;
  std::vector<caf::response_promise> round;
  auto on_request = [&](int32_t) {
    round.push_back(self->make_response_promise());
  };
  auto on_oneway = [&](int64_t) {};
  auto on_exit = [&](caf::exit_msg&) { running = false; };
  while (running) {
    self->receive(on_request, on_oneway, on_exit);
    std::this_thread::sleep_for(floor_commit_wait);
    self->receive_while([&] {
      return running && self->has_next_message();
    })(on_request, on_oneway, on_exit);
    for (auto& rp : round)
      rp.deliver(int32_t{1});
    round.clear();
  }
}

/// Process CPU seconds used while `pairs` drivers keep `window` requests to
/// the commit stub in flight each for `seconds`, each request sent behind
/// `oneway` one-way messages; `round_trips` receives the requests answered.
/// -1 if a request failed.
double handoff_cpu_seconds(caf::actor_system& sys, int32_t pairs,
                           int64_t window, int32_t oneway, double seconds,
                           int64_t& round_trips) {
  auto stub = sys.spawn<caf::detached>(commit_stub);
  std::vector<echo_actor> targets(static_cast<size_t>(pairs),
                                  caf::actor_cast<echo_actor>(stub));
  auto run = drive_echoes(sys, targets, window, false, oneway, seconds);
  caf::anon_send_exit(stub, caf::exit_reason::user_shutdown);
  round_trips = run.replies;
  if (run.errors > 0 || run.replies == 0) {
    std::cerr << "store floor: " << run.errors << " round trips failed, "
              << run.replies << " answered" << std::endl;
    return -1;
  }
  return run.cpu_seconds;
}

/// One-way messages sent ahead of each request in the floor's second run.
constexpr int32_t floor_oneway_per_request = 9;

/// Measures a wait for a commit (a round trip to the commit stub) and a
/// one-way message to it, in process CPU microseconds, into `fl`; false on
/// failure. The first run sends requests alone; the second sends each
/// behind `floor_oneway_per_request` one-way messages, and what it costs
/// beyond its requests is the one-way messages' share.
bool measure_handoffs(caf::actor_system& sys, int32_t pairs, int64_t window,
                      double seconds, floor_result& fl) {
  auto cpu = handoff_cpu_seconds(sys, pairs, window, 0, seconds, fl.handoffs);
  if (cpu < 0)
    return false;
  fl.handoff_us = cpu * 1e6 / static_cast<double>(fl.handoffs);
  int64_t requests = 0;
  cpu = handoff_cpu_seconds(sys, pairs, window, floor_oneway_per_request,
                            seconds, requests);
  if (cpu < 0)
    return false;
  fl.oneways = requests * floor_oneway_per_request;
  fl.oneway_us
    = std::max(0.0, cpu * 1e6 - static_cast<double>(requests) * fl.handoff_us)
      / static_cast<double>(fl.oneways);
  return true;
}

// -- phases -------------------------------------------------------------------

std::vector<tour> bench_tours(int32_t n, int64_t capacity) {
  std::vector<tour> result;
  auto seats = static_cast<int32_t>(
    std::min<int64_t>(capacity, std::numeric_limits<int32_t>::max()));
  for (int32_t i = 0; i < n; ++i)
    result.push_back({"bench-tour-" + std::to_string(i),
                      "Bench Tour",
                      1000,
                      "EUR",
                      {{bench_date, seats}}});
  return result;
}

saga_plan make_plan(const engine& e, const std::vector<tour>& tours,
                    int64_t bookings, int64_t window, int64_t timeout_ms) {
  saga_plan plan;
  if (timeout_ms > 0)
    plan.timeout = caf::duration{std::chrono::milliseconds(timeout_ms)};
  plan.coordinators = e.coordinators;
  for (auto& t : tours)
    plan.tour_ids.push_back(t.id);
  plan.date = bench_date;
  plan.bookings = bookings;
  plan.window = window;
  return plan;
}

/// What a saga driver reported at the end.
struct drive_result {
  int64_t confirmed = 0;
  int64_t problems = 0;
  int64_t start_ns = 0;
  int64_t created_ns = 0;
  int64_t outcome_ns = 0;
  std::string first_problem;
};

/// Runs `drivers` saga drivers, which share the plan's bookings and window,
/// to the end; calls `sample` about every 5 ms and `on_created` once every
/// booking has been acknowledged or refused. Gives up after `limit`.
template <class Sample, class OnCreated>
drive_result drive(caf::actor_system& sys, caf::scoped_actor& self,
                   const saga_plan& plan, int32_t drivers, caf::timespan limit,
                   Sample sample, OnCreated on_created) {
  drive_result r;
  std::vector<caf::actor> spawned;
  int64_t first = 0;
  for (int32_t i = 0; i < drivers; ++i) {
    auto part = plan;
    part.first_index = first;
    part.bookings = plan.bookings / drivers + (i < plan.bookings % drivers);
    part.window = std::max<int64_t>(1, plan.window / drivers
                                         + (i < plan.window % drivers));
    first += part.bookings;
    if (part.bookings > 0)
      spawned.push_back(sys.spawn(saga_driver, std::move(part)));
  }
  auto start = clock_type::now();
  r.start_ns = nanos(start);
  for (auto& d : spawned)
    self->send(d, run_atom::value, caf::actor{self});
  size_t created = 0;
  size_t done = 0;
  while (done < spawned.size()) {
    if (clock_type::now() - start > limit) {
      r.problems = plan.bookings - r.confirmed;
      r.first_problem = "gave up waiting for outcomes";
      break;
    }
    self->receive(
      [&](created_atom, int64_t) {
        if (++created == spawned.size()) {
          r.created_ns = nanos(clock_type::now());
          on_created();
        }
      },
      [&](done_atom, int64_t confirmed, int64_t problems, int64_t end_ns,
          std::string& problem) {
        ++done;
        r.confirmed += confirmed;
        r.problems += problems;
        r.outcome_ns = std::max(r.outcome_ns, end_ns);
        if (r.first_problem.empty())
          r.first_problem = std::move(problem);
      },
      caf::after(std::chrono::milliseconds(5)) >> [&] { sample(); });
  }
  for (auto& d : spawned)
    self->send_exit(d, caf::exit_reason::user_shutdown);
  return r;
}

/// Checks the invariants and that every booking confirmed; prints failures.
bool verify(caf::scoped_actor& self, const engine& e, int64_t bookings,
            bool idle, const char* phase) {
  auto world = collect_world(self, e);
  world.quiescent = idle && world.quiescent;
  auto report = check_invariants(world);
  auto confirmed = std::count_if(world.bookings.begin(), world.bookings.end(),
                                 [](auto& b) {
                                   return b.status == booking_status::confirmed;
                                 });
  bool ok = idle && report.ok()
            && static_cast<int64_t>(world.bookings.size()) == bookings
            && confirmed == bookings;
  if (!ok) {
    std::cerr << phase << ": " << (idle ? "" : "engine did not go idle; ")
              << world.bookings.size() << " bookings stored, " << confirmed
              << " confirmed, " << bookings << " expected\n"
              << report.to_text() << std::flush;
  }
  return ok;
}

struct memory_result {
  bool ran = false;
  bool ok = true;
  int64_t burst = 0;
  int64_t in_flight_at_sample = 0;
  double seconds_to_acknowledge = 0;
  int64_t rss_before = 0;
  int64_t rss_peak = 0;
  int64_t heap_before = 0;
  int64_t heap_peak = 0;
  /// Once the burst's messages are through and every saga waits on its
  /// payment: what the sagas hold, without the queues of the burst.
  int64_t heap_parked = 0;
  int64_t in_flight_parked = 0;
  int64_t heap_after = 0;
  int64_t rss_after = 0;

  double rss_per_saga() const {
    return static_cast<double>(rss_peak - rss_before) / burst;
  }
  double heap_per_saga() const {
    return static_cast<double>(heap_peak - heap_before) / burst;
  }
  double heap_parked_per_saga() const {
    return static_cast<double>(heap_parked - heap_before) / burst;
  }
  double retained_per_booking() const {
    return static_cast<double>(heap_after - heap_before) / burst;
  }
};

/// Fires `burst` bookings at once on an engine whose payment calls take
/// `hold`, and samples memory while they sit in flight.
memory_result
measure_memory(caf::actor_system& sys, const engine_settings& base,
               const engine_options& opts, const bench_options& bo) {
  memory_result m;
  m.burst = bo.mem_burst;
  if (bo.mem_burst <= 0)
    return m;
  m.ran = true;
  auto settings = base;
  auto hold = std::chrono::milliseconds(bo.mem_hold_ms);
  settings.faults.payment_latency = hold;
  // The held calls must not time out (under the burst a parked reply may
  // come late by seconds), and no coordinator may refuse.
  caf::timespan margin = std::max<caf::timespan>(2 * hold,
                                                 std::chrono::seconds(1));
  settings.saga.payment_timeout
    = std::max<caf::timespan>(settings.saga.payment_timeout, hold + margin);
  settings.saga.max_in_flight = std::max<size_t>(
    settings.saga.max_in_flight,
    static_cast<size_t>(bo.mem_burst) * settings.workers.saga_coordinators);
  engine e;
  if (!start_bench_engine(sys, settings, opts, e, "memory")) {
    m.ok = false;
    return m;
  }
  auto tours = bench_tours(bo.tours, bo.mem_burst);
  caf::scoped_actor self{sys};
  load_tours(self, e, tours);
  // Let the allocator settle, then take the baseline.
  malloc_trim(0);
  m.rss_before = rss_bytes();
  m.heap_before = heap_in_use_bytes();
  m.rss_peak = m.rss_before;
  m.heap_peak = m.heap_before;
  auto sample = [&] {
    m.rss_peak = std::max(m.rss_peak, rss_bytes());
    m.heap_peak = std::max(m.heap_peak, heap_in_use_bytes());
  };
  auto plan = make_plan(e, tours, bo.mem_burst, bo.mem_burst,
                        bo.client_timeout_ms);
  plan.await_outcomes = bo.mem_await != 0;
  auto r = drive(sys, self, plan, bo.drivers, drive_limit, sample, [&] {
    sample();
    m.in_flight_at_sample = collect_stats(self, e).in_flight;
    std::this_thread::sleep_for(
      std::chrono::milliseconds(std::min<int64_t>(1000, bo.mem_hold_ms / 4)));
    m.heap_parked = heap_in_use_bytes();
    m.in_flight_parked = collect_stats(self, e).in_flight;
  });
  auto idle = wait_idle(self, e, std::chrono::seconds(120));
  m.seconds_to_acknowledge = seconds_between(r.start_ns, r.created_ns);
  if (m.seconds_to_acknowledge * 1000 > bo.mem_hold_ms)
    std::cerr << "memory: creating the burst took longer than the hold; "
                 "raise --mem-hold-ms for a cleaner figure\n";
  m.ok = r.problems == 0 && verify(self, e, bo.mem_burst, idle, "memory");
  if (r.problems > 0)
    std::cerr << "memory: " << r.problems
              << " bookings did not confirm; first: " << r.first_problem
              << std::endl;
  // What stays once the CAF clock has dropped the burst's request timeouts:
  // the stored data alone.
  auto& sc = settings.saga;
  let_timeouts_expire(std::max(
    {sc.inventory_timeout, sc.payment_timeout, sc.notification_timeout}));
  malloc_trim(0);
  m.heap_after = heap_in_use_bytes();
  m.rss_after = rss_bytes();
  shut_down(self, e);
  return m;
}

struct throughput_result {
  bool ok = true;
  double outcome_seconds = 0;
  double full_seconds = 0;
  int64_t confirmed = 0;
  int64_t problems = 0;
  int64_t peak_rss = 0;
  saga_stats stats;
  /// CPU time of the whole process from the first `create` to idle.
  double cpu_seconds = 0;
  /// With a store: transactions and batches it wrote, and the CPU time of
  /// its thread, from the first `create` to idle (-1: thread not found);
  /// the size of the file plus its WAL at idle.
  bool durable = false;
  int64_t commits = 0;
  int64_t batches = 0;
  double store_cpu_seconds = -1;
  int64_t bytes_on_disk = 0;

  double batches_per_commit() const {
    return commits > 0 ? static_cast<double>(batches) / commits : 0.0;
  }

  double outcomes_per_second(int64_t n) const {
    return static_cast<double>(n) / outcome_seconds;
  }
  double sagas_per_second(int64_t n) const {
    return static_cast<double>(n) / full_seconds;
  }
};

throughput_result
measure_throughput(caf::actor_system& sys, const engine_settings& settings,
                   const engine_options& opts, const bench_options& bo) {
  throughput_result t;
  auto threads_before = thread_ids();
  engine e;
  if (!start_bench_engine(sys, settings, opts, e, "throughput")) {
    t.ok = false;
    return t;
  }
  t.durable = e.durable != nullptr;
  auto tours = bench_tours(bo.tours, bo.bookings);
  caf::scoped_actor self{sys};
  load_tours(self, e, tours);
  // load_tours went through the store, so its thread runs and has its name.
  auto store_tid = t.durable ? find_store_thread(threads_before) : "";
  auto store_ns0 = store_tid.empty() ? -1 : thread_cpu_ns(store_tid);
  int64_t commits0 = t.durable ? e.durable->commits.load() : 0;
  int64_t batches0 = t.durable ? e.durable->batches.load() : 0;
  auto cpu0 = process_cpu_seconds();
  auto plan = make_plan(e, tours, bo.bookings, bo.window, bo.client_timeout_ms);
  auto r = drive(
    sys, self, plan, bo.drivers, drive_limit, [] {}, [] {});
  auto idle = wait_idle(self, e, std::chrono::seconds(300));
  // With a store: until the history entries sent one-way are committed too.
  drain(self, e);
  auto full_ns = nanos(clock_type::now());
  t.cpu_seconds = process_cpu_seconds() - cpu0;
  if (store_ns0 >= 0) {
    auto store_ns1 = thread_cpu_ns(store_tid);
    if (store_ns1 >= 0)
      t.store_cpu_seconds = static_cast<double>(store_ns1 - store_ns0) / 1e9;
  }
  if (t.durable) {
    t.commits = e.durable->commits.load() - commits0;
    t.batches = e.durable->batches.load() - batches0;
    if (e.durable->failed())
      std::cerr << "throughput: the store failed: " << e.durable->reason()
                << std::endl;
    for (const char* suffix : {"", "-wal"}) {
      std::error_code ec;
      auto size = std::filesystem::file_size(settings.store.path + suffix, ec);
      if (!ec)
        t.bytes_on_disk += static_cast<int64_t>(size);
    }
  }
  t.outcome_seconds = seconds_between(r.start_ns, r.outcome_ns);
  t.full_seconds = seconds_between(r.start_ns, full_ns);
  t.confirmed = r.confirmed;
  t.problems = r.problems;
  // Before the check, which copies every booking.
  t.peak_rss = peak_rss_bytes();
  t.stats = collect_stats(self, e);
  if (r.problems > 0)
    std::cerr << "throughput: " << r.problems
              << " bookings did not confirm; first: " << r.first_problem
              << std::endl;
  if (t.durable && e.durable->failed())
    std::cerr << "throughput: the store failed: " << e.durable->reason()
              << std::endl;
  t.ok = r.problems == 0 && verify(self, e, bo.bookings, idle, "throughput")
         && !(t.durable && e.durable->failed());
  shut_down(self, e);
  return t;
}

// -- report -------------------------------------------------------------------

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, x);
  return buf;
}

std::string kib(double bytes) {
  return fixed(bytes / 1024, 2) + " KiB";
}

std::string mib(double bytes) {
  return fixed(bytes / (1024 * 1024), 1) + " MiB";
}

void row(const std::string& what, const std::string& value,
         const std::string& note = {}) {
  std::printf("  %-44s %16s  %s\n", what.c_str(), value.c_str(), note.c_str());
}

} // namespace

int main(int argc, char** argv) {
  bench_options bo;
  std::vector<std::string> rest;
  if (!parse_bench_options(argc, argv, bo, rest))
    return 2;
  // In memory unless the command line names a store (not the config file).
  bool store_given = std::any_of(rest.begin(), rest.end(), [](auto& arg) {
    return arg.compare(0, 13, "--store.path=") == 0 || arg == "--store.path";
  });
  if (!store_given)
    rest.emplace_back("--store.path=:memory:");
  booking_config cfg;
  if (bo.help) {
    std::cout << usage;
    load_config(cfg, std::vector<std::string>{"--help"});
    return 0;
  }
  if (auto rc = early_exit(load_config(cfg, rest)))
    return *rc;
  auto& settings = cfg.settings;
  if (static_cast<size_t>(bo.window) > settings.saga.max_in_flight)
    std::cerr << "warning: --window exceeds saga.max-in-flight; expect "
                 "overloaded refusals\n";
  set_log_level(log_level::warn);
  engine_options opts;
  opts.sink = nullptr;
  caf::actor_system sys{cfg};
  auto policy
    = to_string(caf::get_or(cfg, "scheduler.policy", caf::atom("stealing")));
  auto threads = sys.scheduler().num_workers();

  auto mem = measure_memory(sys, settings, opts, bo);
  ceiling_result ceiling_timeout;
  ceiling_result ceiling_plain;
  if (bo.ceiling_seconds > 0) {
    ceiling_plain = measure_ceiling(sys, bo.ceiling_pairs, bo.ceiling_window,
                                    bo.ceiling_seconds, false);
    ceiling_timeout = measure_ceiling(sys, bo.ceiling_pairs, bo.ceiling_window,
                                      bo.ceiling_seconds, true);
    let_timeouts_expire(echo_timeout);
  }
  auto tp = measure_throughput(sys, settings, opts, bo);
  floor_result fl;
  if (tp.durable && bo.floor_sagas > 0) {
    fl.ran = true;
    // As many sagas per transaction as the throughput phase's commits held.
    fl.per_commit
      = std::max<int64_t>(1, bo.bookings / std::max<int64_t>(1, tp.commits));
    fl.sqlite_us_per_saga = sqlite_floor_us(settings.store.path + "-floor",
                                            bo.floor_sagas, fl.per_commit,
                                            fl.commit_off_cpu_ms);
    fl.ok = measure_handoffs(sys, bo.ceiling_pairs,
                             std::max<int64_t>(1, bo.window / bo.ceiling_pairs),
                             bo.ceiling_seconds > 0 ? bo.ceiling_seconds : 2.0,
                             fl)
            && fl.sqlite_us_per_saga > 0;
  }

  auto sagas = tp.sagas_per_second(bo.bookings);
  auto outcomes = tp.outcomes_per_second(bo.bookings);
  // The ceiling is the faster of the two round-trip runs.
  auto ceiling = std::max(ceiling_timeout.round_trips_per_second,
                          ceiling_plain.round_trips_per_second);
  auto of_target = sagas / target_sagas_per_second;
  auto of_ceiling = ceiling > 0 ? sagas / ceiling : 0.0;
  auto rt_share = of_ceiling * round_trips_per_saga;
  auto& w = settings.workers;

  std::printf("saga-throughput: %lld bookings, window %lld, %d tours; "
              "scheduler %s, %zu threads; coordinators %zu, booking %zu, "
              "inventory %zu, payment %zu, notification %zu\n",
              static_cast<long long>(bo.bookings),
              static_cast<long long>(bo.window), bo.tours, policy.c_str(),
              threads, w.saga_coordinators, w.booking_shards,
              w.inventory_shards, w.payment_workers, w.notification_workers);
  std::printf("throughput\n");
  row("sagas completed/s (incl. notification)", fixed(sagas, 0),
      fixed(of_target, 3) + " of the 50000/s target");
  row("outcomes/s (await replies)", fixed(outcomes, 0),
      fixed(tp.full_seconds, 2) + " s full, " + fixed(tp.outcome_seconds, 2)
        + " s to last outcome");
  if (ceiling > 0) {
    std::printf("ceiling (%d echo pair(s), %lld in flight each)\n",
                bo.ceiling_pairs, static_cast<long long>(bo.ceiling_window));
    row("round trips/s, request with timeout",
        fixed(ceiling_timeout.round_trips_per_second, 0));
    row("round trips/s, request without timeout",
        fixed(ceiling_plain.round_trips_per_second, 0));
    auto timed = ceiling_timeout.round_trips_per_second;
    auto rt_share_timed = timed > 0 ? sagas * round_trips_per_saga / timed
                                    : 0.0;
    row("sagas/s / ceiling round trips/s", fixed(of_ceiling, 4),
        "x" + std::to_string(round_trips_per_saga)
          + " round trips per saga: " + fixed(rt_share, 3) + " of the ceiling, "
          + fixed(rt_share_timed, 3) + " of the rate with timeout");
  }
  if (mem.ran) {
    std::printf("memory (burst of %lld held by a %lld ms payment latency, %s; "
                "%lld in flight when all were acknowledged, after %.2f s)\n",
                static_cast<long long>(mem.burst),
                static_cast<long long>(bo.mem_hold_ms),
                bo.mem_await ? "a client awaits each outcome"
                             : "no client awaits the outcomes",
                static_cast<long long>(mem.in_flight_at_sample),
                mem.seconds_to_acknowledge);
    row("VmRSS before -> peak",
        mib(mem.rss_before) + " -> " + mib(mem.rss_peak));
    row("per in-flight saga, RSS (upper bound)", kib(mem.rss_per_saga()),
        fixed(mem.rss_per_saga() / target_bytes_per_saga, 2)
          + " of the 2 KiB target");
    if (mem.heap_peak > mem.heap_before) {
      row("per in-flight saga, heap in use", kib(mem.heap_per_saga()),
          fixed(mem.heap_per_saga() / target_bytes_per_saga, 2)
            + " of the 2 KiB target");
      row("per in-flight saga, heap once parked",
          kib(mem.heap_parked_per_saga()),
          fixed(mem.heap_parked_per_saga() / target_bytes_per_saga, 2)
            + " of the target; " + std::to_string(mem.in_flight_parked)
            + " in flight");
      row("kept per finished booking, heap", kib(mem.retained_per_booking()),
          "record + history, hold, payment, notification");
      row("transient per in-flight saga, heap",
          kib(mem.heap_per_saga() - mem.retained_per_booking()));
    } else {
      row("heap figures", "n/a", "the allocator reports no heap in use");
    }
  }
  row("peak RSS of the process (VmHWM)", mib(tp.peak_rss),
      "before the final invariant check");
  row("CPU of the process, throughput phase",
      fixed(tp.cpu_seconds / tp.full_seconds, 2) + " cores",
      fixed(tp.cpu_seconds * 1e6 / static_cast<double>(bo.bookings), 1)
        + " us per saga");
  if (tp.durable) {
    auto commits_per_s = static_cast<double>(tp.commits) / tp.full_seconds;
    std::printf("store %s (fresh file per engine; throughput phase)\n",
                settings.store.path.c_str());
    row("transactions committed", std::to_string(tp.commits),
        fixed(commits_per_s, 0) + "/s");
    row("batches written", std::to_string(tp.batches),
        fixed(static_cast<double>(tp.batches) / bo.bookings, 2) + " per saga");
    row("batches per commit (group commit)", fixed(tp.batches_per_commit(), 1));
    if (tp.store_cpu_seconds >= 0)
      row("CPU of the store thread",
          fixed(tp.store_cpu_seconds / tp.full_seconds, 2) + " cores",
          fixed(tp.commits > 0 ? tp.store_cpu_seconds * 1e6 / tp.commits : 0, 0)
            + " us per commit");
    else
      row("CPU of the store thread", "n/a", "thread not found");
    row("file + WAL at idle", mib(static_cast<double>(tp.bytes_on_disk)));
  }
  if (fl.ran) {
    std::printf("store floor (the least CPU that makes a saga durable; same "
                "disk, same run)\n");
    row("SQLite alone, " + std::to_string(floor_rows_per_saga)
          + " rows per saga",
        fixed(fl.sqlite_us_per_saga, 2) + " us",
        std::to_string(bo.floor_sagas) + " sagas, "
          + std::to_string(fl.per_commit) + " per commit");
    row("SQLite alone, off the CPU per commit",
        fixed(fl.commit_off_cpu_ms, 2) + " ms", "the fsync, mostly");
    row("a wait for a commit", fixed(fl.handoff_us, 2) + " us",
        "per round trip; " + std::to_string(fl.handoffs) + " round trips");
    row("a change sent one-way", fixed(fl.oneway_us, 2) + " us",
        "per message; " + std::to_string(fl.oneways) + " messages");
    row("floor per saga", fixed(fl.us_per_saga(), 2) + " us",
        "SQLite + " + std::to_string(floor_waits_per_saga) + " waits + "
          + std::to_string(floor_rows_per_saga - floor_waits_per_saga)
          + " one-way");
  }
  for (auto* c : {&ceiling_plain, &ceiling_timeout})
    if (c->errors > 0)
      std::cerr << "ceiling: " << c->errors << " round trips failed"
                << std::endl;
  bool ok = tp.ok && mem.ok && ceiling_timeout.errors == 0
            && ceiling_plain.errors == 0 && fl.ok;
  std::printf("invariants and outcomes: %s\n", ok ? "ok" : "FAILED");

  if (bo.json) {
    std::printf(
      "{\"bookings\":%lld,\"window\":%lld,\"tours\":%d,\"policy\":\"%s\","
      "\"threads\":%zu,\"coordinators\":%zu,"
      "\"sagas_per_s\":%.1f,\"outcomes_per_s\":%.1f,\"full_s\":%.3f,"
      "\"ceiling_rt_per_s\":%.1f,\"ceiling_rt_timeout_per_s\":%.1f,"
      "\"ceiling_rt_plain_per_s\":%.1f,\"target_ratio\":%.4f,"
      "\"ceiling_ratio\":%.5f,\"round_trips_per_saga\":%d,"
      "\"mem_burst\":%lld,\"rss_per_inflight_bytes\":%.1f,"
      "\"heap_per_inflight_bytes\":%.1f,\"heap_parked_per_inflight_bytes\":%."
      "1f,"
      "\"heap_kept_per_booking_bytes\":%.1f,"
      "\"heap_transient_per_inflight_bytes\":%.1f,"
      "\"peak_rss_bytes\":%lld,\"cpu_s\":%.3f,\"durable\":%s,"
      "\"store_commits\":%lld,\"store_batches\":%lld,"
      "\"batches_per_commit\":%.2f,\"store_commits_per_s\":%.1f,"
      "\"store_thread_cpu_s\":%.3f,\"store_bytes\":%lld,"
      "\"floor_rows_per_saga\":%d,\"floor_sagas_per_commit\":%lld,"
      "\"floor_sqlite_us_per_saga\":%.3f,\"floor_handoff_us\":%.3f,"
      "\"floor_oneway_us\":%.3f,"
      "\"floor_us_per_saga\":%.3f,\"floor_commit_off_cpu_ms\":%.3f,"
      "\"ok\":%s}\n",
      static_cast<long long>(bo.bookings), static_cast<long long>(bo.window),
      bo.tours, policy.c_str(), threads, w.saga_coordinators, sagas, outcomes,
      tp.full_seconds, ceiling, ceiling_timeout.round_trips_per_second,
      ceiling_plain.round_trips_per_second, of_target, of_ceiling,
      round_trips_per_saga, static_cast<long long>(mem.ran ? mem.burst : 0),
      mem.ran ? mem.rss_per_saga() : 0.0, mem.ran ? mem.heap_per_saga() : 0.0,
      mem.ran ? mem.heap_parked_per_saga() : 0.0,
      mem.ran ? mem.retained_per_booking() : 0.0,
      mem.ran ? mem.heap_per_saga() - mem.retained_per_booking() : 0.0,
      static_cast<long long>(tp.peak_rss), tp.cpu_seconds,
      tp.durable ? "true" : "false", static_cast<long long>(tp.commits),
      static_cast<long long>(tp.batches), tp.batches_per_commit(),
      static_cast<double>(tp.commits) / tp.full_seconds, tp.store_cpu_seconds,
      static_cast<long long>(tp.bytes_on_disk), floor_rows_per_saga,
      static_cast<long long>(fl.per_commit), fl.sqlite_us_per_saga,
      fl.handoff_us, fl.oneway_us, fl.ran ? fl.us_per_saga() : 0.0,
      fl.commit_off_cpu_ms, ok ? "true" : "false");
  }
  std::fflush(stdout);
  return ok ? 0 : 1;
}
