#include "actors/store/sqlite_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/errors.hpp"

namespace booking {

namespace {

// -- schema -------------------------------------------------------------------

// Script i brings the schema from version i to i + 1. Never edit a script
// that has shipped: append a new one.
const std::vector<const char*>& migrations() {
  static const std::vector<const char*> scripts{
    R"sql(
CREATE TABLE tours (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  price_cents INTEGER NOT NULL,
  currency TEXT NOT NULL
);
CREATE TABLE departures (
  tour_id TEXT NOT NULL,
  date TEXT NOT NULL,
  capacity INTEGER NOT NULL,
  PRIMARY KEY (tour_id, date)
) WITHOUT ROWID;
CREATE TABLE holds (
  booking_id TEXT PRIMARY KEY,
  tour_id TEXT NOT NULL,
  date TEXT NOT NULL,
  seats INTEGER NOT NULL,
  sold INTEGER NOT NULL
);
CREATE TABLE bookings (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  tour_id TEXT NOT NULL,
  date TEXT NOT NULL,
  seats INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL,
  currency TEXT NOT NULL,
  customer_name TEXT NOT NULL,
  customer_email TEXT NOT NULL,
  customer_phone TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- Append-only, in the order entries happened (rowid): no key, so an append
-- writes to the last page instead of a random one. Only loading reads it.
CREATE TABLE booking_history (
  booking_id TEXT NOT NULL,
  step TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  error TEXT NOT NULL
);
CREATE TABLE sagas (
  key TEXT PRIMARY KEY,
  cancellation INTEGER NOT NULL,
  req_id TEXT NOT NULL,
  req_tour_id TEXT NOT NULL,
  req_date TEXT NOT NULL,
  req_seats INTEGER NOT NULL,
  req_customer_name TEXT NOT NULL,
  req_customer_email TEXT NOT NULL,
  req_customer_phone TEXT NOT NULL,
  req_payment_token TEXT NOT NULL,
  req_correlation_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL,
  currency TEXT NOT NULL,
  phase INTEGER NOT NULL,
  step_row INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  to_compensate TEXT NOT NULL,
  compensation_failed INTEGER NOT NULL,
  reason TEXT NOT NULL,
  outcome TEXT NOT NULL,
  retry_at INTEGER NOT NULL
);
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  time INTEGER NOT NULL,
  correlation_id TEXT NOT NULL,
  booking_id TEXT NOT NULL,
  tour_id TEXT NOT NULL,
  date TEXT NOT NULL,
  seats INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL,
  currency TEXT NOT NULL,
  customer_email TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  kind TEXT NOT NULL,
  channel TEXT NOT NULL
);
CREATE TABLE payments (
  booking_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  authorized_cents INTEGER NOT NULL,
  captured_cents INTEGER NOT NULL,
  refunded_cents INTEGER NOT NULL,
  token TEXT NOT NULL,
  failed_authorizations INTEGER NOT NULL,
  failed_reversals INTEGER NOT NULL
);
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  booking_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  channel TEXT NOT NULL,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE idempotency_keys (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  booking_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
-- Expiry deletes by age on every batch that carries a cutoff.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
)sql",
    // Finished bookings live only in the file: reading one back, with its
    // history and notifications, goes by booking id. Ids grow with time, so
    // these indexes are appended to at their end, like the tables.
    //
    // Departures count their held and sold seats, so start-up need not
    // replay the holds of every booking ever made: it loads those of
    // unfinished sagas only.
    R"sql(
CREATE INDEX booking_history_by_booking ON booking_history (booking_id);
CREATE INDEX notifications_by_booking ON notifications (booking_id);
ALTER TABLE departures ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE departures ADD COLUMN sold INTEGER NOT NULL DEFAULT 0;
UPDATE departures SET
  held = (SELECT COALESCE(SUM(h.seats), 0) FROM holds h
          WHERE h.tour_id = departures.tour_id AND h.date = departures.date
            AND h.sold = 0),
  sold = (SELECT COALESCE(SUM(h.seats), 0) FROM holds h
          WHERE h.tour_id = departures.tour_id AND h.date = departures.date
            AND h.sold <> 0);
)sql",
    // Saga checkpoints name their table's version and their rows by step,
    // never by index (docs/upgrades.md). Every checkpoint written so far ran
    // on the first version of its table: its indexes are mapped to that
    // version's step names here, once. An index outside that table maps to
    // a name no table has, so the saga is suspended, never guessed at.
    R"sql(
ALTER TABLE sagas ADD COLUMN table_version TEXT NOT NULL DEFAULT '';
ALTER TABLE sagas ADD COLUMN step TEXT NOT NULL DEFAULT '';
UPDATE sagas SET
  table_version = CASE cancellation
    WHEN 0 THEN 'b54488f520ef2c8c' ELSE '7d749887148cc7f7' END,
  step = CASE cancellation
    WHEN 0 THEN CASE step_row
      WHEN 0 THEN 'reserve_seats' WHEN 1 THEN 'authorize_payment'
      WHEN 2 THEN 'confirm_booking' WHEN 3 THEN 'send_notification'
      WHEN 4 THEN '' ELSE 'row ' || step_row END
    ELSE CASE step_row
      WHEN 0 THEN 'refund_payment' WHEN 1 THEN 'release_seats'
      WHEN 2 THEN 'cancel_booking' WHEN 3 THEN 'send_notification'
      WHEN 4 THEN '' ELSE 'row ' || step_row END
    END,
  to_compensate = CASE cancellation
    WHEN 0 THEN replace(replace(replace(replace(to_compensate,
      '0', 'reserve_seats'), '1', 'authorize_payment'),
      '2', 'confirm_booking'), '3', 'send_notification')
    ELSE replace(replace(replace(replace(to_compensate,
      '0', 'refund_payment'), '1', 'release_seats'),
      '2', 'cancel_booking'), '3', 'send_notification')
    END;
ALTER TABLE sagas DROP COLUMN step_row;
)sql",
    // A booking taken from the AMQP intake with a `reply_to` keeps it with
    // its saga, which puts the reply in the outbox with its outcome event:
    // a crash after the intake message was acked no longer loses it. An
    // outbox row with a `reply_to` goes to that queue, not to
    // booking.events.
    R"sql(
ALTER TABLE sagas ADD COLUMN req_reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
)sql",
    // A saga that ends in compensation_failed keeps its row (phase 4,
    // "done"), with the steps that gave up and their attempts
    // ("step:attempts,..."), until an operator re-drives it; a re-drive's
    // rows say so. Start-up does not load the parked ones.
    //
    // A saga keeps the W3C trace context of the request that started it,
    // and its events carry it (`traceparent`).
    //
    // The bookings per status are counted as they change, in the same
    // transactions, so the summary never scans the table; the count of the
    // bookings written so far is taken here, once.
    R"sql(
ALTER TABLE sagas ADD COLUMN gave_up TEXT NOT NULL DEFAULT '';
ALTER TABLE sagas ADD COLUMN redrive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sagas ADD COLUMN req_traceparent TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
CREATE TABLE booking_counts (
  status TEXT PRIMARY KEY,
  n INTEGER NOT NULL
);
INSERT INTO booking_counts (status, n)
  SELECT status, COUNT(*) FROM bookings GROUP BY status;
)sql",
  };
  return scripts;
}

