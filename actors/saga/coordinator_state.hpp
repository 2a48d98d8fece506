// Internals of the saga coordinator, shared by the files that implement it:
//
//   saga_coordinator.cpp  the entry handlers (create, await, cancel, stats)
//   saga_runner.cpp       moving an instance through its table: calls to the
//                         participants, retries, compensations
//   saga_checkpoints.cpp  recording history and checkpoints, and resuming
//                         from a checkpoint
//   saga_events.cpp       the domain events an instance emits
//
// Nothing outside those files includes this header.

#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/intrusive/list.hpp>

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/faults.hpp"
#include "actors/log.hpp"
#include "actors/saga/saga_coordinator.hpp"
#include "actors/shard.hpp"
#include "actors/store/keyed_table.hpp"

namespace booking::detail {

// -- saga instances -----------------------------------------------------------

/// Where an instance is in its table. The values are stored in saga
/// checkpoints: never renumber them.
enum class saga_phase : uint8_t {
  /// Running rows in order.
  forward,
  /// Resolving an uncertain outcome of the current row.
  query,
  /// Undoing completed rows, last first.
  compensating,
  /// Running the final rows after a failure.
  finishing,
  /// Nothing left to run.
  done,
};

/// The outcome of one call to a participant.
struct attempt_result {
  step_outcome outcome = step_outcome::ok;
  /// Short text for the history; empty when ok.
  std::string error;
  /// Failure reason this result implies, if it ends the saga.
  std::string reason;
  /// Ok, but done before: nothing happened now (a notification already
  /// sent). A re-drive emits no event for it (see `skip_repeated`).
  bool repeated = false;
};

using booking_promise = caf::typed_response_promise<booking_record>;

/// A saga's failure reason, interned: the few distinct texts (`timeout`,
/// `payment_error`, ...) live once per process and an instance holds a
/// pointer, 8 bytes instead of a string's 32 (see `saga_instance`).
class reason_text {
public:
  reason_text& operator=(const std::string& x);

  operator const std::string&() const {
    return *text_;
  }

  bool empty() const {
    return text_->empty();
  }

private:
  static const std::string none_;
  const std::string* text_ = &none_;
};

/// One running saga.
///
/// Its size decides the allocator's size class of every saga in flight:
/// the table's node (this plus a pointer) fits 512 bytes, and each byte
/// over it costs 128 (the next class; BENCHMARKS.md). So the small members
/// sit together, without padding between them, and the durable mode's
/// outbox, which holds events only between a step and its update, sits
/// behind a pointer.
struct saga_instance {
  /// The table it runs on: the current one of its saga, or the version its
  /// checkpoint named (one of `opts.tables`, which never change).
  const saga_definition* table = nullptr;
  booking_request req;
  int64_t amount_cents = 0;
  std::string currency;
  /// Current row.
  uint32_t row = 0;
  /// Attempt of the current (row, action), from 1.
  int32_t attempt = 1;
  bool cancellation = false;
  saga_phase phase = saga_phase::forward;
  /// Set when a compensation ran out of retries.
  bool compensation_failed = false;
  /// The outcome, once known (`pending` until then).
  booking_status outcome = booking_status::pending;
  /// Set once the store answered the outcome's write (awaiters read the
  /// booking from the store from then on).
  bool outcome_stored = false;
  /// Changes with every call issued and every answer taken, to a number no
  /// other attempt of the coordinator had; a reply for an older epoch is
  /// late.
  uint64_t epoch = 0;
  /// Rows to compensate; the last one first.
  std::vector<uint8_t> to_compensate;
  reason_text reason;
  std::vector<booking_promise> awaiters;
  /// For the duration histogram; the actor clock, so tests control it.
  caf::actor_clock::time_point started;
  /// Domain events not yet handed to the store (durable mode only): they
  /// go with the next update of the booking, in the same transaction.
  /// Null while there are none.
  std::unique_ptr<std::vector<domain_event>> outbox;
  /// When the pending retry is due (for the checkpoint).
  caf::timestamp retry_at;
  /// When the call in progress times out; meaningful while `deadline` is
  /// linked.
  caf::actor_clock::time_point due;
  /// Links the instance into its timeout's list while a call is out; it
  /// unlinks itself when the instance goes.
  boost::intrusive::list_member_hook<
    boost::intrusive::link_mode<boost::intrusive::auto_unlink>>
    deadline;
};

static_assert(sizeof(saga_instance) <= 504,
              "a saga's node no longer fits 512 bytes: see saga_instance");

/// Names one saga of a coordinator: its booking, and whether it cancels it.
/// It views into the instance, or into the text of a `saga_key`.
struct saga_ref {
  std::string_view booking_id;
  bool cancellation = false;

