#include "config/wiring.hpp"

#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <caf/actor_cast.hpp>
#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <unistd.h>

#include "actors/errors.hpp"
#include "actors/faults.hpp"
#include "actors/log.hpp"
#include "actors/shard.hpp"
#include "actors/store/memory_store.hpp"

namespace booking {

namespace {

/// Names this process in the events' `source`: the host name.
std::string node_id() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == 0)
    return "local";
  return buf;
}

// Seed streams per role, so that adding a worker of one role does not shift
// the faults another role sees.
constexpr uint64_t inventory_stream = 1000;
constexpr uint64_t payment_stream = 2000;
constexpr uint64_t notification_stream = 3000;
constexpr uint64_t coordinator_stream = 4000;

constexpr auto ask_timeout = std::chrono::seconds(60);

/// One blocking request; `pump` runs a test scheduler in between.
template <class T, class Handle, class... Ts>
T ask(caf::scoped_actor& self, const pump_fn& pump, const Handle& dest,
      Ts&&... xs) {
  auto handle = self->request(dest, ask_timeout, std::forward<Ts>(xs)...);
  if (pump)
    pump();
  T result;
  handle.receive([&](T& x) { result = std::move(x); },
                 [&](caf::error& e) {
                   throw std::runtime_error("request failed: " + describe(e));
                 });
  return result;
}

/// The seed of worker `index` of a role after `restarts` restarts: a
/// restarted worker draws a fresh stream, the same one in every run.
uint64_t worker_seed(uint64_t seed, uint64_t stream, size_t index,
                     uint64_t restarts) {
  auto x = derive_seed(seed, stream + index);
  return restarts == 0 ? x : derive_seed(x, restarts);
}

} // namespace

/// Front desks behind the desk's pool; not a setting, as they hold no state
/// and the scheduler threads, not their number, bound their throughput.
constexpr size_t front_desks = 2;

/// The workers behind the pools, and how to spawn each role's workers
/// again: what `crash_worker` needs to restart one behind the same handle.
struct worker_registry {
  /// Spawns worker `index` of a role after `restarts` restarts, on the
  /// role's shared state; `predecessor` is the worker it replaces (empty at
  /// start).
  using factory = std::function<caf::actor(caf::actor_system& sys, size_t index,
                                           uint64_t restarts,
                                           const caf::actor& predecessor)>;

  /// One worker and the pool it serves in.
  struct slot {
    caf::actor pool;
    caf::actor worker;
    uint64_t restarts = 0;
  };

  struct role {
    factory spawn;
    std::vector<slot> slots;
  };

  /// `crash_worker` may run on any thread (e.g. inside an actor).
  std::mutex mtx;
  std::map<std::string, role> roles;
};