// -- statements ---------------------------------------------------------------

struct connection_closer {
  void operator()(sqlite3* db) const {
    sqlite3_close_v2(db);
  }
};

struct statement_finalizer {
  void operator()(sqlite3_stmt* stmt) const {
    sqlite3_finalize(stmt);
  }
};

using connection = std::unique_ptr<sqlite3, connection_closer>;
using statement = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

int bind(sqlite3_stmt* s, int i, const std::string& x) {
  // The strings outlive the step, so SQLite need not copy them.
  return sqlite3_bind_text64(s, i, x.data(), x.size(), SQLITE_STATIC,
                             SQLITE_UTF8);
}

int bind(sqlite3_stmt* s, int i, int64_t x) {
  return sqlite3_bind_int64(s, i, x);
}

int bind(sqlite3_stmt* s, int i, int32_t x) {
  return sqlite3_bind_int64(s, i, x);
}

int bind(sqlite3_stmt* s, int i, uint8_t x) {
  return sqlite3_bind_int64(s, i, x);
}

int bind(sqlite3_stmt* s, int i, bool x) {
  return sqlite3_bind_int64(s, i, x ? 1 : 0);
}

int bind(sqlite3_stmt* s, int i, caf::timestamp x) {
  return sqlite3_bind_int64(s, i, x.time_since_epoch().count());
}

template <class Enum>
std::enable_if_t<std::is_enum_v<Enum>, int>
bind(sqlite3_stmt* s, int i, Enum x) {
  auto name = to_string(x);
  return sqlite3_bind_text64(s, i, name.data(), name.size(), SQLITE_TRANSIENT,
                             SQLITE_UTF8);
}

/// Binds `xs` to the parameters 1..n, runs the statement to completion and
/// resets it. Returns SQLITE_OK or the error code.
template <class... Ts>
int run(sqlite3_stmt* s, const Ts&... xs) {
  int i = 0;
  int rc = SQLITE_OK;
  ((rc = rc == SQLITE_OK ? bind(s, ++i, xs) : rc), ...);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      ; // Nothing the write path runs returns rows it needs.
    if (rc == SQLITE_DONE)
      rc = SQLITE_OK;
  }
  sqlite3_reset(s);
  return rc;
}

/// Reads the columns of one result row, left to right.
class row_reader {
public:
  explicit row_reader(sqlite3_stmt* s) : stmt_(s) {
    // nop
  }

  template <class... Ts>
  void operator()(Ts&... xs) {
    (read(xs), ...);
  }

  /// Empty unless a column held a value this build cannot read.
  const std::string& problem() const {
    return problem_;
  }

private:
  void read(std::string& x) {
    auto col = next_++;
    auto bytes = sqlite3_column_bytes(stmt_, col);
    auto text = sqlite3_column_text(stmt_, col);
    if (text == nullptr)
      x.clear();
    else
      x.assign(reinterpret_cast<const char*>(text), static_cast<size_t>(bytes));
  }

  void read(int64_t& x) {
    x = sqlite3_column_int64(stmt_, next_++);
  }

  void read(int32_t& x) {
    x = static_cast<int32_t>(sqlite3_column_int64(stmt_, next_++));
  }

  void read(uint8_t& x) {
    x = static_cast<uint8_t>(sqlite3_column_int64(stmt_, next_++));
  }

  void read(bool& x) {
    x = sqlite3_column_int64(stmt_, next_++) != 0;
  }

  void read(caf::timestamp& x) {
    x = caf::timestamp{caf::timespan{sqlite3_column_int64(stmt_, next_++)}};
  }

  template <class Enum>
  std::enable_if_t<std::is_enum_v<Enum>> read(Enum& x) {
    std::string name;
    read(name);
    // The to_string functions answer "unknown" past the last value.
    for (int i = 0; i < 256; ++i) {
      auto value = static_cast<Enum>(i);
      auto known = to_string(value);
      if (known == name) {
        x = value;
        return;
      }
      if (known == "unknown")
        break;
    }
    if (problem_.empty())
      problem_ = "unknown value '" + name + "' in column "
                 + sqlite3_column_name(stmt_, next_ - 1);
  }

  sqlite3_stmt* stmt_;
  int next_ = 0;
  std::string problem_;
};

/// Step names, comma-separated (a name holds no comma).
std::string join(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += ',';
    result += x;
  }
  return result;
}

/// Steps that gave up, as "step:attempts", comma-separated.
std::string join(const std::vector<gave_up_step>& xs) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += ',';
    result += x.step + ':' + std::to_string(x.attempts);
  }
  return result;
}

bool split(const std::string& text, std::vector<std::string>& xs);

