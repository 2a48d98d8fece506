// The engine's database file: SQLite in WAL mode.
//
// One object owns one connection and is used by one thread only (the store
// actor, and before it the start-up code that loads the state). The schema
// is versioned with `PRAGMA user_version` and migrated forward on open; a
// file written by a newer build is refused. docs/durability.md describes
// the tables.
//
//   auto db = sqlite_store::open("data/booking.db");
//   if (!db) ... describe(db.error()) ...
//   auto state = (*db)->load(load_scope::unfinished);
//   (*db)->write({&batch});

#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/store/store_types.hpp"

namespace booking {

/// What `sqlite_store::load` reads back.
enum class load_scope {
  /// What a starting engine works on: the bookings of unfinished sagas.
  /// Finished ones stay in the file, read when asked for, so start-up does
  /// not grow with history.
  unfinished,
  /// Every booking (for checks over a whole file).
  everything,
};

class sqlite_store {
public:
  /// Opens `path`, creating the file if it is missing, takes the exclusive
  /// lock (a second engine on the same file is refused) and migrates the
  /// schema. Fails with `store_error` and a message that names the path and
  /// the cause: locked by another process, not a database, read-only
  /// (including a file without any write permission bit), newer schema,
  /// unwritable directory.
  static caf::expected<std::unique_ptr<sqlite_store>>
  open(const std::string& path);

  ~sqlite_store();

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  /// The schema version this build writes.
  static int schema_version();

  /// Reads back what the engine keeps in memory (the outbox only counted).
  caf::expected<stored_state> load(load_scope scope);

  /// The hold, payment and notifications of one booking (all empty if it
  /// has none).
  caf::expected<booking_parts> read_parts(const std::string& id);

  /// The parked saga (see `saga_checkpoint::parked`) of a
  /// compensation_failed booking, its own or its cancellation's; fails with
  /// `not_found`.
  caf::expected<saga_checkpoint> read_parked(const std::string& booking_id);

  /// Every parked saga, by key.
  caf::expected<std::vector<saga_checkpoint>> load_parked();

  /// One notification by id; fails with `not_found`.
  caf::expected<notification_record> read_notification(const std::string& id);

  /// The notifications matching `filter`, ordered by id, at most
  /// `filter.limit`.
  caf::expected<std::vector<notification_record>>
  list_notifications(const notification_filter& filter);

  /// One booking with its history; fails with `not_found`.
  caf::expected<booking_record> read_booking(const std::string& id);

  /// The bookings matching `filter`, with their histories, ordered by id,
  /// at most `filter.limit`.
  caf::expected<std::vector<booking_record>>
  list_bookings(const booking_filter& filter);

  /// Up to `limit` outbox events after sequence number `after`, oldest
  /// first.
  caf::expected<std::vector<outbox_row>> read_outbox(int64_t after,
                                                     size_t limit);

  /// Writes all `batches` in one transaction, in order. Returns the outbox
  /// sequence number given to each event, in the order of the batches and
  /// their events. On failure nothing is written.
  caf::expected<std::vector<int64_t>>
  write(const std::vector<const store_batch*>& batches);

  /// The path it was opened with.
  const std::string& path() const;

  struct impl;

private:
  explicit sqlite_store(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace booking