namespace {

/// Sends every call about one booking to the same slot of `role`, chosen by
/// the booking id (the call's string or request argument), and there to
/// the slot's current worker: a worker that reads a booking back from the
/// store then sees all calls about it, in order, restarts included (a
/// restarted worker takes its predecessor's slot). Calls without one go
/// round robin. The registry holds the pool, so the pool's policy holds the
/// registry weakly.
caf::actor_pool::policy by_booking(std::weak_ptr<worker_registry> registry,
                                   std::string role) {
  auto next = std::make_shared<std::atomic<size_t>>(0);
  return [registry, role,
          next](caf::actor_system&, caf::actor_pool::uplock& guard,
                const caf::actor_pool::actor_vec& workers,
                caf::mailbox_element_ptr& ptr, caf::execution_unit* host) {
    auto& msg = ptr->content();
    const std::string* key = nullptr;
    if (msg.size() == 2) {
      if (msg.match_element<std::string>(1))
        key = &msg.get_as<std::string>(1);
      else if (msg.match_element<payment_request>(1))
        key = &msg.get_as<payment_request>(1).booking_id;
      else if (msg.match_element<notification_request>(1))
        key = &msg.get_as<notification_request>(1).booking_id;
    }
    auto reg = key != nullptr ? registry.lock() : nullptr;
    caf::actor selected;
    if (reg == nullptr) {
      selected = workers[(*next)++ % workers.size()];
      guard.unlock();
    } else {
      // The pool's lock goes first: `crash_worker` holds the registry's
      // while it adds a worker to the pool.
      guard.unlock();
      std::lock_guard<std::mutex> lock{reg->mtx};
      auto& slots = reg->roles[role].slots;
      selected = slots[shard_index(*key, slots.size())].worker;
    }
    selected->enqueue(std::move(ptr), host);
  };
}

/// A pool of workers `first` to `first + n - 1` of `r`, dispatching by
/// `policy`.
caf::actor
make_pool(caf::actor_system& sys, worker_registry::role& r, size_t first,
          size_t n,
          caf::actor_pool::policy policy = caf::actor_pool::round_robin()) {
  auto index = first;
  std::vector<caf::actor> spawned;
  auto pool = caf::actor_pool::make(
    sys.dummy_execution_unit(), n,
    [&] {
      spawned.push_back(r.spawn(sys, index++, 0, caf::actor{}));
      return spawned.back();
    },
    std::move(policy));
  for (auto& w : spawned)
    r.slots.push_back({pool, w, 0});
  return pool;
}

} // namespace

const saga_coordinator_actor&
engine::coordinator_for(const std::string& id) const {
  return shard_for(coordinators, id);
}

const inventory_actor& engine::inventory_for(const std::string& tour_id) const {
  return shard_for(inventory, tour_id);
}

std::string describe_suspended(const std::vector<suspended_saga>& xs) {
  if (xs.empty())
    return {};
  constexpr size_t shown = 3;
  auto text = std::to_string(xs.size()) + (xs.size() == 1 ? " saga" : " sagas")
              + " suspended, left as stored until a release has their "
                "table: ";
  for (size_t i = 0; i < xs.size() && i < shown; ++i)
    text += (i > 0 ? "; " : "") + xs[i].key + " (" + xs[i].why + ")";
  if (xs.size() > shown)
    text += "; and " + std::to_string(xs.size() - shown) + " more";
  return text;
}

store_counters engine::store_figures() const {
  store_counters c;
  if (durable) {
    c.commits = durable->commits;
    c.batches = durable->batches;
    c.up = !durable->failed();
    c.sqlite_memory_bytes = durable->sqlite_memory;
  }
  if (bookings_held)
    c.cached_bookings = *bookings_held;
  c.suspended_sagas = static_cast<int64_t>(suspended.size());
  return c;
}

std::vector<std::pair<std::string, size_t>> engine::actor_counts() const {
  return {{"booking", bookings.size()},
          {"inventory", inventory.size()},
          {"availability", 1},
          {"payment", payment_workers},
          {"notification", notification_workers},
          {"saga", coordinators.size()}};
}

void engine::stop() {
  auto bye = [](const auto& h) {
    if (h)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  };
  // Intake first, so no new booking starts; the publisher last, so it can
  // flush what the others emitted.
  bye(intake);
  bye(desk);
  for (auto& h : coordinators)
    bye(h);
  for (auto& h : bookings)
    bye(h);
  for (auto& h : inventory)
    bye(h);
  bye(availability);
  bye(idempotency);
  bye(payment);
  bye(payment_pool);
  bye(notification_pool);
  bye(publisher);
  // Last: it commits what the others sent before they stopped.
  bye(store);
}

