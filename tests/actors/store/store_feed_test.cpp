#define CAF_SUITE store.feed
#include "actors/store/store_actor.hpp"

#include <caf/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"

// The store actor's outbox feed, on a real file and real threads: committed
// events reach the sink in order, at most a window of them unconfirmed, the
// rest read back from the table as confirms come.

using namespace booking;
using namespace std::chrono_literals;

namespace {

domain_event event(std::string id) {
  domain_event ev;
  ev.id = std::move(id);
  ev.type = "booking.requested";
  ev.booking_id = "b-" + ev.id;
  return ev;
}

/// Passes every batch of rows on to `listener`.
outbox_sink_actor::behavior_type forward_rows(outbox_sink_actor::pointer,
                                              caf::actor listener) {
  return {
    [=](std::vector<outbox_row>& rows) {
      caf::anon_send(listener, std::move(rows));
    },
  };
}

struct feed_fixture {
  std::string dir;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<sqlite_store> db;
  std::shared_ptr<backpressure> gate = std::make_shared<backpressure>(10, 0);

  feed_fixture() {
    set_log_level(log_level::off);
    auto base = std::filesystem::temp_directory_path() / "store_feed.XXXXXX";
    std::string tmpl = base.string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      CAF_FAIL("mkdtemp failed");
    dir = tmpl;
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    auto opened = sqlite_store::open(dir + "/feed.db");
    CAF_REQUIRE(opened);
    db = std::move(*opened);
  }

  ~feed_fixture() {
    sys.reset();
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  /// Ids of the rows that reach `self`, in order: waits (up to 10 s) for
  /// `expected` of them, then 200 ms more for any surplus.
  static std::vector<std::string> rows_received(caf::scoped_actor& self,
                                                std::vector<int64_t>& seqs,
                                                size_t expected) {
    std::vector<std::string> ids;
    bool more = true;
    while (more) {
      auto wait = ids.size() < expected ? std::chrono::milliseconds(10'000)
                                        : std::chrono::milliseconds(200);
      self->receive(
        [&](std::vector<outbox_row>& rows) {
          for (auto& row : rows) {
            ids.push_back(row.event.id);
            seqs.push_back(row.seq);
          }
        },
        caf::after(wait) >> [&] { more = false; });
    }
    return ids;
  }
};

using ids = std::vector<std::string>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(store_feed_tests, feed_fixture)

CAF_TEST(the store reads back what it holds of a booking) {
  store_batch b;
  b.holds = {{"b1", "tour-1", "2026-12-01", 2, true}};
  b.payments = {{{"b1", payment_state::captured, 100, 100, 0}, "tok", 0, 0}};
  CAF_REQUIRE(db->write({&b}));
  auto status = std::make_shared<store_status>();
  auto store = spawn_store(*sys, db, status, gate);
  caf::scoped_actor self{*sys};
  self
    ->request(store, std::chrono::seconds(5), caf::get_atom::value,
              parts_atom::value, std::string{"b1"})
    .receive(
      [](booking_parts& parts) {
        CAF_REQUIRE_EQUAL(parts.holds.size(), 1u);
        CAF_CHECK_EQUAL(parts.holds[0].seats, 2);
        CAF_CHECK(parts.holds[0].sold);
        CAF_REQUIRE_EQUAL(parts.payments.size(), 1u);
        CAF_CHECK_EQUAL(parts.payments[0].token, "tok");
        CAF_CHECK(parts.notifications.empty());
      },
      [](caf::error& err) { CAF_FAIL(describe(err)); });
  self
    ->request(store, std::chrono::seconds(5), caf::get_atom::value,
              parts_atom::value, std::string{"b2"})
    .receive(
      [](booking_parts& parts) {
        CAF_CHECK(parts.holds.empty() && parts.payments.empty());
      },
      [](caf::error& err) { CAF_FAIL(describe(err)); });
  self->send_exit(store, caf::exit_reason::user_shutdown);
  self->wait_for(store);
}

CAF_TEST(the outbox goes out in order a window at a time) {
  // An earlier run left three events unconfirmed.
  store_batch old;
  old.events = {event("e0"), event("e1"), event("e2")};
  CAF_REQUIRE(db->write({&old}));
  auto status = std::make_shared<store_status>();
  auto store = spawn_store(*sys, db, status, gate);
  caf::scoped_actor self{*sys};
  auto sink = sys->spawn(forward_rows, caf::actor{self});
  self->send(store, sink, size_t{2});
  std::vector<int64_t> seqs;
  // The window holds two: the third waits in the table.
  CAF_CHECK_EQUAL(rows_received(self, seqs, 2), (ids{"e0", "e1"}));
  // New events commit (and count in the backlog) but wait behind it.
  store_batch fresh;
  fresh.events = {event("e3"), event("e4"), event("e5")};
  self->request(store, caf::infinite, persist_atom::value, fresh)
    .receive([](bool) {}, [](caf::error& err) { CAF_FAIL(describe(err)); });
  CAF_CHECK_EQUAL(gate->outbox_backlog.load(), 3);
  CAF_CHECK_EQUAL(rows_received(self, seqs, 0), ids{});
  // Each confirm makes room for as many, oldest first.
  self->send(store, published_atom::value, std::vector<int64_t>{seqs[0]});
  CAF_CHECK_EQUAL(rows_received(self, seqs, 1), (ids{"e2"}));
  self->send(store, published_atom::value,
             std::vector<int64_t>{seqs[1], seqs[2]});
  CAF_CHECK_EQUAL(rows_received(self, seqs, 2), (ids{"e3", "e4"}));
  self->send(store, published_atom::value,
             std::vector<int64_t>{seqs[3], seqs[4]});
  CAF_CHECK_EQUAL(rows_received(self, seqs, 1), (ids{"e5"}));
  // With room to spare, a commit goes straight out.
  store_batch next;
  next.events = {event("e6")};
  self->send(store, next);
  CAF_CHECK_EQUAL(rows_received(self, seqs, 1), (ids{"e6"}));
  self->send(store, published_atom::value,
             std::vector<int64_t>{seqs[5], seqs[6]});
  // Every sequence number once, ascending.
  CAF_REQUIRE_EQUAL(seqs.size(), 7u);
  for (size_t i = 1; i < seqs.size(); ++i)
    CAF_CHECK_GREATER(seqs[i], seqs[i - 1]);
  // Confirmed rows are deleted: the table is empty once the store stops.
  self->send_exit(store, caf::exit_reason::user_shutdown);
  self->wait_for(store);
  auto left = db->read_outbox(0, 100);
  CAF_REQUIRE(left);
  CAF_CHECK_EQUAL(left->size(), 0u);
  self->send_exit(sink, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