bool split(const std::string& text, std::vector<gave_up_step>& xs) {
  std::vector<std::string> items;
  if (!split(text, items))
    return false;
  xs.clear();
  for (auto& item : items) {
    auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
      return false;
    auto digits = item.substr(colon + 1);
    if (digits.size() > 9
        || digits.find_first_not_of("0123456789") != std::string::npos)
      return false;
    xs.push_back({item.substr(0, colon), std::stoi(digits)});
  }
  return true;
}

bool split(const std::string& text, std::vector<std::string>& xs) {
  xs.clear();
  if (text.empty())
    return true;
  size_t pos = 0;
  for (;;) {
    auto end = text.find(',', pos);
    auto item = text.substr(pos, end == std::string::npos ? end : end - pos);
    if (item.empty())
      return false;
    xs.push_back(std::move(item));
    if (end == std::string::npos)
      return true;
    pos = end + 1;
  }
}

/// The folder a file path lives in.
std::string parent_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos)
    return ".";
  if (pos == 0)
    return "/";
  return path.substr(0, pos);
}

/// Plain words for an SQLite result code, with the OS error where it helps.
std::string cause_of(int rc, sqlite3* db) {
  auto with_os_error = [db](std::string text) {
    auto err = db != nullptr ? sqlite3_system_errno(db) : 0;
    if (err != 0)
      text += std::string{" ("} + std::strerror(err) + ")";
    return text;
  };
  switch (rc) {
    case SQLITE_IOERR_READ:
    case SQLITE_IOERR_SHORT_READ:
      return with_os_error("I/O error while reading");
    case SQLITE_IOERR_WRITE:
      return with_os_error("I/O error while writing");
    case SQLITE_IOERR_FSYNC:
    case SQLITE_IOERR_DIR_FSYNC:
      return with_os_error("I/O error while syncing to disk");
    case SQLITE_READONLY_DIRECTORY:
      return "the directory is read-only";
    case SQLITE_READONLY_DBMOVED:
      return "the file was moved or deleted while open";
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
      return "database is locked by another process";
    case SQLITE_NOTADB:
      return "file is not a database";
    case SQLITE_READONLY:
      return "the file is read-only";
    case SQLITE_FULL:
      return "disk is full";
    case SQLITE_CANTOPEN:
      return with_os_error("cannot open the file");
    case SQLITE_IOERR:
      return with_os_error("I/O error");
    case SQLITE_PERM:
      return with_os_error("permission denied");
    case SQLITE_CORRUPT:
      return "the database is corrupt";
    case SQLITE_NOMEM:
      return "out of memory";
    case SQLITE_TOOBIG:
      return "a value is too large to store";
    default:
      break;
  }
  return db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
}

} // namespace

// -- implementation -----------------------------------------------------------

struct sqlite_store::impl {
  std::string path;
  // Declared first, so it closes after the statements are finalized.
  connection db;

  statement begin;
  statement commit;
  statement rollback;
  statement put_booking;
  statement append_history;
  statement put_saga;
  statement delete_saga;
  statement add_count;
  statement append_event;
  statement put_tour;
  statement delete_departures;
  statement put_departure;
  statement put_counts;
  statement put_hold;
  statement delete_hold;
  statement put_payment;
  statement put_notification;
  statement put_key;
  statement expire_keys;
  statement delete_event;
  // Reading one booking's parts back (hot: once per participant and new
  // booking), prepared once like the write path.
  statement hold_of;
  statement payment_of;
  statement notifications_of;

  caf::error fail(const std::string& cause) const {
    return make_error(booking_errc::store_error, path + ": " + cause);
  }

  caf::error fail(int rc) const {
    return fail(cause_of(rc, db.get()));
  }

  int prepare(const char* sql, statement& out, unsigned flags = 0) {
    sqlite3_stmt* stmt = nullptr;
    auto rc = sqlite3_prepare_v3(db.get(), sql, -1, flags, &stmt, nullptr);
    out.reset(stmt);
    return rc;
  }

  /// Runs `sql` (one or more statements), ignoring any rows.
  int exec(const char* sql) {
    return sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr);
  }

  /// Runs a one-row statement and reads its first column as text.
  int query_text(const char* sql, std::string& out) {
    statement s;
    if (auto rc = prepare(sql, s); rc != SQLITE_OK)
      return rc;
    auto rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) {
      auto text = sqlite3_column_text(s.get(), 0);
      out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      return SQLITE_OK;
    }
    out.clear();
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }

  /// Runs `sql` with `xs` bound to its parameters and calls `f` for every
  /// row; stops at the first row the reader could not make sense of.
  template <class F, class... Ts>
  caf::error each_row(const char* sql, F f, const Ts&... xs) {
    statement s;
    if (auto rc = prepare(sql, s); rc != SQLITE_OK)
      return fail(rc);
    int rc = SQLITE_OK;
    int i = 0;
    ((rc = rc == SQLITE_OK ? bind(s.get(), ++i, xs) : rc), ...);
    if (rc != SQLITE_OK)
      return fail(rc);
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      row_reader r{s.get()};
      f(r);
      if (!r.problem().empty())
        return fail("cannot read the stored data: " + r.problem());
    }
    if (rc != SQLITE_DONE)
      return fail(rc);
    return caf::none;
  }

  /// Runs the prepared statement `s` with `key` bound and calls `f` for
  /// every row, then resets it.
  template <class F>
  caf::error each_row_in(sqlite3_stmt* s, const std::string& key, F f) {
    auto rc = bind(s, 1, key);
    caf::error err;
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
      row_reader r{s};
      f(r);
      if (!r.problem().empty()) {
        err = fail("cannot read the stored data: " + r.problem());
        break;
      }
      rc = SQLITE_OK;
    }
    if (!err && rc != SQLITE_DONE)
      err = fail(rc);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return err;
  }

  void abort_transaction() {
    // Some errors (disk full, I/O) roll back on their own already.
    if (sqlite3_get_autocommit(db.get()) == 0)
      run(rollback.get());
  }

  caf::error configure();
  caf::error migrate();
  caf::error prepare_write_path();
  /// Appends the bookings whose ids `selection` (an SQL query, its `?`
  /// bound to `xs`) selects, with their histories, ordered by id.
  caf::error
  read_bookings(std::vector<booking_record>& out, const std::string& selection,
                const std::vector<std::variant<std::string, int64_t>>& xs);
  /// Appends the saga checkpoints that `where` (an SQL clause, its `?`
  /// bound to `xs`) selects.
  caf::error
  read_sagas(std::vector<saga_checkpoint>& out, const std::string& where,
             const std::vector<std::variant<std::string, int64_t>>& xs);
  /// Appends the holds, payments and notifications of the bookings the
  /// queries select (with `everything`, each kind by its own query, else
  /// all by `holds_of`), their `?` bound to `xs`.
  caf::error
  read_parts(booking_parts& out, const std::string& holds_of,
             const std::string& payments_of, const std::string& notes_of,
             bool everything,
             const std::vector<std::variant<std::string, int64_t>>& xs);
  /// Runs `sql` with `xs` bound and calls `f` for every row.
  template <class F>
  caf::error
  each_row_of(const std::string& sql,
              const std::vector<std::variant<std::string, int64_t>>& xs, F f);
  int apply(const store_batch& b, std::vector<int64_t>& seqs);
};