caf::expected<std::shared_ptr<opened_store>>
open_store(const store_settings& cfg) {
  if (cfg.path == ":memory:")
    return std::shared_ptr<opened_store>{};
  auto dir = std::filesystem::path{cfg.path}.parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::exists(dir, ec)
      && !std::filesystem::create_directories(dir, ec))
    return make_error(booking_errc::store_error,
                      cfg.path
                        + ": cannot create its directory: " + ec.message());
  auto db = sqlite_store::open(cfg.path);
  if (!db)
    return std::move(db.error());
  auto state = (*db)->load(load_scope::unfinished);
  if (!state)
    return std::move(state.error());
  auto result = std::make_shared<opened_store>();
  result->db = std::move(*db);
  result->state = std::move(*state);
  return result;
}

engine start_engine(caf::actor_system& sys, const engine_settings& cfg,
                    engine_options opts) {
  auto& w = cfg.workers;
  auto& f = cfg.faults;
  engine e;
  e.gate = std::make_shared<backpressure>(cfg.saga.max_in_flight,
                                          cfg.amqp.max_backlog);
  // The actors work on in-memory repositories; with a durable store these
  // start from what it holds, and every change goes through it as well.
  stored_state loaded;
  if (opts.store) {
    e.durable = std::make_shared<store_status>();
    e.store = spawn_store(sys, opts.store->db, e.durable, e.gate);
    loaded = std::move(opts.store->state);
    opts.store.reset(); // the store actor owns the file now
  }
  e.gateway = std::make_shared<payment_gateway>();
  for (auto& row : loaded.payments)
    e.gateway->restore(row);
  auto notifications = std::make_shared<memory_notification_repository>();
  for (auto& rec : loaded.notifications)
    notifications->restore(std::move(rec));
  e.notifications = notifications;
  e.availability = spawn_availability(sys);
  auto keys = std::make_shared<memory_idempotency_repository>();
  for (auto& entry : loaded.keys)
    keys->insert(std::move(entry));
  e.idempotency = spawn_idempotency(sys, keys, e.store);
  std::vector<std::shared_ptr<memory_booking_repository>> booking_repos;
  for (size_t i = 0; i < w.booking_shards; ++i)
    booking_repos.push_back(std::make_shared<memory_booking_repository>());
  for (auto& rec : loaded.bookings)
    if (!booking_repos[shard_index(rec.id, w.booking_shards)]->insert(rec))
      log_line(log_level::warn, "stored booking not loaded",
               {{"booking_id", rec.id}});
  // The cache is shared out evenly, rounded up: a shard keeps at least the
  // booking it is working on.
  booking_cache cache;
  cache.capacity = (cfg.store.cache_bookings + w.booking_shards - 1)
                   / w.booking_shards;
  cache.held = e.bookings_held;
  cache.by_status = e.bookings_by_status;
  e.bookings_by_status->reset(loaded.status_counts);
  for (auto& repo : booking_repos)
    e.bookings.push_back(spawn_booking(sys, repo, e.store, cache));
  std::vector<std::shared_ptr<memory_inventory_repository>> inventory_repos;
  for (size_t i = 0; i < w.inventory_shards; ++i)
    inventory_repos.push_back(std::make_shared<memory_inventory_repository>());
  for (auto& t : loaded.tours)
    inventory_repos[shard_index(t.id, w.inventory_shards)]->upsert_tour(t);
  // The departures' counts include every hold, loaded or not (those of
  // finished bookings stay in the file).
  for (auto& c : loaded.counts)
    inventory_repos[shard_index(c.tour_id, w.inventory_shards)]->restore_counts(
      c);
  for (auto& h : loaded.holds)
    inventory_repos[shard_index(h.tour_id, w.inventory_shards)]->restore_hold(
      h);
  e.workers = std::make_shared<worker_registry>();
  auto& roles = e.workers->roles;
  auto& inventory = roles["inventory"];
  inventory.spawn = [repos = inventory_repos, availability = e.availability, f,
                     outages = opts.outages,
                     store = e.store](caf::actor_system& sys, size_t i,
                                      uint64_t restarts,
                                      const caf::actor& predecessor) {
    inventory_options io{availability,
                         f.inventory_error_rate,
                         f.inventory_latency,
                         worker_seed(f.seed, inventory_stream, i, restarts),
                         outages,
                         predecessor};
    return caf::actor_cast<caf::actor>(
      spawn_inventory(sys, repos[i], std::move(io), store));
  };
  // Each shard behind a pool of one: its handle stays when the shard is
  // replaced.
  for (size_t i = 0; i < w.inventory_shards; ++i)
    e.inventory.push_back(
      caf::actor_cast<inventory_actor>(make_pool(sys, inventory, i, 1)));
  if (!loaded.tours.empty()) {
    // The availability read model starts from the stored seat counts.
    caf::scoped_actor self{sys};
    for (auto& t : loaded.tours) {
      self->send(e.availability, caf::put_atom::value, t);
      auto& repo = *inventory_repos[shard_index(t.id, w.inventory_shards)];
      for (auto& c : repo.departures_of(t.id))
        self->send(e.availability, c);
    }
  }
  e.payment_workers = w.payment_workers;
  auto& payment = roles["payment"];
  payment.spawn = [gateway = e.gateway, f, outages = opts.outages,
                   store = e.store](caf::actor_system& sys, size_t i,
                                    uint64_t restarts, const caf::actor&) {
    payment_options po{f.payment_decline_rate,
                       f.payment_timeout_rate,
                       f.payment_error_rate,
                       f.payment_latency,
                       worker_seed(f.seed, payment_stream, i, restarts),
                       f.refund_error_rate,
                       outages};
    return caf::actor_cast<caf::actor>(
      spawn_payment_worker(sys, gateway, std::move(po), store));
  };
  e.payment_pool = make_pool(sys, payment, 0, w.payment_workers,
                             by_booking(e.workers, "payment"));
  e.payment = caf::actor_cast<payment_actor>(e.payment_pool);
  if (opts.wrap_payment)
    e.payment = opts.wrap_payment(sys, e.payment);
  e.notification_workers = w.notification_workers;
  auto& notification = roles["notification"];
  notification.spawn = [repo = e.notifications, f, sink = opts.sink,
                        outages = opts.outages,
                        store = e.store](caf::actor_system& sys, size_t i,
                                         uint64_t restarts, const caf::actor&) {
    notification_options no{
      f.notification_error_rate, f.notification_latency,
      worker_seed(f.seed, notification_stream, i, restarts), sink, outages};
    return caf::actor_cast<caf::actor>(
      spawn_notification_worker(sys, repo, std::move(no), store));
  };
  e.notification_pool = make_pool(sys, notification, 0, w.notification_workers,
                                  by_booking(e.workers, "notification"));
  e.notification = caf::actor_cast<notification_actor>(e.notification_pool);
  // With a broker, the publisher bridge receives every saga's events.
  auto events = opts.events;
  if (!cfg.amqp.url.empty()) {
    if (!cfg.amqp.verify && cfg.amqp.url.rfind("amqps://", 0) == 0)
      log_line(log_level::warn, "amqp.verify is off: the broker's "
                                "certificate and host name go unchecked");
    e.amqp = std::make_shared<bridge_status>();
    e.amqp->stall_limit = cfg.amqp.stall_timeout;
    e.publisher = spawn_publisher(sys, cfg.amqp, e.amqp, e.gate, e.store,
                                  node_id());
    if (!events)
      events = e.publisher;
  }
  if (e.store) {
    if (e.publisher) {
      // Committed events leave through the store (the transactional
      // outbox), the ones an earlier run left unconfirmed first: they are
      // the backlog to start with. Two confirm windows at the publisher
      // keep it busy while confirms come back.
      e.gate->outbox_backlog += loaded.outbox_events;
      caf::anon_send(e.store, outbox_sink_actor{e.publisher},
                     2 * cfg.amqp.confirm_window);
    } else {
      // Only a publisher takes events out of the outbox: without one,
      // sagas build none, and what an earlier run left waits in the table
      // for a broker (it is no backlog of this run).
      events = event_sink_actor{};
    }
  }
  saga_participants peers{e.bookings, e.inventory,    e.availability,
                          e.payment,  e.notification, events};
  auto tables = release_tables(cfg.saga);
  if (opts.adjust_tables) {
    opts.adjust_tables(tables);
    tables.stamp_all();
  }
  // A saga whose table version this release lacks is never resumed on
  // another table: it stays in the store as it is, for a release that has
  // the version (docs/upgrades.md).
  // Each coordinator logs and skips its own (see `resume`); the count and
  // the list for /readyz and /metrics are taken here.
  e.suspended = find_suspended(tables, loaded.sagas);
  if (!e.suspended.empty())
    log_line(log_level::error, "sagas suspended",
             {log_number("count", static_cast<int64_t>(e.suspended.size()))});
  for (size_t i = 0; i < w.saga_coordinators; ++i) {
    coordinator_options co;
    co.tables = tables;
    co.gate = e.gate;
    co.lookup_timeout = cfg.saga.inventory_timeout;
    co.seed = derive_seed(cfg.saga.seed, coordinator_stream + i);
    co.durable = static_cast<bool>(e.store);
    for (auto& cp : loaded.sagas)
      if (shard_index(cp.req.id, w.saga_coordinators) == i)
        co.recovered.push_back(cp);
    for (auto& cp : opts.redrive)
      if (shard_index(cp.req.id, w.saga_coordinators) == i)
        co.redrive.push_back(cp);
    e.coordinators.push_back(spawn_saga_coordinator(sys, peers, co));
  }
  // The desk holds no state, so a few of them sit behind a round-robin
  // pool: the edges' requests do not queue behind one mailbox (see
  // BENCHMARKS.md, "The front desk").
  front_desk_peers desk_peers{e.coordinators, e.bookings, e.inventory,
                              e.idempotency,  e.store,    e.bookings_by_status};
  e.desk = caf::actor_cast<front_desk_actor>(caf::actor_pool::make(
    sys.dummy_execution_unit(), front_desks,
    [&] {
      return caf::actor_cast<caf::actor>(spawn_front_desk(sys, desk_peers));
    },
    caf::actor_pool::round_robin()));
  if (!cfg.amqp.url.empty()) {
    intake_options io;
    io.node_id = node_id();
    io.fault = opts.intake_fault;
    e.intake = spawn_intake_consumer(sys, cfg.amqp, e.amqp,
                                     intake_peers{e.desk, e.publisher}, io);
  }
  return e;
}