  friend bool operator==(const saga_ref& x, const saga_ref& y) {
    return x.cancellation == y.cancellation && x.booking_id == y.booking_id;
  }
};

struct saga_ref_hash {
  size_t operator()(const saga_ref& x) const {
    return std::hash<std::string_view>{}(x.booking_id)
           ^ size_t { x.cancellation };
  }
};

/// Marks the key of a cancellation saga (see `saga_key`).
inline constexpr std::string_view cancel_suffix = "#cancel";

/// The saga that the text `key` (see `saga_key`) names; it views into `key`.
inline saga_ref saga_ref_from(std::string_view key) {
  auto n = cancel_suffix.size();
  if (key.size() > n && key.substr(key.size() - n) == cancel_suffix)
    return {key.substr(0, key.size() - n), true};
  return {key, false};
}

/// The saga of `booking_id` of one kind, named as its `saga_key` text reads
/// back: the booking saga of an id that ends in "#cancel" shares its name
/// with the cancellation of the id without it, as the key texts do.
inline saga_ref make_saga_ref(std::string_view booking_id, bool cancellation) {
  return cancellation ? saga_ref{booking_id, true} : saga_ref_from(booking_id);
}

struct saga_ref_of {
  saga_ref operator()(const saga_instance& s) const {
    return make_saga_ref(s.req.id, s.cancellation);
  }
};

/// The sagas in flight; a node holds the instance alone, whose booking id is
/// its key (so neither `req.id` nor `cancellation` may change once stored).
using saga_table
  = keyed_table<saga_instance, saga_ref_of, saga_ref, saga_ref_hash>;

/// The instances with a call out under one timeout, oldest call first.
using deadline_list = boost::intrusive::list<
  saga_instance,
  boost::intrusive::member_hook<
    saga_instance, decltype(saga_instance::deadline), &saga_instance::deadline>,
  boost::intrusive::constant_time_size<false>>;

/// Who waits on a booking that is still being priced and stored.
struct starting_booking {
  /// The first create and its repetitions: all get the same answer.
  std::vector<booking_promise> creates;
  /// Awaiters; they move to the saga once it starts.
  std::vector<booking_promise> awaiters;
};

// -- coordinator state --------------------------------------------------------

struct coordinator_state {
  saga_participants peers;
  coordinator_options opts;
  saga_table sagas;
  /// The last epoch handed out (see `saga_instance::epoch`).
  uint64_t last_epoch = 0;
  /// The saga of every call out, by its epoch. An entry goes when the call
  /// is answered or times out, or when its saga goes (see `forget_saga`).
  std::unordered_map<uint64_t, saga_instance*> calls;
  /// Bookings being priced and stored, counted against the in-flight limit.
  size_t starting = 0;
  /// Bookings being priced and stored (not cancellations), by booking id.
  std::unordered_map<std::string, starting_booking> starting_bookings;
  saga_stats stats;
  /// Sagas started or resumed per table (see `started_by_version`).
  std::unordered_map<const saga_definition*, int64_t> started_on;
  fault_dice dice{1};
  /// Calls out, by timeout (a handful of distinct values).
  std::map<caf::timespan, deadline_list> deadlines;
  /// When the deadline tick is due, if one is scheduled.
  std::optional<caf::actor_clock::time_point> tick_at;
  /// Tells the current tick from ones scheduled earlier and superseded.
  uint64_t tick_generation = 0;
  /// The steps that gave up, by saga key: kept beside the instances, since
  /// only a saga that ends in compensation_failed, or re-drives one, has
  /// any (see `saga_checkpoint::gave_up`).
  std::unordered_map<std::string, std::vector<gave_up_step>> gave_up;
  /// Keys of the sagas that re-drive one that ended in compensation_failed.
  std::unordered_set<std::string> redriving;
  static inline const char* name = "saga_coordinator";
};

using coordinator_pointer
  = saga_coordinator_actor::stateful_pointer<coordinator_state>;

/// Where the answer to a call goes: the attempt `epoch` (see `calls`). Two
/// words, so that both handlers of a request hold it inline.
struct result_handler {
  coordinator_pointer self;
  uint64_t epoch = 0;

