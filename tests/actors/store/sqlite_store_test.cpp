#define CAF_SUITE store.sqlite

#include "actors/store/sqlite_store.hpp"

#include <caf/test/unit_test.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "actors/errors.hpp"

using namespace booking;

namespace {

caf::timestamp at(int64_t ns) {
  return caf::timestamp{caf::timespan{ns}};
}

/// Exact bytes of a value: catches what printing rounds away (nanoseconds).
template <class T>
std::vector<char> bytes_of(T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  if (auto err = sink(x))
    CAF_FAIL("cannot serialize: " << caf::to_string(err));
  return buf;
}

template <class T>
void check_same(const std::vector<T>& got, const std::vector<T>& want) {
  CAF_CHECK_EQUAL(caf::deep_to_string(got), caf::deep_to_string(want));
  CAF_CHECK(bytes_of(got) == bytes_of(want));
}

/// What a store holds: what `load` reads, and the outbox rows.
struct snapshot : stored_state {
  std::vector<outbox_row> outbox;
};

void check_same(const snapshot& got, const snapshot& want) {
  check_same(got.bookings, want.bookings);
  check_same(got.sagas, want.sagas);
  check_same(got.outbox, want.outbox);
  check_same(got.tours, want.tours);
  check_same(got.holds, want.holds);
  check_same(got.payments, want.payments);
  check_same(got.notifications, want.notifications);
  check_same(got.keys, want.keys);
}

bool is_empty(const snapshot& st) {
  return st.bookings.empty() && st.sagas.empty() && st.outbox.empty()
         && st.tours.empty() && st.holds.empty() && st.payments.empty()
         && st.notifications.empty() && st.keys.empty();
}

booking_record make_booking(const std::string& id, int64_t t) {
  booking_record b;
  b.id = id;
  b.status = booking_status::cancelling;
  b.reason = "reason-" + id;
  b.tour_id = "tour-" + id;
  b.date = "2026-12-0" + std::to_string(t % 9 + 1);
  b.seats = 3;
  b.amount_cents = 123456789012;
  b.currency = "EUR";
  b.cust = {"Name " + id, id + "@example.org", "+49 " + id};
  b.correlation_id = "corr-" + id;
  b.created_at = at(1714566896123456789 + t);
  b.updated_at = at(1714566897987654321 + t);
  return b;
}

saga_entry make_entry(saga_step step, int32_t attempt, int64_t t) {
  saga_entry e;
  e.step = step;
  e.action = saga_action::compensate;
  e.outcome = step_outcome::timeout;
  e.attempt = attempt;
  e.at = at(1714566900000000001 + t);
  e.error = "error " + std::to_string(t);
  return e;
}

saga_checkpoint make_saga(const std::string& key) {
  saga_checkpoint x;
  x.key = key;
  x.cancellation = true;
  x.req.id = "req-" + key;
  x.req.tour_id = "tour-1";
  x.req.date = "2026-12-01";
  x.req.seats = 4;
  x.req.cust = {"Ann", "ann@example.org", "+1 555"};
  x.req.payment_token = "tok_visa";
  x.req.correlation_id = "corr-saga";
  x.req.reply_to = "amq.gen-reply";
  x.req.trace = trace_context::parse(
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  x.amount_cents = 9900;
  x.currency = "USD";
  x.version = 0x8000000000000001ULL;
  x.phase = 2;
  x.step = "release_seats";
  x.attempt = 3;
  x.to_compensate = {"release_seats", "refund_payment", "a_step_of_later"};
  x.compensation_failed = true;
  x.reason = "payment_error";
  x.outcome = booking_status::compensation_failed;
  x.retry_at = at(1714566999000000007);
  x.gave_up = {{"refund_payment", 8}, {"release_seats", 12}};
  x.redrive = true;
  return x;
}

domain_event make_event(const std::string& id) {
  domain_event x;
  x.id = id;
  x.type = "booking.confirmed";
  x.time = at(1714566800000000123);
  x.correlation_id = "corr-" + id;
  x.booking_id = "b1";
  x.tour_id = "tour-1";
  x.date = "2026-12-01";
  x.seats = 2;
  x.amount_cents = 5000;
  x.currency = "EUR";
  x.customer_email = "a@example.org";
  x.status = "confirmed";
  x.reason = "none";
  x.kind = "booking_confirmed";
  x.channel = "email";
  x.reply_to = "reply-" + id;
  x.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  return x;
}

notification_record make_note(const std::string& id) {
  notification_record x;
  x.id = id;
  x.booking_id = "b-" + id;
  x.kind = notification_kind::booking_cancelled;
  x.channel = "sms";
  x.to = id + "@example.org";
  x.subject = "Subject " + id;
  x.body = std::string("line 1\nline 2 \xc3\xa9\0tail", 20);
  x.status = "failed";
  x.attempts = 4;
  x.created_at = at(1714566000000000999);
  return x;
}

std::string describe_error(const caf::error& e) {
  CAF_CHECK(is(e, booking_errc::store_error));
  return describe(e);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct fixture {
  std::string dir;

  fixture() {
    auto base = std::filesystem::temp_directory_path() / "sqlite_store.XXXXXX";
    std::string tmpl = base.string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      CAF_FAIL("mkdtemp failed");
    dir = tmpl;
  }

  ~fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string file(const std::string& name) const {
    return dir + "/" + name;
  }

  std::unique_ptr<sqlite_store> open(const std::string& path) {
    auto db = sqlite_store::open(path);
    if (!db)
      CAF_FAIL("open failed: " << describe(db.error()));
    return std::move(*db);
  }

  snapshot load(sqlite_store& db, load_scope scope = load_scope::everything) {
    auto st = db.load(scope);
    if (!st)
      CAF_FAIL("load failed: " << describe(st.error()));
    snapshot result;
    static_cast<stored_state&>(result) = std::move(*st);
    auto rows = db.read_outbox(0, 1'000'000);
    if (!rows)
      CAF_FAIL("reading the outbox failed: " << describe(rows.error()));
    result.outbox = std::move(*rows);
    // What start-up counts is what the table holds.
    CAF_CHECK_EQUAL(result.outbox_events,
                    static_cast<int64_t>(result.outbox.size()));
    return result;
  }

  std::vector<int64_t> write(sqlite_store& db, const store_batch& b) {
    auto seqs = db.write({&b});
    if (!seqs)
      CAF_FAIL("write failed: " << describe(seqs.error()));
    return std::move(*seqs);
  }

  /// Runs `sql` on a plain connection and returns the first column.
  std::string raw(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    std::string result;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
      CAF_FAIL("raw open failed");
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      CAF_FAIL("raw prepare failed: " << sqlite3_errmsg(db));
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(sqlite_store_tests, fixture)

CAF_TEST(open creates a migrated database in WAL mode) {
  auto path = file("new.db");
  CAF_REQUIRE(!std::filesystem::exists(path));
  {
    auto db = open(path);
    CAF_CHECK_EQUAL(db->path(), path);
    CAF_CHECK(std::filesystem::exists(path));
    CAF_CHECK(std::filesystem::exists(path + "-wal"));
    CAF_CHECK(is_empty(load(*db)));
  }
  CAF_CHECK_EQUAL(raw(path, "PRAGMA user_version"),
                  std::to_string(sqlite_store::schema_version()));
  CAF_CHECK_EQUAL(raw(path, "PRAGMA journal_mode"), "wal");
  CAF_CHECK_EQUAL(raw(path, "SELECT count(*) FROM sqlite_master "
                            "WHERE type = 'table' AND name = 'outbox'"),
                  "1");
}

CAF_TEST(everything written is loaded back) {
  auto path = file("round.db");
  snapshot want;
  std::vector<int64_t> seqs;
  {
    auto db = open(path);
    store_batch a;
    a.bookings = {make_booking("b2", 2), make_booking("b1", 1)};
    // Ignored: the history comes from history rows only.
    a.bookings[0].saga = {make_entry(saga_step::cancel_booking, 9, 9)};
    a.history = {{"b1", make_entry(saga_step::reserve_seats, 1, 1)},
                 {"b2", make_entry(saga_step::authorize_payment, 2, 2)}};
    a.sagas = {make_saga("b1#cancel"), make_saga("b2")};
    a.events = {make_event("e1"), make_event("e2"), make_event("e3")};
    a.events[2].seats = 7;
    tour t1{"tour-1", "Old Town", 2500, "EUR", {}};
    t1.departures = {{"2026-12-02", 20}, {"2026-12-01", 10}};
    tour t2{"tour-2", "Harbour", 4000, "EUR", {}};
    t2.departures = {{"2027-01-01", 5}, {"2027-01-02", 6}};
    a.tours = {t1, t2};
    a.holds = {{"b1", "tour-1", "2026-12-01", 3, false},
               {"b2", "tour-1", "2026-12-02", 2, true},
               {"b3", "tour-2", "2027-01-01", 1, false}};
    a.payments
      = {{{"b2", payment_state::refunded, 500, 400, 300}, "tok_2", 2, 1},
         {{"b1", payment_state::authorized, 100, 0, 0}, "tok_1"}};
    a.notifications = {make_note("n2"), make_note("n1")};
    a.keys = {{"k-old", "fp-old", "b1", at(1000)},
              {"k-new", "fp-new", "b2", at(3000)}};
    auto first = write(*db, a);
    CAF_REQUIRE_EQUAL(first.size(), 3u);
    CAF_CHECK(first[0] < first[1] && first[1] < first[2]);
    // A second write, two batches in one transaction.
    store_batch b;
    auto b1 = make_booking("b1", 1);
    b1.status = booking_status::cancelled;
    b1.updated_at = at(1714567000000000003);
    b.bookings = {b1};
    b.history = {{"b1", make_entry(saga_step::release_seats, 3, 3)}};
    auto done = make_saga("b2");
    done.done = true;
    b.sagas = {done};
    t2.departures = {{"2027-01-02", 8}};
    b.tours = {t2};
    b.released = {"b3"};
    b.keys = {{"k-new", "fp-other", "b9", at(5000)}};
    b.keys_expire_before = at(2000);
    b.published = {first[1]};
    store_batch c;
    c.events = {make_event("e4")};
    auto second = db->write({&b, &c});
    CAF_REQUIRE(second);
    CAF_REQUIRE_EQUAL(second->size(), 1u);
    CAF_CHECK((*second)[0] > first[2]);
    seqs = {first[0], first[2], (*second)[0]};
    // What the store must hold now.
    b1.saga = {make_entry(saga_step::reserve_seats, 1, 1),
               make_entry(saga_step::release_seats, 3, 3)};
    auto b2 = make_booking("b2", 2);
    b2.saga = {make_entry(saga_step::authorize_payment, 2, 2)};
    // Its row was written before its last entry: that entry's time counts.
    b2.updated_at = b2.saga.back().at;
    want.bookings = {b1, b2};
    want.sagas = {make_saga("b1#cancel")};
    want.outbox = {{seqs[0], make_event("e1")},
                   {seqs[1], a.events[2]},
                   {seqs[2], make_event("e4")}};
    t1.departures = {{"2026-12-01", 10}, {"2026-12-02", 20}};
    want.tours = {t1, t2};
    want.holds = {a.holds[0], a.holds[1]};
    want.payments = {a.payments[1], a.payments[0]};
    want.notifications = {make_note("n1"), make_note("n2")};
    want.keys = {{"k-new", "fp-new", "b2", at(3000)}};
    check_same(load(*db), want);
  }
  auto db = open(path);
  check_same(load(*db), want);
  // Appending after a reopen continues the history and the outbox.
  store_batch d;
  d.history = {{"b2", make_entry(saga_step::send_notification, 1, 4)}};
  d.events = {make_event("e5")};
  auto third = write(*db, d);
  CAF_REQUIRE_EQUAL(third.size(), 1u);
  CAF_CHECK(third[0] > seqs[2]);
  auto st = load(*db);
  CAF_REQUIRE_EQUAL(st.bookings.size(), 2u);
  CAF_REQUIRE_EQUAL(st.bookings[1].saga.size(), 2u);
  CAF_CHECK(st.bookings[1].saga[1].step == saga_step::send_notification);
  CAF_CHECK_EQUAL(st.bookings[1].updated_at, st.bookings[1].saga[1].at);
  CAF_CHECK_EQUAL(st.outbox.back().seq, third[0]);
}

CAF_TEST(reopening changes nothing) {
  auto path = file("reopen.db");
  {
    auto db = open(path);
    store_batch b;
    b.bookings = {make_booking("b1", 1)};
    b.history = {{"b1", make_entry(saga_step::confirm_booking, 1, 1)}};
    b.sagas = {make_saga("b1")};
    b.events = {make_event("e1")};
    b.tours = {{"tour-1", "Old Town", 2500, "EUR", {{"2026-12-01", 10}}}};
    b.notifications = {make_note("n1")};
    write(*db, b);
  }
  std::vector<snapshot> states;
  for (int i = 0; i < 3; ++i) {
    auto db = open(path);
    states.push_back(load(*db));
  }
  CAF_CHECK(!is_empty(states[0]));
  CAF_CHECK_EQUAL(states[0].bookings.size(), 1u);
  check_same(states[1], states[0]);
  check_same(states[2], states[0]);
}

CAF_TEST(a file that is not a database is refused) {
  auto path = file("garbage.db");
  {
    std::ofstream out{path, std::ios::binary};
    for (int i = 0; i < 4096; ++i)
      out.put(static_cast<char>((i * 7 + 13) % 251));
  }
  auto db = sqlite_store::open(path);
  CAF_REQUIRE(!db);
  auto text = describe_error(db.error());
  CAF_CHECK(contains(text, "not a database"));
  CAF_CHECK(contains(text, path));
}

CAF_TEST(a read only file is refused) {
  auto path = file("readonly.db");
  open(path).reset();
  CAF_REQUIRE_EQUAL(::chmod(path.c_str(), 0444), 0);
  auto db = sqlite_store::open(path);
  CAF_REQUIRE(!db);
  auto text = describe_error(db.error());
  CAF_CHECK(contains(text, "read-only"));
  CAF_CHECK(contains(text, path));
}

CAF_TEST(a missing directory is refused) {
  auto path = file("missing/x.db");
  auto db = sqlite_store::open(path);
  CAF_REQUIRE(!db);
  auto text = describe_error(db.error());
  CAF_CHECK(contains(text, "does not exist"));
  CAF_CHECK(!std::filesystem::exists(file("missing")));
}

CAF_TEST(the outbox reads in pages after a sequence number) {
  auto db = open(file("pages.db"));
  store_batch b;
  for (int i = 0; i < 5; ++i)
    b.events.push_back(make_event("e" + std::to_string(i)));
  auto seqs = write(*db, b);
  CAF_REQUIRE_EQUAL(seqs.size(), 5u);
  // Published rows go; the pages carry on after the last one read.
  store_batch done;
  done.published = {seqs[1]};
  write(*db, done);
  auto ids = [](const caf::expected<std::vector<outbox_row>>& rows) {
    std::string result;
    if (!rows)
      return describe(rows.error());
    for (auto& row : *rows)
      result += row.event.id + " ";
    return result;
  };
  CAF_CHECK_EQUAL(ids(db->read_outbox(0, 2)), "e0 e2 ");
  CAF_CHECK_EQUAL(ids(db->read_outbox(seqs[2], 2)), "e3 e4 ");
  CAF_CHECK_EQUAL(ids(db->read_outbox(seqs[4], 2)), "");
  auto rows = db->read_outbox(seqs[2], 1);
  CAF_REQUIRE(rows && rows->size() == 1u);
  CAF_CHECK_EQUAL(rows->front().seq, seqs[3]);
  CAF_CHECK_EQUAL(load(*db).outbox_events, 4);
}

CAF_TEST(a file in use is refused) {
  auto path = file("locked.db");
  // Created before, so the first opener migrates nothing and only reads.
  open(path).reset();
  auto first = open(path);
  auto second = sqlite_store::open(path);
  CAF_REQUIRE(!second);
  auto text = describe_error(second.error());
  CAF_CHECK(contains(text, "locked"));
  CAF_CHECK(contains(text, path));
  // The holder is unaffected, and the file is free again once it closes.
  store_batch b;
  b.events = {make_event("e1")};
  CAF_CHECK_EQUAL(write(*first, b).size(), 1u);
  first.reset();
  auto again = open(path);
  CAF_CHECK_EQUAL(load(*again).outbox.size(), 1u);
}

CAF_TEST(a newer schema is refused) {
  auto path = file("newer.db");
  open(path).reset();
  auto newer = std::to_string(sqlite_store::schema_version() + 1);
  raw(path, "PRAGMA user_version = " + newer);
  CAF_REQUIRE_EQUAL(raw(path, "PRAGMA user_version"), newer);
  auto db = sqlite_store::open(path);
  CAF_REQUIRE(!db);
  auto text = describe_error(db.error());
  CAF_CHECK(contains(text, "newer"));
  CAF_CHECK(contains(text, "schema " + newer));
}

CAF_TEST(a failed write rolls back everything) {
  auto path = file("full.db");
  auto db = open(path);
  store_batch good;
  good.bookings = {make_booking("b1", 1)};
  good.events = {make_event("e1")};
  auto seqs = write(*db, good);
  auto before = load(*db);
  // The process may not grow any file past 64 KiB: the large batch below
  // cannot be written, as on a full disk.
  struct rlimit old_limit;
  CAF_REQUIRE_EQUAL(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 64 * 1024;
  CAF_REQUIRE_EQUAL(::setrlimit(RLIMIT_FSIZE, &small), 0);
  store_batch big;
  big.history = {{"b1", make_entry(saga_step::confirm_booking, 1, 1)}};
  big.events = {make_event("e2")};
  for (int i = 0; i < 50; ++i) {
    auto n = make_note("n" + std::to_string(i));
    n.body = std::string(8 * 1024, 'x');
    big.notifications.push_back(n);
  }
  big.published = seqs;
  auto failed = db->write({&big});
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  CAF_REQUIRE(!failed);
  auto text = describe_error(failed.error());
  CAF_MESSAGE("write failed with: " << text);
  CAF_CHECK(contains(text, path));
  CAF_CHECK(contains(text, "disk is full") || contains(text, "I/O error"));
  check_same(load(*db), before);
  // The store stays usable, and nothing of the failed batch comes back.
  store_batch next;
  next.events = {make_event("e3")};
  auto later = write(*db, next);
  CAF_REQUIRE_EQUAL(later.size(), 1u);
  db.reset();
  db = open(path);
  auto after = load(*db);
  CAF_CHECK_EQUAL(after.notifications.size(), 0u);
  CAF_REQUIRE_EQUAL(after.bookings.size(), 1u);
  CAF_CHECK_EQUAL(after.bookings[0].saga.size(), 0u);
  CAF_REQUIRE_EQUAL(after.outbox.size(), 2u);
  CAF_CHECK_EQUAL(after.outbox[0].event.id, "e1");
  CAF_CHECK_EQUAL(after.outbox[1].event.id, "e3");
}

CAF_TEST(start up loads only what unfinished sagas work on) {
  auto path = file("scope.db");
  auto db = open(path);
  store_batch a;
  tour t{"tour-1", "Old Town", 2500, "EUR", {{"2026-12-01", 10}}};
  a.tours = {t};
  a.counts = {{"tour-1", "2026-12-01", 10, 2, 3}};
  auto done = make_booking("done", 1);
  auto live = make_booking("live", 2);
  a.bookings = {done, live};
  a.history = {{"done", make_entry(saga_step::reserve_seats, 1, 1)},
               {"live", make_entry(saga_step::reserve_seats, 1, 2)},
               {"done", make_entry(saga_step::send_notification, 1, 3)}};
  auto saga = make_saga("live");
  saga.req.id = "live";
  a.sagas = {saga};
  a.holds = {{"done", "tour-1", "2026-12-01", 3, true},
             {"live", "tour-1", "2026-12-01", 2, false}};
  a.payments = {{{"done", payment_state::captured, 100, 100, 0}, "tok_d"},
                {{"live", payment_state::authorized, 200, 0, 0}, "tok_l"}};
  auto note_done = make_note("n1");
  note_done.booking_id = "done";
  auto note_live = make_note("n2");
  note_live.booking_id = "live";
  a.notifications = {note_done, note_live};
  write(*db, a);
  auto all = load(*db);
  CAF_REQUIRE_EQUAL(all.bookings.size(), 2u);
  auto st = load(*db, load_scope::unfinished);
  CAF_REQUIRE_EQUAL(st.bookings.size(), 1u);
  CAF_CHECK_EQUAL(st.bookings[0].id, "live");
  CAF_CHECK_EQUAL(st.bookings[0].saga.size(), 1u);
  CAF_REQUIRE_EQUAL(st.holds.size(), 1u);
  CAF_CHECK_EQUAL(st.holds[0].booking_id, "live");
  CAF_REQUIRE_EQUAL(st.payments.size(), 1u);
  CAF_CHECK_EQUAL(st.payments[0].token, "tok_l");
  CAF_REQUIRE_EQUAL(st.notifications.size(), 1u);
  CAF_CHECK_EQUAL(st.notifications[0].id, "n2");
  CAF_CHECK_EQUAL(st.sagas.size(), 1u);
  // The counts include the seats of the hold left in the file.
  CAF_REQUIRE_EQUAL(st.counts.size(), 1u);
  CAF_CHECK_EQUAL(st.counts[0].held, 2);
  CAF_CHECK_EQUAL(st.counts[0].sold, 3);
  CAF_CHECK_EQUAL(st.counts[0].capacity, 10);
  CAF_REQUIRE_EQUAL(st.tours.size(), 1u);
  CAF_CHECK_EQUAL(st.tours[0].departures.size(), 1u);
  // A finished booking reads back as a full load has it.
  auto rec = db->read_booking("done");
  CAF_REQUIRE(rec);
  check_same(std::vector{*rec}, std::vector{all.bookings[0]});
  CAF_CHECK_EQUAL(rec->saga.size(), 2u);
  auto missing = db->read_booking("nope");
  CAF_REQUIRE(!missing);
  CAF_CHECK(is(missing.error(), booking_errc::not_found));
  auto parts = db->read_parts("done");
  CAF_REQUIRE(parts);
  CAF_REQUIRE_EQUAL(parts->holds.size(), 1u);
  CAF_CHECK(parts->holds[0].sold);
  CAF_REQUIRE_EQUAL(parts->payments.size(), 1u);
  CAF_CHECK_EQUAL(parts->payments[0].token, "tok_d");
  CAF_REQUIRE_EQUAL(parts->notifications.size(), 1u);
  check_same(parts->notifications, std::vector{note_done});
  auto none = db->read_parts("nope");
  CAF_REQUIRE(none);
  CAF_CHECK(none->holds.empty() && none->payments.empty()
            && none->notifications.empty());
  // Listing pages by id, filters included.
  booking_filter f;
  f.limit = 1;
  auto page = db->list_bookings(f);
  CAF_REQUIRE(page && page->size() == 1u);
  check_same(*page, std::vector{all.bookings[0]});
  f.after_id = "done";
  page = db->list_bookings(f);
  CAF_REQUIRE(page && page->size() == 1u);
  CAF_CHECK_EQUAL((*page)[0].id, "live");
  f.after_id = "live";
  page = db->list_bookings(f);
  CAF_REQUIRE(page);
  CAF_CHECK(page->empty());
  booking_filter by_email;
  by_email.email = "live@example.org";
  page = db->list_bookings(by_email);
  CAF_REQUIRE(page && page->size() == 1u);
  CAF_CHECK_EQUAL((*page)[0].id, "live");
  booking_filter by_status;
  by_status.status = "confirmed";
  page = db->list_bookings(by_status);
  CAF_REQUIRE(page);
  CAF_CHECK(page->empty());
  auto note = db->read_notification("n1");
  CAF_REQUIRE(note);
  check_same(std::vector{*note}, std::vector{note_done});
  notification_filter nf;
  nf.booking_id = "live";
  auto notes = db->list_notifications(nf);
  CAF_REQUIRE(notes && notes->size() == 1u);
  CAF_CHECK_EQUAL((*notes)[0].id, "n2");
}

CAF_TEST(a parked saga stays out of start - up and reads back by booking id) {
  auto path = file("parked.db");
  auto db = open(path);
  auto parked = make_saga("b9#cancel");
  parked.phase = saga_phase_done;
  parked.step.clear();
  parked.redrive = false;
  CAF_REQUIRE(parked.parked());
  auto running = make_saga("b8");
  store_batch a;
  a.sagas = {parked, running};
  write(*db, a);
  auto st = load(*db, load_scope::unfinished);
  CAF_REQUIRE_EQUAL(st.sagas.size(), 1u);
  CAF_CHECK_EQUAL(st.sagas[0].key, "b8");
  auto back = db->read_parked("b9");
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(caf::deep_to_string(*back), caf::deep_to_string(parked));
  CAF_REQUIRE_EQUAL(back->gave_up.size(), 2u);
  CAF_CHECK_EQUAL(back->gave_up[1].step, "release_seats");
  CAF_CHECK_EQUAL(back->gave_up[1].attempts, 12);
  CAF_CHECK(!db->read_parked("b8"));
  auto missing = db->read_parked("nope");
  CAF_REQUIRE(!missing);
  CAF_CHECK(is(missing.error(), booking_errc::not_found));
  auto all = db->load_parked();
  CAF_REQUIRE(all);
  CAF_REQUIRE_EQUAL(all->size(), 1u);
  CAF_CHECK_EQUAL((*all)[0].key, "b9#cancel");
  // A re-drive's first checkpoint replaces it: nothing is parked then.
  store_batch b;
  auto redriving = parked;
  redriving.phase = 0;
  redriving.step = "refund_payment";
  redriving.redrive = true;
  b.sagas = {redriving};
  write(*db, b);
  CAF_CHECK(!db->read_parked("b9"));
  CAF_CHECK_EQUAL(load(*db, load_scope::unfinished).sagas.size(), 2u);
}

CAF_TEST(bookings are counted by status as they change) {
  auto path = file("counts.db");
  {
    auto db = open(path);
    store_batch a;
    a.status_deltas = {2, 0, 0, 0, 0, 0};
    store_batch b;
    b.status_deltas = {-1, 1, 0, 0, 0, 0};
    store_batch c;
    c.status_deltas = {0, -1, 0, 0, 0, 1};
    write(*db, a);
    write(*db, b);
    write(*db, c);
    auto st = load(*db, load_scope::unfinished);
    CAF_CHECK_EQUAL(st.status_counts, (std::vector<int64_t>{1, 0, 0, 0, 0, 1}));
  }
  // Reopened, the counts are there.
  auto db = open(path);
  CAF_CHECK_EQUAL(load(*db, load_scope::unfinished).status_counts,
                  (std::vector<int64_t>{1, 0, 0, 0, 0, 1}));
}

CAF_TEST(a store of schema 4 counts the bookings it holds by status) {
  auto path = file("four.db");
  {
    auto db = open(path);
    store_batch a;
    auto b3 = make_booking("b3", 3);
    b3.status = booking_status::confirmed;
    a.bookings = {make_booking("b1", 1), make_booking("b2", 2), b3};
    write(*db, a);
  }
  for (auto sql :
       {"ALTER TABLE sagas DROP COLUMN gave_up",
        "ALTER TABLE sagas DROP COLUMN redrive", "DROP TABLE booking_counts",
        "ALTER TABLE sagas DROP COLUMN req_traceparent",
        "ALTER TABLE outbox DROP COLUMN traceparent", "PRAGMA user_version=4"})
    raw(path, sql);
  auto db = open(path);
  CAF_CHECK_EQUAL(load(*db, load_scope::unfinished).status_counts,
                  (std::vector<int64_t>{0, 1, 0, 2, 0, 0}));
}

CAF_TEST(a store of schema 3 opens with no reply queues) {
  auto path = file("three.db");
  {
    auto db = open(path);
    store_batch a;
    a.sagas = {make_saga("b1")};
    a.events = {make_event("e1")};
    write(*db, a);
  }
  for (auto sql :
       {"ALTER TABLE sagas DROP COLUMN gave_up",
        "ALTER TABLE sagas DROP COLUMN redrive", "DROP TABLE booking_counts",
        "ALTER TABLE sagas DROP COLUMN req_traceparent",
        "ALTER TABLE outbox DROP COLUMN traceparent",
        "ALTER TABLE sagas DROP COLUMN req_reply_to",
        "ALTER TABLE outbox DROP COLUMN reply_to", "PRAGMA user_version=3"})
    raw(path, sql);
  auto db = open(path);
  auto st = load(*db);
  CAF_REQUIRE_EQUAL(st.sagas.size(), 1u);
  CAF_CHECK_EQUAL(st.sagas[0].req.reply_to, "");
  CAF_CHECK_EQUAL(st.sagas[0].req.correlation_id, "corr-saga");
  CAF_REQUIRE_EQUAL(st.outbox.size(), 1u);
  CAF_CHECK_EQUAL(st.outbox[0].event.reply_to, "");
  CAF_CHECK_EQUAL(st.outbox[0].event.id, "e1");
}

CAF_TEST(a store of schema 1 gets its seat counts from its holds) {
  auto path = file("old.db");
  {
    auto db = open(path);
    store_batch a;
    a.tours = {{"tour-1",
                "Old Town",
                2500,
                "EUR",
                {{"2026-12-01", 10}, {"2026-12-02", 5}}}};
    a.holds = {{"b1", "tour-1", "2026-12-01", 3, true},
               {"b2", "tour-1", "2026-12-01", 2, true},
               {"b3", "tour-1", "2026-12-01", 1, false}};
    write(*db, a);
  }
  // What a build of schema 1 left: no counts, no read indexes, saga rows
  // by index.
  for (auto sql :
       {"ALTER TABLE sagas DROP COLUMN gave_up",
        "ALTER TABLE sagas DROP COLUMN redrive", "DROP TABLE booking_counts",
        "ALTER TABLE sagas DROP COLUMN req_traceparent",
        "ALTER TABLE outbox DROP COLUMN traceparent",
        "DROP INDEX booking_history_by_booking",
        "DROP INDEX notifications_by_booking",
        "ALTER TABLE departures DROP COLUMN held",
        "ALTER TABLE departures DROP COLUMN sold",
        "ALTER TABLE sagas DROP COLUMN table_version",
        "ALTER TABLE sagas DROP COLUMN step",
        "ALTER TABLE sagas ADD COLUMN step_row INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sagas DROP COLUMN req_reply_to",
        "ALTER TABLE outbox DROP COLUMN reply_to", "PRAGMA user_version=1"})
    raw(path, sql);
  CAF_REQUIRE_EQUAL(raw(path, "PRAGMA user_version"), "1");
  auto db = open(path);
  auto st = load(*db, load_scope::unfinished);
  CAF_REQUIRE_EQUAL(st.counts.size(), 2u);
  CAF_CHECK_EQUAL(st.counts[0].held, 1);
  CAF_CHECK_EQUAL(st.counts[0].sold, 5);
  CAF_CHECK_EQUAL(st.counts[1].held, 0);
  CAF_CHECK_EQUAL(st.counts[1].sold, 0);
  // No saga runs: no hold is loaded.
  CAF_CHECK(st.holds.empty());
  db.reset();
  CAF_CHECK_EQUAL(raw(path, "PRAGMA user_version"),
                  std::to_string(sqlite_store::schema_version()));
}

CAF_TEST(a store of an older release names its saga rows by step) {
  // A file release 2ee12ec wrote and left with 16 sagas in flight
  // (tests/fixtures/README.md); it stored saga rows by index.
  auto path = file("old.db");
  std::filesystem::copy_file(
    std::string{BOOKING_SOURCE_DIR} + "/tests/fixtures/store-2ee12ec.db", path);
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  CAF_REQUIRE_EQUAL(raw(path, "PRAGMA user_version"), "1");
  auto db = open(path);
  auto st = load(*db, load_scope::unfinished);
  CAF_REQUIRE_EQUAL(st.sagas.size(), 16u);
  // The versions of the tables that release ran (actors.saga_tables pins
  // them), and each index as that table's step name.
  std::map<std::string, int> seen;
  for (auto& cp : st.sagas) {
    CAF_CHECK_EQUAL(version_text(cp.version),
                    cp.cancellation ? "7d749887148cc7f7" : "b54488f520ef2c8c");
    std::string undo;
    for (auto& x : cp.to_compensate)
      undo += x + ";";
    ++seen[std::to_string(cp.cancellation) + " " + std::to_string(cp.phase)
           + " " + cp.step + " " + undo];
  }
  CAF_CHECK_EQUAL(seen, (std::map<std::string, int>{
                          {"0 0 authorize_payment reserve_seats;", 6},
                          {"0 0 confirm_booking reserve_seats;"
                           "authorize_payment;",
                           7},
                          {"0 3 reserve_seats ", 1},
                          {"1 0 refund_payment ", 2}}));
  db.reset();
  CAF_CHECK_EQUAL(raw(path, "PRAGMA user_version"),
                  std::to_string(sqlite_store::schema_version()));
}

CAF_TEST(a saga row whose index no table had maps to no step) {
  auto path = file("odd.db");
  {
    auto db = open(path);
    store_batch a;
    a.sagas = {make_saga("b1"), make_saga("b2#cancel")};
    a.sagas[0].cancellation = false;
    write(*db, a);
  }
  for (auto sql :
       {"ALTER TABLE sagas DROP COLUMN gave_up",
        "ALTER TABLE sagas DROP COLUMN redrive", "DROP TABLE booking_counts",
        "ALTER TABLE sagas DROP COLUMN req_traceparent",
        "ALTER TABLE outbox DROP COLUMN traceparent",
        "ALTER TABLE sagas DROP COLUMN table_version",
        "ALTER TABLE sagas DROP COLUMN step",
        "ALTER TABLE sagas ADD COLUMN step_row INTEGER NOT NULL "
        "DEFAULT 0",
        "UPDATE sagas SET step_row = 7, to_compensate = '0,5'",
        "ALTER TABLE sagas DROP COLUMN req_reply_to",
        "ALTER TABLE outbox DROP COLUMN reply_to", "PRAGMA user_version=2"})
    raw(path, sql);
  auto db = open(path);
  auto st = load(*db, load_scope::unfinished);
  CAF_REQUIRE_EQUAL(st.sagas.size(), 2u);
  CAF_CHECK_EQUAL(st.sagas[0].step, "row 7");
  CAF_CHECK_EQUAL(st.sagas[0].to_compensate,
                  (std::vector<std::string>{"reserve_seats", "5"}));
  CAF_CHECK_EQUAL(st.sagas[1].step, "row 7");
  CAF_CHECK_EQUAL(st.sagas[1].to_compensate,
                  (std::vector<std::string>{"refund_payment", "5"}));
}

CAF_TEST_FIXTURE_SCOPE_END()