const std::vector<std::string>& crashable_roles() {
  static const std::vector<std::string> roles{"inventory", "payment",
                                              "notification"};
  return roles;
}

std::string crash_worker(caf::actor_system& sys, engine& e,
                         const std::string& role, size_t index) {
  if (!e.workers)
    throw std::logic_error("crash_worker: the engine has no workers");
  auto& reg = *e.workers;
  std::lock_guard<std::mutex> guard{reg.mtx};
  auto i = reg.roles.find(role);
  if (i == reg.roles.end() || i->second.slots.empty())
    throw std::invalid_argument("crash_worker: no workers of role " + role);
  auto& r = i->second;
  auto n = index % r.slots.size();
  auto& s = r.slots[n];
  auto name = role + "#" + std::to_string(n);
  auto old = s.worker;
  auto fresh = r.spawn(sys, n, s.restarts + 1, old);
  // The replacement joins first: a pool whose last worker goes down quits
  // for good. The pool handles this at enqueue time, so it is done here.
  caf::anon_send(s.pool, caf::sys_atom::value, caf::put_atom::value, fresh);
  // The kill goes to the urgent queue (`anon_send_exit` would queue it
  // behind the mailbox), so the worker dies after the message it is on and
  // the requests still queued are answered with `request_receiver_down`.
  // The pool then sees the down message and drops the worker; until then it
  // may still route calls there, which get the same error.
  caf::anon_send<caf::message_priority::high>(
    old, caf::exit_msg{old.address(), caf::exit_reason::kill});
  s.worker = std::move(fresh);
  ++s.restarts;
  log_line(log_level::warn, "worker crashed and restarted",
           {{"worker", name}, {"restarts", std::to_string(s.restarts)}});
  return name;
}

