// The one place that builds the engine: it spawns every actor, hands each
// the handles of the actors it talks to, and decides the threading (pools,
// shards). Actors never look their peers up.
//
//   booking::engine e = booking::start_engine(sys, settings);
//   ... e.coordinator_for(id) ...
//   e.stop();

#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/availability_actor.hpp"
#include "actors/backpressure.hpp"
#include "actors/booking_actor.hpp"
#include "actors/event_sink.hpp"
#include "actors/faults.hpp"
#include "actors/front_desk.hpp"
#include "actors/idempotency_actor.hpp"
#include "actors/inventory_actor.hpp"
#include "actors/notification_actor.hpp"
#include "actors/payment_actor.hpp"
#include "actors/payment_gateway.hpp"
#include "actors/saga/invariants.hpp"
#include "actors/saga/saga_coordinator.hpp"
#include "actors/store/repositories.hpp"
#include "actors/store/sqlite_store.hpp"
#include "actors/store/store_actor.hpp"
#include "bridges/amqp_consumer.hpp"
#include "bridges/amqp_publisher.hpp"
#include "bridges/bridge_status.hpp"
#include "config/engine_settings.hpp"
#include "http/metrics.hpp"

namespace booking {

/// The workers behind the pools and how to restart them (see
/// `crash_worker`); defined in wiring.cpp.
struct worker_registry;

/// Handles of every actor of a running engine.
struct engine {
  /// The booking use case: what the HTTP API and the AMQP intake talk to.
  front_desk_actor desk;
  std::vector<booking_actor> bookings;
  std::vector<inventory_actor> inventory;
  availability_actor availability;
  /// Idempotency keys of booking requests.
  idempotency_actor idempotency;
  /// Pool of payment workers (same interface as one worker).
  payment_actor payment;
  size_t payment_workers = 0;
  /// The pools themselves (untyped), e.g. to list their workers.
  caf::actor payment_pool;
  caf::actor notification_pool;
  /// Pool of notification workers (same interface as one worker).
  notification_actor notification;
  size_t notification_workers = 0;
  std::vector<saga_coordinator_actor> coordinators;
  /// The simulated card processor.
  std::shared_ptr<payment_gateway> gateway;
  /// The notification store the workers share.
  std::shared_ptr<notification_repository> notifications;
  /// The AMQP bridges and their state; empty without a broker.
  publisher_actor publisher;
  caf::actor intake;
  std::shared_ptr<bridge_status> amqp;
  /// The durable store and its health; empty with `store.path=:memory:`.
  store_actor store;
  std::shared_ptr<store_status> durable;
  /// Bookings the shards hold in memory: those with a saga in flight and
  /// the cached finished ones (all of them without a store).
  std::shared_ptr<std::atomic<int64_t>> bookings_held
    = std::make_shared<std::atomic<int64_t>>(0);
  /// Bookings per status, all of them (the store's counts to start with).
  std::shared_ptr<status_tally> bookings_by_status
    = std::make_shared<status_tally>();
  /// Sagas the store holds that this release cannot resume (a version of
  /// their table it does not have); they wait in the store, untouched.
  std::vector<suspended_saga> suspended;
  /// Sagas in flight and the outbox backlog, against their limits.
  std::shared_ptr<backpressure> gate;
  /// The pooled workers of inventory, payment and notification.
  std::shared_ptr<worker_registry> workers;

  /// The coordinator that runs the sagas of `booking_id`.
  const saga_coordinator_actor& coordinator_for(const std::string& id) const;

  /// The inventory shard that owns `tour_id`.
  const inventory_actor& inventory_for(const std::string& tour_id) const;

  /// Number of actors per role, as spawned.
  std::vector<std::pair<std::string, size_t>> actor_counts() const;

  /// The store's figures for /metrics (zero, and up, without a store).
  store_counters store_figures() const;

  /// Asks every actor to exit.
  void stop();
};

/// An opened database file and what it held at start.
struct opened_store {
  std::shared_ptr<sqlite_store> db;
  stored_state state;
};

/// Opens and loads the store of `cfg` (creating its directory); null for
/// `:memory:`. Fails with `store_error` naming the path and the cause.
caf::expected<std::shared_ptr<opened_store>>
open_store(const store_settings& cfg);

/// Knobs for tests and tools on top of the validated settings.
struct engine_options {
  /// Where delivered notifications go besides the store (default: log).
  notification_sink sink = log_sink();
  /// Applied to the release's saga tables before use: tests break a table
  /// here, the simulator adds a later release's version.
  std::function<void(saga_tables&)> adjust_tables;
  /// Puts an actor in front of the payment pool (tests delay replies here).
  std::function<payment_actor(caf::actor_system&, payment_actor)> wrap_payment;
  /// Receives the domain events of every saga (tests record them here),
  /// without a durable store only. Empty, the default: the AMQP publisher
  /// gets them when a broker is configured, and without one no events are
  /// built at all.
  event_sink_actor events;
  /// Test hook of the AMQP intake: an error returned here is a transient
  /// failure of that message.
  std::function<caf::error(const booking_request&)> intake_fault;
  /// Outage switches the simulator flips; empty: no outages.
  std::shared_ptr<outage_switches> outages;
  /// The durable store (from `open_store`); empty: everything in memory.
  /// The engine takes over its state and resumes its unfinished sagas.
  std::shared_ptr<opened_store> store;
  /// Parked sagas of compensation_failed bookings to re-drive at start
  /// (`--redrive-all`; see `sqlite_store::load_parked`).
  std::vector<saga_checkpoint> redrive;
};

/// One line naming the suspended sagas (the first few) and why; empty if
/// there are none.
std::string describe_suspended(const std::vector<suspended_saga>& xs);

/// Spawns the whole engine in `sys`.
engine start_engine(caf::actor_system& sys, const engine_settings& cfg,
                    engine_options opts = {});

/// Roles whose workers `crash_worker` can crash.
const std::vector<std::string>& crashable_roles();

/// Crashes worker `index` (modulo the role's count) of `role` ("inventory",
/// "payment" or "notification") as a failing actor dies: it is killed, so
/// the messages in its mailbox and the replies it still owed are lost (their
/// requesters see an error or their timeout). A fresh worker on the same
/// state (repository, gateway) takes its place behind the same handle, like
/// a supervisor's restart. Returns its name, e.g. "payment#2".
std::string crash_worker(caf::actor_system& sys, engine& e,
                         const std::string& role, size_t index);

/// Runs the actors of a test scheduler until idle; empty on real threads.
using pump_fn = std::function<void()>;

/// Creates or replaces tours; throws on failure.
void load_tours(caf::scoped_actor& self, const engine& e,
                const std::vector<tour>& tours, const pump_fn& pump = {});

/// Sums the counters of every coordinator.
saga_stats collect_stats(caf::scoped_actor& self, const engine& e,
                         const pump_fn& pump = {});

/// Waits (on real threads) until no saga runs, or `timeout` passes; returns
/// true if the engine went idle.
bool wait_idle(caf::scoped_actor& self, const engine& e, caf::timespan timeout);

/// Waits (on real threads) until every change sent so far is committed to
/// the durable store; returns at once without one.
void drain(caf::scoped_actor& self, const engine& e);

/// Stops `e` in order and waits for the end: every change committed, the
/// publisher flushed (its confirms reach the store), the store closed last.
void shut_down(caf::scoped_actor& self, engine& e);

/// Reads everything the invariant checker needs.
world_snapshot collect_world(caf::scoped_actor& self, const engine& e,
                             const pump_fn& pump = {});

} // namespace booking