caf::error sqlite_store::impl::configure() {
  // A busy file means another engine holds it: fail at once, never wait.
  sqlite3_busy_timeout(db.get(), 0);
  std::string mode;
  // Exclusive before the first access: the WAL index then lives in this
  // process's memory and the file lock is never released, so a second
  // engine on the same file is refused instead of sharing it.
  if (auto rc = query_text("PRAGMA locking_mode=EXCLUSIVE", mode);
      rc != SQLITE_OK)
    return fail(rc);
  if (auto rc = query_text("PRAGMA journal_mode=WAL", mode); rc != SQLITE_OK)
    return fail(rc);
  if (mode != "wal")
    return fail("cannot switch to write-ahead logging (journal mode stays "
                + mode + ")");
  // FULL syncs the log on every commit; commits are grouped, so it is cheap.
  if (auto rc = exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF");
      rc != SQLITE_OK)
    return fail(rc);
  // Booking ids grow with time, so writes land on the last pages of the
  // tables and indexes: a page cache of 16 MiB holds them. No memory map:
  // every page read through one stays resident, so the process would grow
  // with the file (up to the map's size). Only tunes speed and memory;
  // failing to set it is no error.
  exec("PRAGMA cache_size=-16384; PRAGMA mmap_size=0");
  // Takes the lock now rather than at the first write.
  if (auto rc = exec("BEGIN IMMEDIATE; COMMIT"); rc != SQLITE_OK) {
    auto err = fail(rc);
    exec("ROLLBACK");
    return err;
  }
  return caf::none;
}

