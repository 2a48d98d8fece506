#define CAF_SUITE config.wiring
#include "config/wiring.hpp"

#include <caf/test/unit_test.hpp>

#include <dirent.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/log.hpp"
#include "config/booking_config.hpp"

using namespace booking;

namespace {

size_t os_threads() {
  size_t n = 0;
  if (auto dir = opendir("/proc/self/task")) {
    while (auto entry = readdir(dir))
      n += entry->d_name[0] != '.';
    closedir(dir);
  }
  return n;
}

struct census {
  size_t scheduler_threads = 0;
  size_t os_threads = 0;
  size_t running_actors = 0;
  size_t payment_workers = 0;
  size_t notification_workers = 0;
  size_t inventory_shards = 0;
  size_t coordinators = 0;
};

size_t pool_size(caf::scoped_actor& self, const caf::actor& pool) {
  size_t n = 0;
  self
    ->request(pool, std::chrono::seconds(10), caf::sys_atom::value,
              caf::get_atom::value)
    .receive([&](std::vector<caf::actor>& xs) { n = xs.size(); },
             [&](caf::error&) { n = 0; });
  return n;
}

/// Starts a real engine from command-line options and counts what runs.
census count_with(std::vector<std::string> args) {
  set_log_level(log_level::off);
  booking_config cfg;
  auto loaded = load_config(cfg, std::move(args));
  CAF_REQUIRE_EQUAL(loaded.kind, config_outcome::run);
  census c;
  {
    caf::actor_system sys{cfg};
    auto before = sys.registry().running();
    auto e = start_engine(sys, cfg.settings);
    caf::scoped_actor self{sys};
    c.scheduler_threads = sys.scheduler().num_workers();
    c.os_threads = os_threads();
    c.running_actors = sys.registry().running() - before;
    c.payment_workers = pool_size(self, e.payment_pool);
    c.notification_workers = pool_size(self, e.notification_pool);
    c.inventory_shards = e.inventory.size();
    c.coordinators = e.coordinators.size();
    e.stop();
  }
  return c;
}

} // namespace

CAF_TEST(worker counts and scheduler threads follow the configuration) {
  auto small = count_with(
    {"--scheduler.max-threads=1", "--workers.payment=1",
     "--workers.notification=1", "--workers.inventory-shards=1",
     "--workers.booking-shards=1", "--workers.saga-coordinators=1"});
  auto large = count_with(
    {"--scheduler.max-threads=3", "--workers.payment=6",
     "--workers.notification=4", "--workers.inventory-shards=3",
     "--workers.booking-shards=2", "--workers.saga-coordinators=5"});
  CAF_CHECK_EQUAL(small.scheduler_threads, 1u);
  CAF_CHECK_EQUAL(large.scheduler_threads, 3u);
  CAF_CHECK_EQUAL(large.os_threads - small.os_threads, 2u);
  CAF_CHECK_EQUAL(small.payment_workers, 1u);
  CAF_CHECK_EQUAL(large.payment_workers, 6u);
  CAF_CHECK_EQUAL(small.notification_workers, 1u);
  CAF_CHECK_EQUAL(large.notification_workers, 4u);
  CAF_CHECK_EQUAL(large.inventory_shards, 3u);
  CAF_CHECK_EQUAL(large.coordinators, 5u);
  // 5 more payment workers, 3 more notification workers, 2 more inventory
  // shards, 1 more booking shard and 4 more coordinators.
  CAF_CHECK_EQUAL(large.running_actors - small.running_actors, 15u);
}
