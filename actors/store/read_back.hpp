// Work on bookings that may have left memory.
//
// With a durable store, a participant (inventory, payment, notification)
// forgets what it keeps of a booking once the booking's saga has ended: the
// store holds it. The first call about a booking memory lacks asks the store
// for what it holds of it (`booking_parts`) and puts that back; calls about
// the same booking that arrive meanwhile wait behind it, and all run in
// arrival order once the answer is in. The store answers after committing
// every batch it received before, so the answer includes all the
// participant wrote. Other bookings go on meanwhile.
//
// Memory cannot tell a brand-new booking from one that left, so it is asked
// for too, unless the coordinator said it is new (`fresh`): the first saga
// of a booking it has just stored, whose calls all reach the participant
// before the `forget` that ends it (messages from one actor to another stay
// in order). A late duplicate call of any other saga must find what the
// store kept (a payment already voided, a notification already sent).
//
//   st.loads.run(self, st.store, id, st.repo->knows(id),
//                [=](booking_parts& p) { ... restore ... },
//                [=] { ... the call ... });

#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "actors/store/store_actor.hpp"

namespace booking {

class read_back {
public:
  /// Runs `work` once the parts of booking `id` are in memory: at once
  /// without a store, or if `held` and no call about `id` waits; else after
  /// `restore` has put back what the store holds.
  template <class Self, class Restore>
  void run(Self* self, const store_actor& store, const std::string& id,
           bool held, Restore restore, std::function<void()> work) {
    if (!store) {
      work();
      return;
    }
    if (auto i = waiting_.find(id); i != waiting_.end()) {
      i->second.push_back(std::move(work));
      return;
    }
    if (held || fresh_.count(id) > 0) {
      work();
      return;
    }
    waiting_[id].push_back(std::move(work));
    self
      ->request(store, caf::infinite, caf::get_atom::value, parts_atom::value,
                id)
      .then(
        [this, id, restore](booking_parts& parts) mutable {
          restore(parts);
          resume(id);
        },
        [this, id](caf::error& e) {
          // The calls run on what memory has; the store is failing anyway.
          log_line(log_level::error, "reading a booking back failed",
                   {{"booking_id", id}, {"error", describe(e)}});
          resume(id);
        });
  }

  /// Calls waiting for a read.
  size_t waiting() const {
    return waiting_.size();
  }

  /// Nothing of booking `id` is stored: its calls need no read until
  /// `forget(id)`. (Lost with the actor when it restarts; reads resume.)
  void fresh(const std::string& id) {
    fresh_.insert(id);
  }

  /// Booking `id` left memory: calls about it read it back again.
  void forget(const std::string& id) {
    fresh_.erase(id);
  }

private:
  void resume(const std::string& id) {
    auto i = waiting_.find(id);
    if (i == waiting_.end())
      return;
    auto works = std::move(i->second);
    waiting_.erase(i);
    for (auto& w : works)
      w();
  }

  std::unordered_map<std::string, std::vector<std::function<void()>>> waiting_;
  std::unordered_set<std::string> fresh_;
};

} // namespace booking
