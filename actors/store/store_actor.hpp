// The store actor: the one owner of the database file.
//
// It runs on its own thread (a detached actor), because SQLite blocks. Every
// state change of the engine reaches it as a `store_batch`; it takes every
// batch waiting in its mailbox, writes them all in one transaction (group
// commit) and only then answers each writer, so an actor replies to its
// caller once its change is durable. Committed domain events (the
// transactional outbox) go on to the outbox sink (the publisher) in commit
// order, at most a window of them unconfirmed at once: the rest wait in the
// table and are read from there as the publisher reports confirms, whose
// rows are then deleted. So memory holds one window of events, however far
// the broker falls behind; the backlog is counted in `backpressure`.
//
// A failed commit stops all writing (fail-stop): every later batch fails
// with `store_error`, /readyz turns 503, and a restart recovers from the
// last commit. Nothing is half-written and nothing is acknowledged that is
// not on disk.
//
//   auto status = std::make_shared<store_status>();
//   auto store = spawn_store(sys, db, status, gate);
//   caf::anon_send(store, sink, window);
//   self->request(store, caf::infinite, persist_atom::value, batch)...

#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/backpressure.hpp"
#include "actors/messages.hpp"
#include "actors/store/sqlite_store.hpp"
#include "actors/store/store_types.hpp"

namespace booking {

using persist_atom = caf::atom_constant<caf::atom("persist")>;
using published_atom = caf::atom_constant<caf::atom("published")>;

/// Where the store hands committed outbox events, in commit order.
using outbox_sink_actor
  = caf::typed_actor<caf::reacts_to<std::vector<outbox_row>>>;

/// Interface of the store actor.
using store_actor = caf::typed_actor<
  // Writes a batch and answers once it is committed.
  caf::replies_to<persist_atom, store_batch>::with<bool>,
  // Writes a batch nobody waits for, in order with the others.
  caf::reacts_to<store_batch>,
  // Outbox events the broker confirmed, by sequence number: their rows go,
  // and as many others may follow.
  caf::reacts_to<published_atom, std::vector<int64_t>>,
  // Where committed events go from now on (sent once, at start) and how many
  // may be unconfirmed there at once; what an earlier run left unconfirmed
  // goes first.
  caf::reacts_to<outbox_sink_actor, size_t>,
  // One booking with its history (fails with not_found). Reads answer after
  // every batch that reached the store before them is committed, so they
  // see all a sender wrote before it asked.
  caf::replies_to<caf::get_atom, std::string>::with<booking_record>,
  // The bookings matching a filter, ordered by id.
  caf::replies_to<list_atom, booking_filter>::with<std::vector<booking_record>>,
  // The parked saga of a compensation_failed booking, by booking id (fails
  // with not_found).
  caf::replies_to<caf::get_atom, saga_atom, std::string>::with<saga_checkpoint>,
  // The hold, payment and notifications of one booking.
  caf::replies_to<caf::get_atom, parts_atom, std::string>::with<booking_parts>,
  // One notification by id (fails with not_found).
  caf::replies_to<caf::get_atom, notice_atom,
                  std::string>::with<notification_record>,
  // The notifications matching a filter, ordered by id.
  caf::replies_to<list_atom,
                  notification_filter>::with<std::vector<notification_record>>,
  // Everything the file holds (for checks).
  caf::replies_to<snapshot_atom>::with<stored_state>>;

/// Health and counters of the store, shared with /readyz and /metrics.
class store_status {
public:
  /// Marks the store failed for good (the first reason stays).
  void fail(std::string reason);

  bool failed() const {
    return failed_.load();
  }

  /// Why it failed; empty while healthy.
  std::string reason() const;

  /// Transactions committed.
  std::atomic<int64_t> commits{0};
  /// Batches written by those transactions.
  std::atomic<int64_t> batches{0};
  /// Reads asked for: bookings, listings, and what participants read back.
  std::atomic<int64_t> reads{0};
  /// Heap SQLite holds (its page cache included), after the last commit.
  std::atomic<int64_t> sqlite_memory{0};

private:
  std::atomic<bool> failed_{false};
  mutable std::mutex mtx_;
  std::string reason_;
};

/// Folds the batches of one transaction into one with the same end state:
/// a row written several times (a saga checkpoint, a booking, a hold moving
/// from held to sold) is written once, in its last version, and a row
/// written then deleted is only deleted. History, events and confirmed
/// outbox rows keep every entry, in order; of two new idempotency keys the
/// first stays. Consumes `batches`.
store_batch fold(std::vector<store_batch>& batches);

/// Spawns the store actor on its own thread. It adds the events it commits
/// to `gate`'s outbox backlog; the publisher takes them off once confirmed.
store_actor spawn_store(caf::actor_system& sys,
                        std::shared_ptr<sqlite_store> db,
                        std::shared_ptr<store_status> status,
                        std::shared_ptr<backpressure> gate);

/// Sends `batch` to `store` (if both are set) without waiting.
///
/// Safe for every change that is not an acknowledgement to the outside
/// world: the store commits in the order batches reach its one mailbox, and
/// an actor sends its batch before it answers, so any change made because
/// of that answer (e.g. the saga's next checkpoint) reaches the store later.
/// The file therefore always holds a causally consistent prefix of what
/// happened. What a client or broker sees (a 202, an outcome, an ack) waits
/// for the commit with `persist_then_reply`.
template <class Self>
void persist_later(Self* self, const store_actor& store, store_batch batch) {
  if (store && !batch.empty())
    self->send(store, std::move(batch));
}

/// Sends `batch` to `store`, then runs `on_commit(value)` once it is
/// committed, or answers with the store's error.
template <class T, class Self, class OnCommit>
caf::result<T> persist_then(Self* self, const store_actor& store,
                            store_batch batch, T value, OnCommit on_commit) {
  auto rp = self->template make_response_promise<T>();
  self->request(store, caf::infinite, persist_atom::value, std::move(batch))
    .then([=](bool) mutable { on_commit(rp, std::move(value)); },
          [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

/// Answers with `value` once `batch` is committed, or with the store's
/// error; at once when there is no store or nothing to write.
template <class T, class Self>
caf::result<T> persist_then_reply(Self* self, const store_actor& store,
                                  store_batch batch, caf::expected<T> value) {
  if (!value || !store || batch.empty())
    return value;
  return persist_then(self, store, std::move(batch), std::move(*value),
                      [](auto& rp, T x) { rp.deliver(std::move(x)); });
}

} // namespace booking