caf::error sqlite_store::impl::migrate() {
  std::string text;
  if (auto rc = query_text("PRAGMA user_version", text); rc != SQLITE_OK)
    return fail(rc);
  auto version = std::atoi(text.c_str());
  auto known = schema_version();
  if (version > known)
    return fail("written by a newer version (schema " + std::to_string(version)
                + ", this build knows " + std::to_string(known) + ")");
  // No `PRAGMA quick_check`: it reads the whole file, so start-up would
  // grow with history. SQLite reports a damaged page when it reads one
  // (SQLITE_CORRUPT), which stops the store like any failed write.
  auto& scripts = migrations();
  for (auto next = version + 1; next <= known; ++next) {
    auto set_version = "PRAGMA user_version=" + std::to_string(next);
    auto rc = exec("BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
      rc = exec(scripts[static_cast<size_t>(next - 1)]);
    if (rc == SQLITE_OK)
      rc = exec(set_version.c_str());
    if (rc == SQLITE_OK)
      rc = exec("COMMIT");
    if (rc != SQLITE_OK) {
      auto err = fail("cannot migrate the schema to version "
                      + std::to_string(next) + ": " + cause_of(rc, db.get()));
      if (sqlite3_get_autocommit(db.get()) == 0)
        exec("ROLLBACK");
      return err;
    }
  }
  return caf::none;
}

caf::error sqlite_store::impl::prepare_write_path() {
  const std::pair<statement*, const char*> sql[] = {
    {&begin, "BEGIN IMMEDIATE"},
    {&commit, "COMMIT"},
    {&rollback, "ROLLBACK"},
    {&put_booking,
     "INSERT OR REPLACE INTO bookings (id, status, reason, tour_id, date, "
     "seats, amount_cents, currency, customer_name, customer_email, "
     "customer_phone, correlation_id, created_at, updated_at) VALUES "
     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    {&append_history,
     "INSERT INTO booking_history (booking_id, step, action, outcome, "
     "attempt, at, error) VALUES (?, ?, ?, ?, ?, ?, ?)"},
    {&put_saga,
     "INSERT OR REPLACE INTO sagas (key, cancellation, req_id, req_tour_id, "
     "req_date, req_seats, req_customer_name, req_customer_email, "
     "req_customer_phone, req_payment_token, req_correlation_id, "
     "req_reply_to, amount_cents, currency, table_version, phase, step, "
     "attempt, to_compensate, compensation_failed, reason, outcome, "
     "retry_at, gave_up, redrive, req_traceparent) VALUES "
     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
     "?, ?, ?)"},
    {&delete_saga, "DELETE FROM sagas WHERE key = ?"},
    {&add_count, "INSERT INTO booking_counts (status, n) VALUES (?, ?) "
                 "ON CONFLICT (status) DO UPDATE SET n = n + excluded.n"},
    {&append_event,
     "INSERT INTO outbox (id, type, time, correlation_id, booking_id, "
     "tour_id, date, seats, amount_cents, currency, customer_email, status, "
     "reason, kind, channel, reply_to, traceparent) VALUES "
     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    {&put_tour,
     "INSERT OR REPLACE INTO tours (id, name, price_cents, currency) "
     "VALUES (?, ?, ?, ?)"},
    {&delete_departures, "DELETE FROM departures WHERE tour_id = ?"},
    // A date listed twice keeps its last capacity, as the inventory does.
    // Its seat counts come with the tour's batch.
    {&put_departure,
     "INSERT OR REPLACE INTO departures (tour_id, date, capacity) "
     "VALUES (?, ?, ?)"},
    {&put_counts,
     "UPDATE departures SET held = ?, sold = ? WHERE tour_id = ? AND date = ?"},
    {&put_hold,
     "INSERT OR REPLACE INTO holds (booking_id, tour_id, date, seats, sold) "
     "VALUES (?, ?, ?, ?, ?)"},
    {&delete_hold, "DELETE FROM holds WHERE booking_id = ?"},
    {&put_payment,
     "INSERT OR REPLACE INTO payments (booking_id, state, authorized_cents, "
     "captured_cents, refunded_cents, token, failed_authorizations, "
     "failed_reversals) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
    {&put_notification,
     "INSERT OR REPLACE INTO notifications (id, booking_id, kind, channel, "
     "recipient, subject, body, status, attempts, created_at) VALUES "
     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    {&put_key,
     "INSERT OR IGNORE INTO idempotency_keys (key, fingerprint, booking_id, "
     "created_at) VALUES (?, ?, ?, ?)"},
    {&expire_keys, "DELETE FROM idempotency_keys WHERE created_at < ?"},
    {&delete_event, "DELETE FROM outbox WHERE seq = ?"},
    {&hold_of, "SELECT booking_id, tour_id, date, seats, sold FROM holds "
               "WHERE booking_id = ?"},
    {&payment_of,
     "SELECT booking_id, state, authorized_cents, captured_cents, "
     "refunded_cents, token, failed_authorizations, failed_reversals "
     "FROM payments WHERE booking_id = ?"},
    {&notifications_of,
     "SELECT id, booking_id, kind, channel, recipient, subject, body, status, "
     "attempts, created_at FROM notifications WHERE booking_id = ? "
     "ORDER BY id"},
  };
  for (auto& [stmt, text] : sql)
    if (auto rc = prepare(text, *stmt, SQLITE_PREPARE_PERSISTENT);
        rc != SQLITE_OK)
      return fail(rc);
  return caf::none;
}

int sqlite_store::impl::apply(const store_batch& b,
                              std::vector<int64_t>& seqs) {
  int rc = SQLITE_OK;
  for (auto& x : b.bookings)
    if ((rc = run(put_booking.get(), x.id, x.status, x.reason, x.tour_id,
                  x.date, x.seats, x.amount_cents, x.currency, x.cust.name,
                  x.cust.email, x.cust.phone, x.correlation_id, x.created_at,
                  x.updated_at))
        != SQLITE_OK)
      return rc;
  for (auto& x : b.history) {
    auto& e = x.entry;
    if ((rc = run(append_history.get(), x.booking_id, e.step, e.action,
                  e.outcome, e.attempt, e.at, e.error))
        != SQLITE_OK)
      return rc;
  }
  for (auto& x : b.sagas) {
    if (x.done) {
      rc = run(delete_saga.get(), x.key);
    } else {
      auto& r = x.req;
      rc = run(put_saga.get(), x.key, x.cancellation, r.id, r.tour_id, r.date,
               r.seats, r.cust.name, r.cust.email, r.cust.phone,
               r.payment_token, r.correlation_id, r.reply_to, x.amount_cents,
               x.currency, version_text(x.version), x.phase, x.step, x.attempt,
               join(x.to_compensate), x.compensation_failed, x.reason,
               x.outcome, x.retry_at, join(x.gave_up), x.redrive,
               r.trace.text());
    }
    if (rc != SQLITE_OK)
      return rc;
  }
  for (size_t i = 0; i < b.status_deltas.size(); ++i)
    if (b.status_deltas[i] != 0
        && (rc = run(add_count.get(), static_cast<booking_status>(i),
                     b.status_deltas[i]))
             != SQLITE_OK)
      return rc;
  for (auto& x : b.events) {
    if ((rc = run(append_event.get(), x.id, x.type, x.time, x.correlation_id,
                  x.booking_id, x.tour_id, x.date, x.seats, x.amount_cents,
                  x.currency, x.customer_email, x.status, x.reason, x.kind,
                  x.channel, x.reply_to, x.traceparent))
        != SQLITE_OK)
      return rc;
    seqs.push_back(sqlite3_last_insert_rowid(db.get()));
  }
  for (auto& x : b.tours) {
    if ((rc = run(put_tour.get(), x.id, x.name, x.price_cents, x.currency))
          != SQLITE_OK
        || (rc = run(delete_departures.get(), x.id)) != SQLITE_OK)
      return rc;
    for (auto& d : x.departures)
      if ((rc = run(put_departure.get(), x.id, d.date, d.capacity))
          != SQLITE_OK)
        return rc;
  }
  for (auto& x : b.counts)
    if ((rc = run(put_counts.get(), x.held, x.sold, x.tour_id, x.date))
        != SQLITE_OK)
      return rc;
  for (auto& x : b.holds)
    if ((rc = run(put_hold.get(), x.booking_id, x.tour_id, x.date, x.seats,
                  x.sold))
        != SQLITE_OK)
      return rc;
  for (auto& id : b.released)
    if ((rc = run(delete_hold.get(), id)) != SQLITE_OK)
      return rc;
  for (auto& x : b.payments) {
    auto& p = x.intent;
    if ((rc = run(put_payment.get(), p.booking_id, p.state, p.authorized_cents,
                  p.captured_cents, p.refunded_cents, x.token,
                  x.failed_authorizations, x.failed_reversals))
        != SQLITE_OK)
      return rc;
  }
  for (auto& x : b.notifications)
    if ((rc = run(put_notification.get(), x.id, x.booking_id, x.kind, x.channel,
                  x.to, x.subject, x.body, x.status, x.attempts, x.created_at))
        != SQLITE_OK)
      return rc;
  for (auto& x : b.keys)
    if ((rc = run(put_key.get(), x.key, x.fingerprint, x.booking_id,
                  x.created_at))
        != SQLITE_OK)
      return rc;
  if (b.keys_expire_before.time_since_epoch().count() != 0
      && (rc = run(expire_keys.get(), b.keys_expire_before)) != SQLITE_OK)
    return rc;
  for (auto seq : b.published)
    if ((rc = run(delete_event.get(), seq)) != SQLITE_OK)
      return rc;
  return SQLITE_OK;
}

// -- sqlite_store -------------------------------------------------------------

sqlite_store::sqlite_store(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

sqlite_store::~sqlite_store() {
  // Out of line: `impl` is complete only here.
}

int sqlite_store::schema_version() {
  return static_cast<int>(migrations().size());
}

const std::string& sqlite_store::path() const {
  return impl_->path;
}

caf::expected<std::unique_ptr<sqlite_store>>
sqlite_store::open(const std::string& path) {
  auto d = std::make_unique<impl>();
  d->path = path;
  // Checked before SQLite sees the file: as root, SQLite would happily
  // write to a file whose permission bits say it is read-only.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return d->fail("is a directory, not a database file");
    if ((st.st_mode & 0222) == 0 || ::access(path.c_str(), W_OK) != 0)
      return d->fail("the file is read-only");
  } else if (errno != ENOENT) {
    return d->fail(std::string{"cannot access the file ("}
                   + std::strerror(errno) + ")");
  }
  // The log lives next to the file, so the folder must be writable too.
  auto dir = parent_of(path);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return d->fail("the directory " + dir + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return d->fail("the directory " + dir + " is not writable");
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(
    path.c_str(), &db,
    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  d->db.reset(db);
  if (rc != SQLITE_OK)
    return d->fail(db != nullptr ? sqlite3_extended_errcode(db) : rc);
  sqlite3_extended_result_codes(db, 1);
  if (auto err = d->configure())
    return err;
  if (auto err = d->migrate())
    return err;
  if (auto err = d->prepare_write_path())
    return err;
  return std::unique_ptr<sqlite_store>{new sqlite_store(std::move(d))};
}

namespace {

/// A value bound to a statement built at run time.
using sql_value = std::variant<std::string, int64_t>;

int bind(sqlite3_stmt* s, int i, const sql_value& x) {
  return std::visit([&](auto& y) { return bind(s, i, y); }, x);
}

const char* notification_columns
  = "SELECT id, booking_id, kind, channel, recipient, subject, body, status, "
    "attempts, created_at FROM notifications";

void read_notification_row(row_reader& r, notification_record& x) {
  r(x.id, x.booking_id, x.kind, x.channel, x.to, x.subject, x.body, x.status,
    x.attempts, x.created_at);
}

/// One row of `holds` (booking_id, tour_id, date, seats, sold).
void read_hold_row(row_reader& r, seat_hold& x) {
  r(x.booking_id, x.tour_id, x.date, x.seats, x.sold);
}

/// One row of `payments` (booking_id, state, the three amounts, token, the
/// two failure counts).
void read_payment_row(row_reader& r, payment_row& x) {
  auto& p = x.intent;
  r(p.booking_id, p.state, p.authorized_cents, p.captured_cents,
    p.refunded_cents, x.token, x.failed_authorizations, x.failed_reversals);
}

/// The query of one page by id: `select` narrowed by the filters that are
/// set, after the cursor, ordered by id, at most `limit`; its `?` bound in
/// `xs`.
struct page_query {
  std::string sql;
  std::vector<sql_value> xs;

  explicit page_query(std::string select)
      : sql(std::move(select) + " WHERE 1") {
    // nop
  }

  void match(const char* column, const std::string& value) {
    if (value.empty())
      return;
    sql += std::string{" AND "} + column + " = ?";
    xs.emplace_back(value);
  }

  void page(const std::string& after_id, int32_t limit) {
    if (!after_id.empty()) {
      sql += " AND id > ?";
      xs.emplace_back(after_id);
    }
    sql += " ORDER BY id LIMIT ?";
    xs.emplace_back(int64_t{std::max(limit, int32_t{0})});
  }
};

} // namespace

template <class F>
caf::error sqlite_store::impl::each_row_of(const std::string& sql,
                                           const std::vector<sql_value>& xs,
                                           F f) {
  statement s;
  if (auto rc = prepare(sql.c_str(), s); rc != SQLITE_OK)
    return fail(rc);
  for (size_t i = 0; i < xs.size(); ++i)
    if (auto rc = bind(s.get(), static_cast<int>(i + 1), xs[i]);
        rc != SQLITE_OK)
      return fail(rc);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    row_reader r{s.get()};
    f(r);
    if (!r.problem().empty())
      return fail("cannot read the stored data: " + r.problem());
  }
  return rc == SQLITE_DONE ? caf::error{} : fail(rc);
}

caf::error sqlite_store::impl::read_sagas(std::vector<saga_checkpoint>& out,
                                          const std::string& where,
                                          const std::vector<sql_value>& xs) {
  std::string bad_value;
  auto err = each_row_of(
    "SELECT key, cancellation, req_id, req_tour_id, req_date, req_seats, "
    "req_customer_name, req_customer_email, req_customer_phone, "
    "req_payment_token, req_correlation_id, req_reply_to, amount_cents, "
    "currency, table_version, phase, step, attempt, to_compensate, "
    "compensation_failed, reason, outcome, retry_at, gave_up, redrive, "
    "req_traceparent FROM sagas "
      + where,
    xs, [&](row_reader& r) {
      auto& x = out.emplace_back();
      auto& q = x.req;
      std::string version;
      std::string list;
      std::string gave_up;
      std::string traceparent;
      r(x.key, x.cancellation, q.id, q.tour_id, q.date, q.seats, q.cust.name,
        q.cust.email, q.cust.phone, q.payment_token, q.correlation_id,
        q.reply_to, x.amount_cents, x.currency, version, x.phase, x.step,
        x.attempt, list, x.compensation_failed, x.reason, x.outcome, x.retry_at,
        gave_up, x.redrive, traceparent);
      q.trace = trace_context::parse(traceparent);
      if (bad_value.empty() && !parse_version(version, x.version))
        bad_value = "'" + version + "' in column table_version";
      if (bad_value.empty() && !split(list, x.to_compensate))
        bad_value = "'" + list + "' in column to_compensate";
      if (bad_value.empty() && !split(gave_up, x.gave_up))
        bad_value = "'" + gave_up + "' in column gave_up";
    });
  if (err)
    return err;
  if (!bad_value.empty())
    return fail("cannot read the stored data: unknown value " + bad_value);
  return caf::none;
}

caf::error sqlite_store::impl::read_bookings(std::vector<booking_record>& out,
                                             const std::string& selection,
                                             const std::vector<sql_value>& xs) {
  auto run_query = [&](const std::string& sql, auto on_row) {
    return each_row_of(sql, xs, on_row);
  };
  auto first = out.size();
  std::unordered_map<std::string, size_t> index;
  auto err = run_query(
    "SELECT id, status, reason, tour_id, date, seats, amount_cents, currency, "
    "customer_name, customer_email, customer_phone, correlation_id, "
    "created_at, updated_at FROM bookings WHERE id IN ("
      + selection + ") ORDER BY id",
    [&](row_reader& r) {
      auto& x = out.emplace_back();
      r(x.id, x.status, x.reason, x.tour_id, x.date, x.seats, x.amount_cents,
        x.currency, x.cust.name, x.cust.email, x.cust.phone, x.correlation_id,
        x.created_at, x.updated_at);
      index.emplace(x.id, out.size() - 1);
    });
  if (err || out.size() == first)
    return err;
  return run_query(
    "SELECT booking_id, step, action, outcome, attempt, at, error "
    "FROM booking_history WHERE booking_id IN ("
      + selection + ") ORDER BY rowid",
    [&](row_reader& r) {
      std::string id;
      saga_entry e;
      r(id, e.step, e.action, e.outcome, e.attempt, e.at, e.error);
      // History of a booking without a row cannot be shown anywhere.
      if (auto i = index.find(id); i != index.end()) {
        // A booking's row is only rewritten when its status changes: its
        // last entry says when it last changed.
        auto& b = out[i->second];
        b.updated_at = std::max(b.updated_at, e.at);
        b.saga.push_back(std::move(e));
      }
    });
}

caf::error
sqlite_store::impl::read_parts(booking_parts& out, const std::string& holds_of,
                               const std::string& payments_of,
                               const std::string& notes_of, bool everything,
                               const std::vector<sql_value>& xs) {
  // Without `everything`, every kind is selected by `holds_of`.
  auto which = [&](const std::string& own) {
    return everything ? own : holds_of;
  };
  auto err = each_row_of(
    "SELECT booking_id, tour_id, date, seats, sold FROM holds WHERE booking_id "
    "IN ("
      + which(holds_of) + ") ORDER BY booking_id",
    xs, [&](row_reader& r) { read_hold_row(r, out.holds.emplace_back()); });
  if (err)
    return err;
  err = each_row_of(
    "SELECT booking_id, state, authorized_cents, captured_cents, "
    "refunded_cents, token, failed_authorizations, failed_reversals "
    "FROM payments WHERE booking_id IN ("
      + which(payments_of) + ") ORDER BY booking_id",
    xs,
    [&](row_reader& r) { read_payment_row(r, out.payments.emplace_back()); });
  if (err)
    return err;
  return each_row_of(
    std::string{notification_columns} + " WHERE booking_id IN ("
      + which(notes_of) + ") ORDER BY id",
    xs, [&](row_reader& r) {
      read_notification_row(r, out.notifications.emplace_back());
    });
}

caf::expected<stored_state> sqlite_store::load(load_scope scope) {
  auto& d = *impl_;
  stored_state st;
  auto everything = scope == load_scope::everything;
  // A booking whose saga has ended stays in the file until asked for.
  if (auto err = d.read_bookings(
        st.bookings,
        everything ? "SELECT id FROM bookings"
                   : "SELECT req_id FROM sagas WHERE phase <> 4",
        {}))
    return err;
  // The parked sagas of compensation_failed bookings wait for a re-drive.
  if (auto err = d.read_sagas(st.sagas, "WHERE phase <> 4 ORDER BY key", {}))
    return err;
  caf::error err;
  st.status_counts.assign(6, 0);
  err = d.each_row("SELECT status, n FROM booking_counts", [&](row_reader& r) {
    booking_status status = booking_status::pending;
    int64_t n = 0;
    r(status, n);
    st.status_counts[static_cast<size_t>(status)] = n;
  });
  if (err)
    return err;
  // The outbox stays in the table: the store actor reads it as the
  // publisher asks for more.
  err = d.each_row("SELECT COUNT(*) FROM outbox",
                   [&](row_reader& r) { r(st.outbox_events); });
  if (err)
    return err;
  std::unordered_map<std::string, size_t> tour_index;
  err = d.each_row(
    "SELECT id, name, price_cents, currency FROM tours ORDER BY id",
    [&](row_reader& r) {
      auto& x = st.tours.emplace_back();
      r(x.id, x.name, x.price_cents, x.currency);
      tour_index.emplace(x.id, st.tours.size() - 1);
    });
  if (err)
    return err;
  err = d.each_row(
    "SELECT tour_id, date, capacity, held, sold FROM departures "
    "ORDER BY tour_id, date",
    [&](row_reader& r) {
      auto& c = st.counts.emplace_back();
      r(c.tour_id, c.date, c.capacity, c.held, c.sold);
      if (auto i = tour_index.find(c.tour_id); i != tour_index.end())
        st.tours[i->second].departures.push_back({c.date, c.capacity});
    });
  if (err)
    return err;
  booking_parts parts;
  if (auto err
      = d.read_parts(parts,
                     everything ? "SELECT booking_id FROM holds"
                                : "SELECT req_id FROM sagas WHERE phase <> 4",
                     "SELECT booking_id FROM payments",
                     "SELECT booking_id FROM notifications", everything, {}))
    return err;
  st.holds = std::move(parts.holds);
  st.payments = std::move(parts.payments);
  st.notifications = std::move(parts.notifications);
  err = d.each_row("SELECT key, fingerprint, booking_id, created_at "
                   "FROM idempotency_keys ORDER BY key",
                   [&](row_reader& r) {
                     auto& x = st.keys.emplace_back();
                     r(x.key, x.fingerprint, x.booking_id, x.created_at);
                   });
  if (err)
    return err;
  return st;
}

caf::expected<booking_parts> sqlite_store::read_parts(const std::string& id) {
  auto& d = *impl_;
  booking_parts parts;
  auto err = d.each_row_in(d.hold_of.get(), id, [&](row_reader& r) {
    read_hold_row(r, parts.holds.emplace_back());
  });
  if (!err)
    err = d.each_row_in(d.payment_of.get(), id, [&](row_reader& r) {
      read_payment_row(r, parts.payments.emplace_back());
    });
  if (!err)
    err = d.each_row_in(d.notifications_of.get(), id, [&](row_reader& r) {
      read_notification_row(r, parts.notifications.emplace_back());
    });
  if (err)
    return err;
  return parts;
}

caf::expected<saga_checkpoint>
sqlite_store::read_parked(const std::string& booking_id) {
  std::vector<saga_checkpoint> found;
  if (auto err = impl_->read_sagas(found, "WHERE key IN (?, ?) AND phase = 4",
                                   {sql_value{booking_id},
                                    sql_value{booking_id + "#cancel"}}))
    return err;
  if (found.empty())
    return make_error(booking_errc::not_found, booking_id);
  return std::move(found.front());
}

caf::expected<std::vector<saga_checkpoint>> sqlite_store::load_parked() {
  std::vector<saga_checkpoint> found;
  if (auto err = impl_->read_sagas(found, "WHERE phase = 4 ORDER BY key", {}))
    return err;
  return found;
}

caf::expected<notification_record>
sqlite_store::read_notification(const std::string& id) {
  std::vector<notification_record> found;
  auto err = impl_->each_row_of(
    std::string{notification_columns} + " WHERE id = ?", {sql_value{id}},
    [&](row_reader& r) { read_notification_row(r, found.emplace_back()); });
  if (err)
    return err;
  if (found.empty())
    return make_error(booking_errc::not_found, id);
  return std::move(found.front());
}

caf::expected<std::vector<notification_record>>
sqlite_store::list_notifications(const notification_filter& filter) {
  page_query q{notification_columns};
  q.match("booking_id", filter.booking_id);
  q.match("recipient", filter.email);
  q.page(filter.after_id, filter.limit);
  std::vector<notification_record> found;
  auto err = impl_->each_row_of(q.sql, q.xs, [&](row_reader& r) {
    read_notification_row(r, found.emplace_back());
  });
  if (err)
    return err;
  return found;
}

caf::expected<booking_record>
sqlite_store::read_booking(const std::string& id) {
  std::vector<booking_record> found;
  if (auto err = impl_->read_bookings(found, "SELECT ?", {sql_value{id}}))
    return err;
  if (found.empty())
    return make_error(booking_errc::not_found, id);
  return std::move(found.front());
}

caf::expected<std::vector<booking_record>>
sqlite_store::list_bookings(const booking_filter& filter) {
  page_query q{"SELECT id FROM bookings"};
  q.match("status", filter.status);
  q.match("tour_id", filter.tour_id);
  q.match("customer_email", filter.email);
  q.page(filter.after_id, filter.limit);
  std::vector<booking_record> found;
  if (auto err = impl_->read_bookings(found, q.sql, q.xs))
    return err;
  return found;
}

caf::expected<std::vector<outbox_row>> sqlite_store::read_outbox(int64_t after,
                                                                 size_t limit) {
  std::vector<outbox_row> rows;
  auto err = impl_->each_row(
    "SELECT seq, id, type, time, correlation_id, booking_id, tour_id, date, "
    "seats, amount_cents, currency, customer_email, status, reason, kind, "
    "channel, reply_to, traceparent FROM outbox WHERE seq > ? ORDER BY seq "
    "LIMIT ?",
    [&](row_reader& r) {
      auto& x = rows.emplace_back();
      auto& e = x.event;
      r(x.seq, e.id, e.type, e.time, e.correlation_id, e.booking_id, e.tour_id,
        e.date, e.seats, e.amount_cents, e.currency, e.customer_email, e.status,
        e.reason, e.kind, e.channel, e.reply_to, e.traceparent);
    },
    after, static_cast<int64_t>(limit));
  if (err)
    return err;
  return rows;
}

caf::expected<std::vector<int64_t>>
sqlite_store::write(const std::vector<const store_batch*>& batches) {
  auto& d = *impl_;
  std::vector<int64_t> seqs;
  if (std::all_of(batches.begin(), batches.end(),
                  [](const store_batch* b) { return !b || b->empty(); }))
    return seqs;
  if (auto rc = run(d.begin.get()); rc != SQLITE_OK)
    return d.fail(rc);
  for (auto* b : batches) {
    if (b == nullptr)
      continue;
    if (auto rc = d.apply(*b, seqs); rc != SQLITE_OK) {
      // Described before the rollback replaces the connection's message.
      auto err = d.fail(rc);
      d.abort_transaction();
      return err;
    }
  }
  if (auto rc = run(d.commit.get()); rc != SQLITE_OK) {
    auto err = d.fail(rc);
    d.abort_transaction();
    return err;
  }
  return seqs;
}

} // namespace booking
