#include "actors/store/store_actor.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <sqlite3.h>

#include <caf/blocking_actor.hpp>
#include <caf/exit_reason.hpp>

#include "actors/errors.hpp"
#include "actors/log.hpp"

namespace booking {

void store_status::fail(std::string reason) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (failed_.load())
    return;
  reason_ = std::move(reason);
  failed_ = true;
}

std::string store_status::reason() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return reason_;
}

namespace {

/// Keeps the last version of each row of one kind, without copying: keys
/// and rows stay in the batches being folded (which outlive this) until
/// `each` moves the last versions out.
template <class T>
class last_version {
public:
  /// `x` is the new version of the row under `key` (a view into the
  /// batches).
  void put(std::string_view key, T& x) {
    set(key, &x);
  }

  /// The row under `key` is deleted.
  void erase(std::string_view key) {
    set(key, nullptr);
  }

  /// Calls `upsert(row)` or `erase(key)` once per key, in the order the
  /// keys first came.
  template <class Upsert, class Erase>
  void each(Upsert upsert, Erase erase) {
    for (auto& [key, x] : order_) {
      if (x)
        upsert(std::move(*x)); // `key` may point into `*x`: not used after
      else
        erase(std::string{key});
    }
  }

private:
  void set(std::string_view key, T* x) {
    auto [i, added] = index_.emplace(key, order_.size());
    if (added)
      order_.emplace_back(key, x);
    else
      order_[i->second].second = x;
  }

  std::unordered_map<std::string_view, size_t> index_;
  std::vector<std::pair<std::string_view, T*>> order_;
};

} // namespace

store_batch fold(std::vector<store_batch>& batches) {
  if (batches.size() == 1)
    return std::move(batches.front());
  store_batch out;
  last_version<booking_record> bookings;
  last_version<saga_checkpoint> sagas;
  last_version<tour> tours;
  last_version<departure_counts> counts;
  last_version<seat_hold> holds;
  last_version<payment_row> payments;
  last_version<notification_record> notifications;
  std::unordered_map<std::string, bool> keys;
  // Departures are keyed by tour and date: the composite keys live here.
  std::deque<std::string> count_keys;
  for (auto& b : batches) {
    for (auto& x : b.bookings)
      bookings.put(x.id, x);
    for (auto& x : b.history)
      out.history.push_back(std::move(x));
    for (auto& x : b.sagas) {
      if (x.done)
        sagas.erase(x.key);
      else
        sagas.put(x.key, x);
    }
    for (auto& x : b.events)
      out.events.push_back(std::move(x));
    for (auto& x : b.tours)
      tours.put(x.id, x);
    for (auto& x : b.counts)
      counts.put(count_keys.emplace_back(x.tour_id + '\n' + x.date), x);
    for (auto& x : b.holds)
      holds.put(x.booking_id, x);
    for (auto& id : b.released)
      holds.erase(id);
    for (auto& x : b.payments)
      payments.put(x.intent.booking_id, x);
    for (auto& x : b.notifications)
      notifications.put(x.id, x);
    for (auto& x : b.keys)
      if (keys.emplace(x.key, true).second) // the first one stays
        out.keys.push_back(std::move(x));
    out.keys_expire_before = std::max(out.keys_expire_before,
                                      b.keys_expire_before);
    out.published.insert(out.published.end(), b.published.begin(),
                         b.published.end());
    if (!b.status_deltas.empty()) {
      out.status_deltas.resize(b.status_deltas.size());
      for (size_t i = 0; i < b.status_deltas.size(); ++i)
        out.status_deltas[i] += b.status_deltas[i];
    }
  }
  auto none = [](std::string) {};
  bookings.each([&](booking_record x) { out.bookings.push_back(std::move(x)); },
                none);
  sagas.each([&](saga_checkpoint x) { out.sagas.push_back(std::move(x)); },
             [&](std::string key) {
               saga_checkpoint done;
               done.key = std::move(key);
               done.done = true;
               out.sagas.push_back(std::move(done));
             });
  tours.each([&](tour x) { out.tours.push_back(std::move(x)); }, none);
  counts.each([&](departure_counts x) { out.counts.push_back(std::move(x)); },
              none);
  holds.each([&](seat_hold x) { out.holds.push_back(std::move(x)); },
             [&](std::string id) { out.released.push_back(std::move(id)); });
  payments.each([&](payment_row x) { out.payments.push_back(std::move(x)); },
                none);
  notifications.each(
    [&](notification_record x) { out.notifications.push_back(std::move(x)); },
    none);
  return out;
}

namespace {

/// Batches one transaction takes at most, so writers never wait long.
constexpr size_t max_group = 4096;

using bool_promise = caf::typed_response_promise<bool>;

class store_writer {
public:
  store_writer(std::shared_ptr<sqlite_store> db,
               std::shared_ptr<store_status> status,
               std::shared_ptr<backpressure> gate)
      : db_(std::move(db)), status_(std::move(status)), gate_(std::move(gate)) {
  }

