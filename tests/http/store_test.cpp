// Finished bookings with a durable store: they leave memory beyond
// `store.cache-bookings` and are read back from the file, over real HTTP
// and a real SQLite file. A booking counts as gone from memory once a later
// booking of its shard has finished and `booking_store_cached_bookings`
// shows one booking per shard: each shard then keeps only its last.
#define CAF_SUITE http.store
#include "tests/http/api_fixture.hpp"

#include <cstdlib>
#include <filesystem>
#include <set>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/shard.hpp"

using namespace booking;
using namespace booking::testing;
using namespace std::chrono_literals;

namespace {

/// A fresh folder, removed after the engine stops (it is a base class of
/// the fixture, so it is destroyed after the engine).
struct temp_folder {
  std::string path;

  temp_folder() {
    auto tmpl
      = (std::filesystem::temp_directory_path() / "http_store_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      CAF_FAIL("mkdtemp failed");
    path = tmpl;
  }

  ~temp_folder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// `v` written out again, so two values compare as text.
std::string canonical(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  v.Accept(w);
  return buf.GetString();
}

constexpr size_t shards = 2;

struct fixture : temp_folder, api_fixture {
  /// Bookings made so far, by shard.
  std::map<size_t, std::vector<std::string>> by_shard;

  fixture() {
    cfg.store.path = path + "/booking.db";
    // One finished booking per shard.
    cfg.store.cache_bookings = shards;
    cfg.workers.booking_shards = shards;
  }

  void boot() {
    auto st = open_store(cfg.store);
    CAF_REQUIRE(st);
    opts.store = *st;
    api_fixture::boot();
  }

  /// True once the booking's saga has sent its outcome notification, its
  /// last step.
  bool saga_ended(const std::string& id, const std::string& status) {
    auto doc = booking(id);
    if (doc.HasParseError() || str(doc, "status") != status)
      return false;
    for (auto e : items(doc, "saga"))
      if (str(*e, "step") == "send_notification" && str(*e, "outcome") == "ok")
        return true;
    return false;
  }

  /// Books, waits until the saga has ended and returns the booking's id.
  std::string book_finished(header_list headers = {}) {
    headers.emplace_back("Prefer", "wait=10");
    auto r = book(args(), std::move(headers));
    auto doc = r.json();
    auto id = str(doc, "id");
    CAF_REQUIRE(!id.empty());
    CAF_REQUIRE(eventually([&] { return saga_ended(id, "confirmed"); }, 10s));
    by_shard[shard_index(id, shards)].push_back(id);
    return id;
  }

  /// One seat on the departure with room for all the bookings of a test.
  static booking_args args() {
    booking_args a;
    a.date = "2026-12-03";
    a.seats = 1;
    return a;
  }

  /// Free seats of that departure.
  int available() {
    auto r = get("/api/v1/tours/lisbon-food/availability");
    auto doc = r.json();
    for (auto d : items(doc, "dates"))
      if (str(*d, "date") == args().date)
        return (*d)["available"].GetInt();
    CAF_FAIL("no departure " << args().date);
    return -1;
  }

  double held() {
    return metric(metrics_text(), "booking_store_cached_bookings");
  }

  /// Books until a later booking of `id`'s shard has finished, then waits
  /// until each shard holds only its last booking: `id` is then only in
  /// the file.
  void push_out(const std::string& id) {
    auto& mine = by_shard[shard_index(id, shards)];
    while (mine.back() == id)
      book_finished();
    CAF_REQUIRE(eventually(
      [&] { return held() == static_cast<double>(by_shard.size()); }, 10s));
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(store_tests, fixture)

CAF_TEST(an evicted booking reads back identical and pages exactly) {
  boot();
  std::map<std::string, std::string> in_memory; // id -> GET body
  for (int i = 0; i < 8; ++i) {
    auto id = book_finished();
    // Just finished: the shard still holds it.
    in_memory[id] = get("/api/v1/bookings/" + id).body;
  }
  for (auto& [shard, ids] : by_shard)
    CAF_MESSAGE("shard " << shard << ": " << ids.size() << " bookings");
  // Each shard keeps its last one; the rest left memory.
  CAF_REQUIRE(eventually(
    [&] { return held() == static_cast<double>(by_shard.size()); }, 10s));
  CAF_CHECK_LESS_OR_EQUAL(held(), static_cast<double>(shards));
  for (auto& [id, body] : in_memory) {
    auto r = get("/api/v1/bookings/" + id);
    HTTP_CHECK_STATUS(r, 200);
    HTTP_CHECK_MSG(r.body == body, "booking " << id << " was\n"
                                              << body << "\nand reads back as\n"
                                              << r.body);
  }
  // Their notifications read back from the file too, listed and by id.
  for (auto& [id, body] : in_memory) {
    auto r = get("/api/v1/notifications?booking_id=" + id);
    HTTP_CHECK_STATUS(r, 200);
    auto doc = r.json();
    auto notes = items(doc);
    CAF_REQUIRE_EQUAL(notes.size(), 1u);
    CAF_CHECK_EQUAL(str(*notes[0], "kind"), "booking_confirmed");
    CAF_CHECK_EQUAL(str(*notes[0], "status"), "sent");
    auto one = get("/api/v1/notifications/" + str(*notes[0], "id"));
    HTTP_CHECK_STATUS(one, 200);
    auto one_doc = one.json();
    CAF_CHECK_EQUAL(canonical(one_doc), canonical(*notes[0]));
  }
  // Pages of 3, by cursor, list every booking once, in id order, each as
  // its GET shows it; with a status filter too.
  for (std::string filter : {"", "&status=confirmed"}) {
    std::vector<std::string> listed;
    std::string cursor;
    int pages = 0;
    do {
      auto target = "/api/v1/bookings?limit=3" + filter;
      if (!cursor.empty())
        target += "&cursor=" + cursor;
      auto r = get(target);
      HTTP_CHECK_STATUS(r, 200);
      auto doc = r.json();
      for (auto item : items(doc)) {
        auto id = str(*item, "id");
        listed.push_back(id);
        auto i = in_memory.find(id);
        CAF_REQUIRE(i != in_memory.end());
        rapidjson::Document one;
        one.Parse(i->second.c_str());
        CAF_CHECK_EQUAL(canonical(*item), canonical(one));
      }
      cursor = str(doc, "next_cursor");
      CAF_REQUIRE_LESS(++pages, 10);
    } while (!cursor.empty());
    std::vector<std::string> want;
    for (auto& entry : in_memory)
      want.push_back(entry.first);
    CAF_CHECK_EQUAL(listed, want);
    CAF_CHECK_EQUAL(pages, 3);
  }
  // The invariants hold over what the store and memory hold together.
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold());
}

CAF_TEST(an idempotency retry of an evicted booking returns it) {
  boot();
  auto before = stats().started;
  auto id = book_finished({{"Idempotency-Key", "key-evicted"}});
  auto body = get("/api/v1/bookings/" + id).body;
  push_out(id);
  auto retry = book(args(), {{"Idempotency-Key", "key-evicted"}});
  HTTP_CHECK_MSG(retry.status >= 200 && retry.status < 300, retry.to_text());
  auto doc = retry.json();
  CAF_CHECK_EQUAL(str(doc, "id"), id);
  CAF_CHECK_EQUAL(str(doc, "status"), "confirmed");
  // The booking itself is unchanged, and no second saga ran.
  CAF_CHECK_EQUAL(get("/api/v1/bookings/" + id).body, body);
  CAF_CHECK(idle());
  size_t bookings = 0;
  for (auto& [shard, ids] : by_shard)
    bookings += ids.size();
  CAF_CHECK_EQUAL(stats().started - before, static_cast<int64_t>(bookings));
}

CAF_TEST(a cancel of an evicted confirmed booking works) {
  boot();
  auto reads = [this] { return e.durable->reads.load(); };
  auto reads_before = reads();
  auto id = book_finished();
  push_out(id);
  // New bookings read nothing back: their participants were told that
  // nothing of them is stored (and nothing here asked for a booking that
  // left memory).
  CAF_CHECK_EQUAL(reads(), reads_before);
  auto free_before = available();
  auto r = call("POST", "/api/v1/bookings/" + id + "/cancel");
  HTTP_CHECK_STATUS(r, 202);
  auto doc = r.json();
  CAF_CHECK_EQUAL(str(doc, "status"), "cancelling");
  CAF_REQUIRE(booking_reaches(id, "cancelled"));
  CAF_CHECK(eventually([&] { return saga_ended(id, "cancelled"); }));
  // The cancellation read the booking and its parts back.
  CAF_CHECK_GREATER(reads(), reads_before);
  // SQLite's heap (its page cache) is reported.
  CAF_CHECK_GREATER(metric(metrics_text(), "booking_store_sqlite_memory_bytes"),
                    0.0);
  // Its seat is free again.
  CAF_CHECK(eventually([&] { return available() == free_before + 1; }));
  CAF_CHECK(idle());
  CAF_CHECK(invariants_hold({id}));
  // The history kept the booking saga's steps before the cancellation's.
  auto final_doc = booking(id);
  auto steps = items(final_doc, "saga");
  CAF_REQUIRE_GREATER(steps.size(), 4u);
  CAF_CHECK_EQUAL(str(*steps.front(), "step"), "reserve_seats");
  CAF_CHECK_EQUAL(str(*steps.back(), "step"), "send_notification");
}

CAF_TEST_FIXTURE_SCOPE_END()
