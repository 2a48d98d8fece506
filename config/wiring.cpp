#include "config/wiring.hpp"

#include <filesystem>
#include <limits>
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

template <class Handle, class Factory>
Handle make_pool(caf::actor_system& sys, size_t n, Factory factory) {
  size_t index = 0;
  auto pool = caf::actor_pool::make(
    sys.dummy_execution_unit(), n,
    [&]() mutable { return caf::actor_cast<caf::actor>(factory(index++)); },
    caf::actor_pool::round_robin());
  return caf::actor_cast<Handle>(pool);
}

} // namespace

const saga_coordinator_actor&
engine::coordinator_for(const std::string& id) const {
  return shard_for(coordinators, id);
}

const inventory_actor& engine::inventory_for(const std::string& tour_id) const {
  return shard_for(inventory, tour_id);
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
  auto state = (*db)->load();
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
  // The actors work on in-memory repositories; with a durable store these
  // start from what it holds, and every change goes through it as well.
  stored_state loaded;
  if (opts.store) {
    e.durable = std::make_shared<store_status>();
    e.store = spawn_store(sys, opts.store->db, e.durable);
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
  for (auto& repo : booking_repos)
    e.bookings.push_back(spawn_booking(sys, repo, e.store));
  std::vector<std::shared_ptr<memory_inventory_repository>> inventory_repos;
  for (size_t i = 0; i < w.inventory_shards; ++i)
    inventory_repos.push_back(std::make_shared<memory_inventory_repository>());
  for (auto& t : loaded.tours)
    inventory_repos[shard_index(t.id, w.inventory_shards)]->upsert_tour(t);
  for (auto& h : loaded.holds) {
    // Replaying the holds rebuilds the seat counts.
    auto& repo = *inventory_repos[shard_index(h.tour_id, w.inventory_shards)];
    auto ok = repo.reserve(h) && (!h.sold || repo.commit(h.booking_id));
    if (!ok)
      log_line(log_level::error, "stored hold not loaded",
               {{"booking_id", h.booking_id}, {"tour_id", h.tour_id}});
  }
  for (size_t i = 0; i < w.inventory_shards; ++i) {
    inventory_options io{e.availability, f.inventory_error_rate,
                         f.inventory_latency,
                         derive_seed(f.seed, inventory_stream + i)};
    e.inventory.push_back(
      spawn_inventory(sys, inventory_repos[i], std::move(io), e.store));
  }
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
  e.payment = make_pool<payment_actor>(sys, w.payment_workers, [&](size_t i) {
    payment_options po{f.payment_decline_rate, f.payment_timeout_rate,
                       f.payment_error_rate, f.payment_latency,
                       derive_seed(f.seed, payment_stream + i)};
    return spawn_payment_worker(sys, e.gateway, po, e.store);
  });
  e.payment_pool = caf::actor_cast<caf::actor>(e.payment);
  if (opts.wrap_payment)
    e.payment = opts.wrap_payment(sys, e.payment);
  e.notification_workers = w.notification_workers;
  e.notification = make_pool<notification_actor>(
    sys, w.notification_workers, [&](size_t i) {
      notification_options no{f.notification_error_rate, f.notification_latency,
                              derive_seed(f.seed, notification_stream + i),
                              opts.sink};
      return spawn_notification_worker(sys, e.notifications, no, e.store);
    });
  e.notification_pool = caf::actor_cast<caf::actor>(e.notification);
  // With a broker, the publisher bridge receives every saga's events.
  auto events = opts.events;
  if (!cfg.amqp.url.empty()) {
    e.amqp = std::make_shared<bridge_status>();
    e.publisher = spawn_publisher(sys, cfg.amqp, e.amqp, node_id());
    if (!events)
      events = e.publisher;
  }
  if (e.store) {
    // Committed events leave through the store (the transactional outbox),
    // the ones an earlier run left unconfirmed first.
    caf::anon_send(e.store, events, std::move(loaded.outbox));
    if (e.publisher)
      caf::anon_send(e.publisher, e.store);
  }
  saga_participants peers{e.bookings, e.inventory,    e.availability,
                          e.payment,  e.notification, events};
  auto booking_def = booking_saga(cfg.saga);
  if (opts.adjust_booking_saga)
    opts.adjust_booking_saga(booking_def);
  auto share = (cfg.saga.max_in_flight + w.saga_coordinators - 1)
               / w.saga_coordinators;
  for (size_t i = 0; i < w.saga_coordinators; ++i) {
    coordinator_options co;
    co.booking = booking_def;
    co.cancellation = cancellation_saga(cfg.saga);
    co.max_in_flight = share;
    co.lookup_timeout = cfg.saga.inventory_timeout;
    co.seed = derive_seed(cfg.saga.seed, coordinator_stream + i);
    co.durable = static_cast<bool>(e.store);
    for (auto& cp : loaded.sagas)
      if (shard_index(cp.req.id, w.saga_coordinators) == i)
        co.recovered.push_back(cp);
    e.coordinators.push_back(spawn_saga_coordinator(sys, peers, co));
  }
  if (!cfg.amqp.url.empty()) {
    intake_options io;
    io.node_id = node_id();
    io.fault = opts.intake_fault;
    e.intake = spawn_intake_consumer(
      sys, cfg.amqp, e.amqp,
      intake_peers{e.coordinators, e.bookings, e.idempotency, e.publisher}, io);
  }
  return e;
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