  /// Queues a batch; `rp` (if valid) hears once it is committed.
  void add(store_batch&& batch, bool_promise rp) {
    if (status_->failed()) {
      if (rp.pending())
        rp.deliver(make_error(booking_errc::store_error, status_->reason()));
      return;
    }
    batches_.push_back(std::move(batch));
    promises_.push_back(std::move(rp));
  }

  /// Queues the deletion of confirmed outbox rows and hands the publisher
  /// what now fits its window.
  void published(caf::blocking_actor* self, std::vector<int64_t>& seqs) {
    if (seqs.size() > unconfirmed_)
      log_line(log_level::error, "more outbox events confirmed than sent",
               {log_number("confirmed", static_cast<int64_t>(seqs.size())),
                log_number("sent", static_cast<int64_t>(unconfirmed_))});
    unconfirmed_ -= std::min(unconfirmed_, seqs.size());
    store_batch b;
    b.published = std::move(seqs);
    add(std::move(b), bool_promise{});
    refill(self);
  }

  /// Batches and reads waiting for the next commit.
  size_t queued() const {
    return batches_.size() + reads_.size();
  }

  /// Queues a read; it runs after the next commit.
  void read(std::function<void(sqlite_store&)> f) {
    ++status_->reads;
    reads_.push_back(std::move(f));
  }

  /// A read of the table failed and nothing else may call for another.
  bool stalled() const {
    return read_failed_;
  }

  /// Tries the failed read again.
  void retry(caf::blocking_actor* self) {
    if (read_failed_)
      refill(self);
  }

  /// Sets where events go and how many may be unconfirmed there at once,
  /// then hands over what an earlier run left unconfirmed, oldest first.
  void set_sink(caf::blocking_actor* self, outbox_sink_actor sink,
                size_t window) {
    sink_ = std::move(sink);
    window_ = std::max<size_t>(window, 1);
    behind_ = true; // the table may hold rows of an earlier run
    refill(self);
  }

  /// Writes everything queued in one transaction, answers the writers,
  /// then runs the reads queued with them.
  void commit(caf::blocking_actor* self) {
    write(self);
    for (auto& f : reads_)
      f(*db_);
    reads_.clear();
  }

private:
  void write(caf::blocking_actor* self) {
    if (batches_.empty())
      return;
    // Events keep their order through the fold, so the sequence numbers
    // below still line up with them.
    auto folded = fold(batches_);
    auto seqs = db_->write({&folded});
    if (!seqs) {
      auto reason = describe(seqs.error());
      log_line(log_level::error, "store write failed; writing stops",
               {{"error", reason}});
      status_->fail(reason);
      for (auto& rp : promises_)
        if (rp.pending())
          rp.deliver(seqs.error());
    } else {
      ++status_->commits;
      status_->batches += static_cast<int64_t>(batches_.size());
      status_->sqlite_memory = sqlite3_memory_used();
      // Committed: the events exist now, so they count in the backlog
      // before any writer hears of the commit, and they may leave, straight
      // away while the publisher's window has room and nothing older waits
      // in the table.
      gate_->outbox_backlog += static_cast<int64_t>(folded.events.size());
      std::vector<outbox_row> rows;
      for (size_t i = 0; i < folded.events.size(); ++i) {
        if (!sink_ || behind_ || unconfirmed_ + rows.size() >= window_) {
          behind_ = true;
          break;
        }
        rows.push_back({(*seqs)[i], std::move(folded.events[i])});
      }
      send(self, std::move(rows));
      refill(self);
      for (auto& rp : promises_)
        if (rp.pending())
          rp.deliver(true);
    }
    batches_.clear();
    promises_.clear();
  }

  void send(caf::blocking_actor* self, std::vector<outbox_row> rows) {
    if (rows.empty())
      return;
    last_sent_ = rows.back().seq;
    unconfirmed_ += rows.size();
    self->send(sink_, std::move(rows));
  }

  /// Reads the rows waiting in the table into the publisher's window.
  void refill(caf::blocking_actor* self) {
    while (sink_ && behind_ && unconfirmed_ < window_) {
      auto room = window_ - unconfirmed_;
      auto rows = db_->read_outbox(last_sent_, room);
      read_failed_ = !rows;
      if (!rows) {
        // Tried again with the next confirm or commit, or after a second.
        log_line(log_level::error, "reading the outbox failed",
                 {{"error", describe(rows.error())}});
        return;
      }
      if (rows->size() < room)
        behind_ = false; // the table holds nothing newer
      send(self, std::move(*rows));
    }
  }