  void operator()(attempt_result r) const;
};

/// What a saga does once its outcome is recorded.
using saga_continuation = std::function<void(saga_instance&)>;

// -- saga_runner.cpp ----------------------------------------------------------

std::string saga_key(const std::string& booking_id, bool cancellation);

/// True if `s` re-drives a saga that ended in compensation_failed.
bool is_redriving(coordinator_pointer self, const saga_instance& s);

/// A re-drive emits no event for a call that did nothing now: the outcome
/// notification its booking got before it was parked is not announced
/// again. Any other saga does (a notification delivered by an attempt that
/// timed out, or before a crash, is still this saga's).
bool skip_repeated(coordinator_pointer self, const saga_instance& s,
                   const attempt_result& r);

/// Removes a saga, with the entry of the call it has out.
void forget_saga(coordinator_pointer self, saga_ref ref);

attempt_result classify(const caf::error& e);

const saga_definition& definition(coordinator_pointer self,
                                  const saga_instance& s);

const saga_step_def& current_row(coordinator_pointer self,
                                 const saga_instance& s);

saga_action current_action(const saga_instance& s);

saga_command current_command(coordinator_pointer self, const saga_instance& s);

const retry_policy& current_policy(coordinator_pointer self,
                                   const saga_instance& s);

caf::timespan backoff(coordinator_pointer self, const retry_policy& p,
                      int32_t attempt);

/// The notification an outcome calls for, if any.
caf::optional<notification_kind> notification_for(const saga_instance& s);

void dispatch(coordinator_pointer self, const saga_instance& s,
              saga_command cmd, const result_handler& done);

/// Starts the deadline of the call `s` is about to issue.
void arm_deadline(coordinator_pointer self, saga_instance& s,
                  caf::timespan timeout);

/// Times out every call whose deadline has passed and schedules the next
/// tick.
void expire_deadlines(coordinator_pointer self);

/// Removes a finished instance once its outcome is stored.
void finish(coordinator_pointer self, const std::string& key);

void complete(coordinator_pointer self, const std::string& key,
              saga_instance& s);

/// Starts the first final row at or after `from`, or completes the saga.
void run_final_rows(coordinator_pointer self, const std::string& key,
                    saga_instance& s, size_t from);

/// Compensation is over: the saga ends in `status`.
void end_failed(coordinator_pointer self, const std::string& key,
                saga_instance& s, booking_status status,
                caf::optional<saga_entry> entry);

/// Starts compensating (or ends at once if nothing needs undoing).
void fail(coordinator_pointer self, const std::string& key, saga_instance& s,
          std::string reason, caf::optional<saga_entry> entry);

void retry_later(coordinator_pointer self, const std::string& key,
                 saga_instance& s, saga_entry entry);

void issue(coordinator_pointer self, const std::string& key);

/// The saga `key` if it still waits on its attempt `epoch`, else null.
saga_instance* attempt_of(coordinator_pointer self, const std::string& key,
                          uint64_t epoch);

void on_forward_result(coordinator_pointer self, const std::string& key,
                       saga_instance& s, attempt_result r);

void on_query_result(coordinator_pointer self, const std::string& key,
                     saga_instance& s, attempt_result r);

void on_compensation_result(coordinator_pointer self, const std::string& key,
                            saga_instance& s, attempt_result r);

void on_final_result(coordinator_pointer self, const std::string& key,
                     saga_instance& s, attempt_result r);

void on_result(coordinator_pointer self, const std::string& key, uint64_t epoch,
               attempt_result r);

/// Registers a new instance and emits its start event (unless `announced`
/// already did); runs its first row unless `defer` is set.
saga_instance& start(coordinator_pointer self, saga_instance s,
                     bool defer = false, bool announced = false);

/// Takes a place for a new saga within the process-wide limits, or answers
/// the `overloaded` error that refuses it.
caf::error take_place(coordinator_pointer self);

/// Gives back the place of a saga that ended or never started.
void give_place(coordinator_pointer self);

/// A start (pricing or reading a booking to cancel) ends without a saga:
/// it leaves the starting count and gives its place back.
void drop_start(coordinator_pointer self);

/// A saga leaves the in-flight count and gives its place back.
void drop_in_flight(coordinator_pointer self);

// -- saga_events.cpp ----------------------------------------------------------

const std::string& no_reason();

/// The booking's status as this saga knows it: its outcome once set, else
/// the status its table runs in (pending, or cancelling).
booking_status current_status(coordinator_pointer self, const saga_instance& s);

/// Sends one domain event of `s` to the sink. Without a sink, or for a table
/// entry without an event, it returns before building anything.
void emit(coordinator_pointer self, saga_instance& s,
          std::optional<event_type> type,
          const std::string& reason = no_reason(),
          caf::optional<notification_kind> kind = caf::none);

/// The event of a row whose command succeeded.
void emit_success(coordinator_pointer self, saga_instance& s,
                  const saga_step_def& row);

/// The event of the outcome `s` just took, if its table names one.
void emit_outcome(coordinator_pointer self, saga_instance& s);

// -- saga_checkpoints.cpp -----------------------------------------------------

void serve_awaiters(saga_instance& s, const booking_record& rec);

/// Where `s` stands, for the store.
saga_checkpoint checkpoint(coordinator_pointer self, const saga_instance& s,
                           bool done = false);

/// Adds the saga's checkpoint to `upd` in either mode (a parked saga and
/// the start of a re-drive are kept in memory without a store too), with
/// its pending events in durable mode.
void attach_checkpoint(coordinator_pointer self, saga_instance& s,
                       booking_update& upd);

/// In durable mode, adds the saga's checkpoint and pending events to `upd`,
/// so the store writes them with the change in one transaction.
void attach_durable(coordinator_pointer self, saga_instance& s,
                    booking_update& upd, bool done = false);

/// Records one history entry, and the outcome status if `status` is set.
/// `next` continues the saga: in durable mode once the write is committed,
/// else at once.
void record(coordinator_pointer self, saga_instance& s,
            caf::optional<saga_entry> entry,
            caf::optional<booking_status> status, saga_continuation next = {});

saga_entry make_entry(coordinator_pointer self, const saga_instance& s,
                      saga_step step, const attempt_result& r);

/// The attempts the current row of `s` had before this run: a re-drive
/// numbers its attempts on from them; 0 for any other row.
int32_t attempts_before(coordinator_pointer self, const saga_instance& s);

/// The current row of `s` ran out of retries: it is kept for a re-drive.
void note_gave_up(coordinator_pointer self, const saga_instance& s);

/// The current row of `s`, re-driven, succeeded: it no longer gave up.
void note_recovered(coordinator_pointer self, const saga_instance& s);

/// Counts the outcome `s` just reached and how long it took to get there.
void count_outcome(coordinator_pointer self, const saga_instance& s);

void set_outcome(coordinator_pointer self, saga_instance& s,
                 booking_status status, caf::optional<saga_entry> entry,
                 saga_continuation next);

/// Picks up a saga an earlier run of the engine left unfinished, where its
/// last checkpoint says it stood: the step in progress runs again (every
/// command and compensation is idempotent per booking), a pending retry
/// waits out the rest of its backoff, and an outcome stands.
void resume(coordinator_pointer self, const saga_checkpoint& cp);

} // namespace booking::detail
