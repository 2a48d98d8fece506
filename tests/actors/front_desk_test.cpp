#define CAF_SUITE actors.front_desk

#include "actors/front_desk.hpp"

#include "tests/actors/engine_fixture.hpp"

#include <set>

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

struct fixture : engine_fixture {
  /// Asks the desk and runs messages (not timers) until idle.
  template <class T, class... Ts>
  caf::expected<T> ask_desk(Ts&&... xs) {
    auto handle = self->request(e.desk, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    caf::expected<T> result{caf::error{}};
    handle.receive([&](T& x) { result = std::move(x); },
                   [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  caf::expected<booking_record> create(booking_request req,
                                       const std::string& key = {}) {
    return ask_desk<booking_record>(create_atom::value, std::move(req), key);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(front_desk_tests, fixture)

CAF_TEST(a create without an id gets one and runs its saga) {
  boot();
  auto req = request_for("tok_ok");
  req.id.clear();
  auto rec = create(req);
  CAF_REQUIRE(rec);
  CAF_CHECK(!rec->id.empty());
  CAF_CHECK_EQUAL(rec->status, booking_status::pending);
  run();
  auto now = ask_desk<booking_record>(caf::get_atom::value, rec->id);
  CAF_REQUIRE(now);
  CAF_CHECK_EQUAL(now->status, booking_status::confirmed);
  CHECK_INVARIANTS({rec->id});
}

CAF_TEST(a create with a key answers its retries with the first booking) {
  boot();
  auto req = request_for("tok_ok");
  auto first = create(req, "order-1");
  CAF_REQUIRE(first);
  CAF_CHECK_EQUAL(first->id, req.id);
  run();
  // A retry comes with a fresh candidate id, as every edge makes one.
  auto retry = req;
  retry.id = new_booking_id();
  auto again = create(retry, "order-1");
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL(again->id, req.id);
  CAF_CHECK_EQUAL(again->status, booking_status::confirmed);
  auto page = ask_desk<booking_page>(list_atom::value, booking_filter{});
  CAF_REQUIRE(page);
  CAF_CHECK_EQUAL(page->items.size(), 1u);
  // The same key with another request is refused, and creates nothing.
  auto other = request_for("tok_ok", 1);
  auto refused = create(other, "order-1");
  CAF_REQUIRE(!refused);
  CAF_CHECK(is(refused.error(), booking_errc::key_reused));
  run();
  page = ask_desk<booking_page>(list_atom::value, booking_filter{});
  CAF_REQUIRE(page);
  CAF_CHECK_EQUAL(page->items.size(), 1u);
  CHECK_INVARIANTS({req.id});
}

CAF_TEST(a refused create passes the coordinator error on) {
  boot(1);
  auto req = request_for("tok_ok");
  req.tour_id = "nowhere";
  auto rec = create(req, "k");
  CAF_REQUIRE(!rec);
  CAF_CHECK(is(rec.error(), booking_errc::unknown_tour));
  auto missing = ask_desk<booking_record>(caf::get_atom::value,
                                          std::string{"nope"});
  CAF_REQUIRE(!missing);
  CAF_CHECK(is(missing.error(), booking_errc::not_found));
}

CAF_TEST(listing pages across every shard stay exact) {
  cfg.workers.booking_shards = 3;
  boot(40);
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    auto rec = create(request_for("tok_ok", 1));
    CAF_REQUIRE(rec);
    ids.push_back(rec->id);
  }
  run();
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> listed;
  booking_filter filter;
  filter.limit = 3;
  std::vector<size_t> sizes;
  for (;;) {
    auto page = ask_desk<booking_page>(list_atom::value, filter);
    CAF_REQUIRE(page);
    sizes.push_back(page->items.size());
    for (auto& rec : page->items)
      listed.push_back(rec.id);
    if (page->next_cursor.empty())
      break;
    CAF_CHECK_EQUAL(page->next_cursor, page->items.back().id);
    filter.after_id = page->next_cursor;
  }
  CAF_CHECK_EQUAL(sizes, (std::vector<size_t>{3, 3, 1}));
  CAF_CHECK_EQUAL(listed, ids);
}

CAF_TEST(one shard with more than a page left still gets a cursor) {
  cfg.workers.booking_shards = 1;
  boot(40);
  for (int i = 0; i < 4; ++i)
    CAF_REQUIRE(create(request_for("tok_ok", 1)));
  run();
  booking_filter filter;
  filter.limit = 2;
  auto first = ask_desk<booking_page>(list_atom::value, filter);
  CAF_REQUIRE(first);
  CAF_CHECK_EQUAL(first->items.size(), 2u);
  CAF_REQUIRE(!first->next_cursor.empty());
  filter.after_id = first->next_cursor;
  auto second = ask_desk<booking_page>(list_atom::value, filter);
  CAF_REQUIRE(second);
  CAF_CHECK_EQUAL(second->items.size(), 2u);
  CAF_CHECK(second->next_cursor.empty());
}

CAF_TEST(await answers with the outcome and a deadline falls back to get) {
  boot();
  auto done = create(request_for("tok_ok"));
  CAF_REQUIRE(done);
  run();
  auto outcome = ask_desk<booking_record>(await_atom::value, done->id);
  CAF_REQUIRE(outcome);
  CAF_CHECK_EQUAL(outcome->status, booking_status::confirmed);
  // The gateway never answers tok_timeout, so the saga waits for its
  // payment timeout (5 s); a caller that gives up after 1 s reads the
  // booking as stored, still pending.
  auto stuck = create(request_for("tok_timeout"));
  CAF_REQUIRE(stuck);
  auto handle = self->request(e.desk, 1s, await_atom::value, stuck->id);
  sched.run();
  sched.advance_time(1s);
  sched.run();
  caf::error timed_out;
  handle.receive(
    [&](booking_record&) {
      CAF_FAIL("answered before the "
               "outcome");
    },
    [&](caf::error& err) { timed_out = std::move(err); });
  CAF_CHECK_EQUAL(timed_out, caf::sec::request_timeout);
  auto now = ask_desk<booking_record>(caf::get_atom::value, stuck->id);
  CAF_REQUIRE(now);
  CAF_CHECK_EQUAL(now->status, booking_status::pending);
  // The outcome still reaches a caller without a deadline.
  auto waiting = self->request(e.desk, caf::infinite, await_atom::value,
                               stuck->id);
  run();
  caf::optional<booking_record> late;
  waiting.receive([&](booking_record& rec) { late = std::move(rec); },
                  [&](caf::error& err) { CAF_FAIL(to_string(err)); });
  CAF_REQUIRE(late);
  CAF_CHECK_EQUAL(late->status, booking_status::failed);
  CAF_CHECK_EQUAL(late->reason, "timeout");
  CHECK_INVARIANTS({done->id, stuck->id});
}

CAF_TEST(cancel tours and stats go to their owners) {
  cfg.workers.inventory_shards = 3;
  boot();
  auto rec = create(request_for("tok_ok"));
  CAF_REQUIRE(rec);
  run();
  auto cancelling = ask_desk<booking_record>(
    cancel_atom::value, rec->id, std::string{"req-cancel"}, std::string{});
  CAF_REQUIRE(cancelling);
  CAF_CHECK_EQUAL(cancelling->status, booking_status::cancelling);
  run();
  auto now = ask_desk<booking_record>(caf::get_atom::value, rec->id);
  CAF_REQUIRE(now);
  CAF_CHECK_EQUAL(now->status, booking_status::cancelled);
  tour t{"porto-wine", "Porto Wine", 3000, "EUR", {{"2026-12-02", 5}}};
  auto created = ask_desk<bool>(caf::put_atom::value, t);
  CAF_REQUIRE(created);
  CAF_CHECK_EQUAL(*created, true);
  auto replaced = ask_desk<bool>(caf::put_atom::value, t);
  CAF_REQUIRE(replaced);
  CAF_CHECK_EQUAL(*replaced, false);
  auto stats = ask_desk<saga_stats>(caf::get_atom::value);
  CAF_REQUIRE(stats);
  CAF_CHECK_EQUAL(stats->started, 2);
  CAF_CHECK_EQUAL(caf::deep_to_string(*stats),
                  caf::deep_to_string(collect_stats(self, e, pump())));
  CHECK_INVARIANTS({rec->id});
}

CAF_TEST_FIXTURE_SCOPE_END()