void load_tours(caf::scoped_actor& self, const engine& e,
                const std::vector<tour>& tours, const pump_fn& pump) {
  for (auto& t : tours)
    ask<bool>(self, pump, e.inventory_for(t.id), caf::put_atom::value, t);
}

saga_stats collect_stats(caf::scoped_actor& self, const engine& e,
                         const pump_fn& pump) {
  saga_stats total;
  for (auto& c : e.coordinators)
    total += ask<saga_stats>(self, pump, c, caf::get_atom::value);
  return total;
}

bool wait_idle(caf::scoped_actor& self, const engine& e,
               caf::timespan timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto stats = collect_stats(self, e);
    if (stats.in_flight == 0 && stats.starting == 0)
      break;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void drain(caf::scoped_actor& self, const engine& e) {
  if (!e.store)
    return;
  // A round trip with each shard: the history entries and checkpoints it
  // was sent before are applied and on their way to the store...
  booking_filter none;
  none.limit = 0;
  for (auto& shard : e.bookings)
    ask<std::vector<booking_record>>(self, {}, shard, list_atom::value, none);
  // ...where an empty batch is answered after everything queued before it.
  ask<bool>(self, {}, e.store, persist_atom::value, store_batch{});
}

void shut_down(caf::scoped_actor& self, engine& e) {
  try {
    drain(self, e);
  } catch (const std::exception& ex) {
    log_line(log_level::warn, "store not drained", {{"error", ex.what()}});
  }
  auto store = std::exchange(e.store, store_actor{});
  auto publisher = std::exchange(e.publisher, publisher_actor{});
  e.stop();
  if (publisher) {
    self->send_exit(publisher, caf::exit_reason::user_shutdown);
    self->wait_for(publisher);
  }
  if (store) {
    self->send_exit(store, caf::exit_reason::user_shutdown);
    self->wait_for(store);
  }
}

world_snapshot collect_world(caf::scoped_actor& self, const engine& e,
                             const pump_fn& pump) {
  world_snapshot w;
  if (e.store) {
    // Memory holds only part of the bookings then: the file holds all.
    auto st = ask<stored_state>(self, pump, e.store, snapshot_atom::value);
    w.bookings = std::move(st.bookings);
    inventory_snapshot inv;
    inv.departures = std::move(st.counts);
    inv.holds = std::move(st.holds);
    w.inventory.push_back(std::move(inv));
    for (auto& p : st.payments)
      w.payments.push_back(p.intent);
    w.notifications = std::move(st.notifications);
    auto stats = collect_stats(self, e, pump);
    w.sagas_in_flight = stats.in_flight + stats.starting;
    w.quiescent = w.sagas_in_flight == 0;
    return w;
  }
  booking_filter all;
  all.limit = std::numeric_limits<int32_t>::max();
  for (auto& shard : e.bookings) {
    auto part = ask<std::vector<booking_record>>(self, pump, shard,
                                                 list_atom::value, all);
    w.bookings.insert(w.bookings.end(), part.begin(), part.end());
  }
  for (auto& shard : e.inventory)
    w.inventory.push_back(
      ask<inventory_snapshot>(self, pump, shard, snapshot_atom::value));
  auto stats = collect_stats(self, e, pump);
  w.sagas_in_flight = stats.in_flight + stats.starting;
  w.quiescent = w.sagas_in_flight == 0;
  w.payments = e.gateway->intents();
  w.notifications = e.notifications->all();
  return w;
}

} // namespace booking
