// booking-server: runs the booking engine until SIGINT or SIGTERM, or, with
// `--demo N`, runs N demo bookings and exits with the invariant check.

#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <caf/actor_system.hpp>

#include "actors/codec/json_codec.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "config/booking_config.hpp"
#include "config/demo.hpp"
#include "config/wiring.hpp"
#include "http/server.hpp"

using namespace booking;

namespace {

/// Blocks the stop signals in every thread started from now on, so that
/// only `wait_for_stop_signal` sees them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int wait_for_stop_signal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

/// Raises the open-file limit to its maximum: every HTTP connection takes a
/// descriptor, and the default soft limit is far below http.max-connections.
void raise_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

/// Reads the tours file; on failure prints why (naming the option) and
/// returns false.
bool read_tours(const std::string& path, std::vector<tour>& out) {
  std::ifstream in{path};
  if (!in) {
    std::cerr << "tours: cannot read \"" << path << "\"\n";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  problem err;
  if (!parse_tours(text.str(), out, err)) {
    std::cerr << "tours: " << path << ": " << err.detail;
    for (auto& fe : err.errors)
      std::cerr << " " << fe.field << " " << fe.message << ";";
    std::cerr << "\n";
    return false;
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  auto stop_signals = block_stop_signals();
  booking_config cfg;
  if (auto rc = early_exit(load_config(cfg, argc, argv)))
    return *rc;
  auto& settings = cfg.settings;
  if (cfg.demo > 0) {
    set_log_level(log_level::warn);
    caf::actor_system sys{cfg};
    engine_options opts;
    opts.sink = nullptr; // deliver silently: the demo prints a summary
    auto e = start_engine(sys, settings, opts);
    auto rc = run_demo(sys, e, cfg.demo, settings.faults.seed, std::cout);
    e.stop();
    return rc;
  }
  std::vector<tour> tours;
  if (!cfg.tours_file.empty() && !read_tours(cfg.tours_file, tours))
    return 2;
  auto store = open_store(settings.store);
  if (!store) {
    log_line(log_level::error, "cannot open the store",
             {{"path", settings.store.path},
              {"error", describe(store.error())}});
    return 1;
  }
  if (*store)
    log_line(log_level::info, "store opened",
             {{"path", settings.store.path},
              log_number("bookings",
                         static_cast<int64_t>((*store)->state.bookings.size())),
              log_number("unfinished_sagas",
                         static_cast<int64_t>((*store)->state.sagas.size())),
              log_number("unpublished_events", (*store)->state.outbox_events)});
  engine_options opts;
  if (cfg.redrive_all && *store) {
    auto parked = (*store)->db->load_parked();
    if (!parked) {
      log_line(log_level::error, "cannot read the sagas to re-drive",
               {{"path", settings.store.path},
                {"error", describe(parked.error())}});
      return 1;
    }
    opts.redrive = std::move(*parked);
    log_line(log_level::info, "re-driving every compensation_failed booking",
             {log_number("count", static_cast<int64_t>(opts.redrive.size()))});
  }
  caf::actor_system sys{cfg};
  opts.store = std::move(*store);
  auto e = start_engine(sys, settings, std::move(opts));
  try {
    caf::scoped_actor self{sys};
    load_tours(self, e, tours);
  } catch (const std::exception& ex) {
    log_line(log_level::error, "cannot load the tours",
             {{"file", cfg.tours_file}, {"error", ex.what()}});
    e.stop();
    return 1;
  }
  std::string counts;
  for (auto& [role, n] : e.actor_counts())
    counts += (counts.empty() ? "" : ",") + role + "=" + std::to_string(n);
  log_line(
    log_level::info, "engine started",
    {{"config", cfg.config_file},
     {"actors", counts},
     {"scheduler_threads", std::to_string(sys.scheduler().num_workers())}});
  raise_file_limit();
  auto http_opts = http_options_from_env();
  http_opts.gate = e.gate;
  http_opts.store_metrics = [&e] { return e.store_figures(); };
  if (auto st = e.durable)
    http_opts.ready.store = [st] {
      return st->failed() ? check_state::down : check_state::ok;
    };
  http_opts.ready.suspended = describe_suspended(e.suspended);
  if (auto st = e.amqp) {
    // Ready once the publisher is connected and the intake consumer is
    // attached; `starting` until the first attempt ends.
    http_opts.ready.amqp = [st] {
      if (st->publisher_up && st->consumer_up && st->stuck().empty())
        return check_state::ok;
      return st->tried ? check_state::down : check_state::starting;
    };
    http_opts.ready.amqp_problem = [st] {
      auto stuck = st->stuck();
      return stuck.empty() ? st->problem() : stuck;
    };
    http_opts.amqp_metrics = [st, gate = e.gate] {
      amqp_counters c;
      c.published = st->published;
      c.confirmed = st->confirmed;
      c.nacked = st->nacked;
      c.returned = st->returned;
      c.consumed = st->consumed;
      c.acked = st->acked;
      c.rejected = st->rejected;
      c.dead_lettered = st->dead_lettered;
      c.outbox_backlog = gate->outbox_backlog;
      c.outbox_lag_seconds = gate->outbox_lag(caf::make_timestamp());
      c.reconnects = st->reconnects;
      return c;
    };
  }
  http_server api{
    sys, api_peers{e.desk, e.availability, e.notification, e.actor_counts()},
    settings.http, std::move(http_opts)};
  try {
    api.start();
  } catch (const std::exception& ex) {
    log_line(log_level::error, "cannot listen",
             {{"address", settings.http.address},
              {"port", std::to_string(settings.http.port)},
              {"error", ex.what()}});
    e.stop();
    return 1;
  }
  auto sig = wait_for_stop_signal(stop_signals);
  log_line(log_level::info, "stopping",
           {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  api.stop();
  {
    // Let running sagas reach their outcome before the actors go away.
    caf::scoped_actor self{sys};
    if (!wait_idle(self, e, std::chrono::seconds(30)))
      log_line(log_level::warn, "sagas still running at shutdown");
    shut_down(self, e);
  }
  log_line(log_level::info, "stopped");
  return 0;
}