  std::shared_ptr<sqlite_store> db_;
  std::shared_ptr<store_status> status_;
  std::shared_ptr<backpressure> gate_;
  std::vector<store_batch> batches_;
  std::vector<bool_promise> promises_;
  std::vector<std::function<void(sqlite_store&)>> reads_;
  // -- the outbox feed --------------------------------------------------------
  /// Where committed events go; empty until the wiring names it.
  outbox_sink_actor sink_;
  /// Events handed to the sink and not confirmed yet, at most `window_`.
  size_t unconfirmed_ = 0;
  size_t window_ = 1;
  /// Sequence number of the last event handed over.
  int64_t last_sent_ = 0;
  /// Committed events wait in the table: newer ones wait behind them.
  bool behind_ = false;
  /// The last read of the table failed.
  bool read_failed_ = false;
};

/// Delivers a read's value or its error.
template <class T>
void answer(caf::typed_response_promise<T>& rp, caf::expected<T> x) {
  if (x)
    rp.deliver(std::move(*x));
  else
    rp.deliver(std::move(x.error()));
}

void store_impl(caf::blocking_actor* self, std::shared_ptr<sqlite_store> db,
                std::shared_ptr<store_status> status,
                std::shared_ptr<backpressure> gate) {
  store_writer w{std::move(db), std::move(status), std::move(gate)};
  bool running = true;
  // A read answers with what `read(db)` returns, after the next commit.
  auto queue_read = [&](auto read) {
    using value =
      typename decltype(read(std::declval<sqlite_store&>()))::value_type;
    auto rp = self->make_response_promise<value>();
    w.read([rp, read](sqlite_store& db) mutable { answer(rp, read(db)); });
  };
  auto on_persist = [&](persist_atom, store_batch& b) {
    w.add(std::move(b), self->make_response_promise<bool>());
  };
  auto on_batch = [&](store_batch& b) { w.add(std::move(b), {}); };
  auto on_published = [&](published_atom, std::vector<int64_t>& seqs) {
    w.published(self, seqs);
  };
  auto on_sink = [&](outbox_sink_actor& sink, size_t window) {
    w.set_sink(self, std::move(sink), window);
  };
  auto on_get = [&](caf::get_atom, std::string& id) {
    queue_read([id](sqlite_store& db) { return db.read_booking(id); });
  };
  auto on_list = [&](list_atom, booking_filter& filter) {
    queue_read([filter](sqlite_store& db) { return db.list_bookings(filter); });
  };
  auto on_parked = [&](caf::get_atom, saga_atom, std::string& id) {
    queue_read([id](sqlite_store& db) { return db.read_parked(id); });
  };
  auto on_parts = [&](caf::get_atom, parts_atom, std::string& id) {
    queue_read([id](sqlite_store& db) { return db.read_parts(id); });
  };
  auto on_notice = [&](caf::get_atom, notice_atom, std::string& id) {
    queue_read([id](sqlite_store& db) { return db.read_notification(id); });
  };
  auto on_notices = [&](list_atom, notification_filter& filter) {
    queue_read(
      [filter](sqlite_store& db) { return db.list_notifications(filter); });
  };
  auto on_snapshot = [&](snapshot_atom) {
    queue_read(
      [](sqlite_store& db) { return db.load(load_scope::everything); });
  };
  auto on_exit = [&](caf::exit_msg&) { running = false; };
  // The behaviors are built once, not per message: one waits for good, one
  // up to `wait`.
  auto make = [&](auto... wait) {
    return caf::behavior{on_persist, on_batch,   on_published, on_sink,
                         on_get,     on_list,    on_parked,    on_parts,
                         on_notice,  on_notices, on_snapshot,  on_exit,
                         wait...};
  };
  auto forever = make();
  auto now = make(caf::after(std::chrono::milliseconds(0)) >> [] {});
  auto second = make(caf::after(std::chrono::seconds(1)) >> [] {});
  while (running) {
    // Block for the first batch, then take whatever else is waiting: the
    // writers that queued up during the last commit share this one. A feed
    // stalled by a failed read tries again every second, since no confirm
    // may come to trigger it.
    self->receive(w.stalled() ? second : forever);
    while (running && w.queued() < max_group && self->has_next_message())
      self->receive(now);
    w.commit(self);
    w.retry(self);
  }
  // Writers that sent before the exit still get their batches committed.
  while (self->has_next_message() && w.queued() < max_group)
    self->receive(now);
  w.commit(self);
}

} // namespace

store_actor spawn_store(caf::actor_system& sys,
                        std::shared_ptr<sqlite_store> db,
                        std::shared_ptr<store_status> status,
                        std::shared_ptr<backpressure> gate) {
  auto hdl = sys.spawn<caf::detached>(store_impl, std::move(db),
                                      std::move(status), std::move(gate));
  return caf::actor_cast<store_actor>(hdl);
}

} // namespace booking
