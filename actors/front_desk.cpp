#include "actors/front_desk.hpp"

#include <algorithm>
#include <iterator>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/errors.hpp"
#include "actors/shard.hpp"

namespace booking {

namespace {

using desk_pointer = front_desk_actor::pointer;

using booking_promise = caf::typed_response_promise<booking_record>;

/// The claimed id of a keyed create: the first attempt's booking answers,
/// even if its tour changed since; only a first attempt that left no
/// booking runs again.
void create_claimed(desk_pointer self, const front_desk_peers& peers,
                    booking_request req, std::string claimed,
                    booking_promise rp) {
  auto coordinator = shard_for(peers.coordinators, claimed);
  if (claimed == req.id) {
    rp.delegate(coordinator, create_atom::value, std::move(req));
    return;
  }
  req.id = std::move(claimed);
  self
    ->request(shard_for(peers.bookings, req.id), caf::infinite,
              caf::get_atom::value, req.id)
    .then([rp](booking_record& rec) mutable { rp.deliver(std::move(rec)); },
          [rp, coordinator, req](caf::error& err) mutable {
            // Created only if it is not stored: a booking that left memory
            // is not in the shard's map, so the shard would take it as new.
            if (is(err, booking_errc::not_found))
              rp.delegate(coordinator, create_atom::value, std::move(req));
            else
              rp.deliver(std::move(err));
          });
}

/// Sends the same request to every actor of `to` and, once all have
/// answered, delivers `finish(replies)` to `rp`; the first error is
/// delivered instead.
template <class Reply, class Result, class Handle, class Finish, class... Ts>
void gather(desk_pointer self, const std::vector<Handle>& to,
            caf::typed_response_promise<Result> rp, Finish finish,
            const Ts&... xs) {
  struct gather_state {
    std::vector<Reply> replies;
    size_t pending;
    bool failed = false;
  };
  auto st = std::make_shared<gather_state>();
  st->pending = to.size();
  for (auto& dest : to)
    self->request(dest, caf::infinite, xs...)
      .then(
        [st, rp, finish](Reply& x) mutable {
          st->replies.push_back(std::move(x));
          if (--st->pending > 0 || st->failed)
            return;
          rp.deliver(finish(st->replies));
        },
        [st, rp](caf::error& e) mutable {
          if (std::exchange(st->failed, true))
            return;
          rp.deliver(std::move(e));
        });
}

/// Asks the store, or else every shard, for one more than a page, so the
/// merge knows whether another page follows.
void list_all(desk_pointer self, const front_desk_peers& peers,
              booking_filter filter,
              caf::typed_response_promise<booking_page> rp) {
  // The edges validate the limit; the desk still keeps `limit + 1` in range.
  auto limit
    = static_cast<size_t>(std::clamp(filter.limit, int32_t{1}, int32_t{10000}));
  filter.limit = static_cast<int32_t>(limit) + 1;
  auto merge = [limit](std::vector<std::vector<booking_record>>& parts) {
    booking_page page;
    auto& items = page.items;
    for (auto& part : parts)
      std::move(part.begin(), part.end(), std::back_inserter(items));
    std::sort(items.begin(), items.end(),
              [](auto& a, auto& b) { return a.id < b.id; });
    if (items.size() > limit) {
      items.resize(limit);
      page.next_cursor = items.back().id;
    }
    return page;
  };
  if (peers.store)
    gather<std::vector<booking_record>>(self, std::vector{peers.store}, rp,
                                        merge, list_atom::value, filter);
  else
    gather<std::vector<booking_record>>(self, peers.bookings, rp, merge,
                                        list_atom::value, filter);
}

/// Sums the counters of every coordinator.
void sum_stats(desk_pointer self, const front_desk_peers& peers,
               caf::typed_response_promise<saga_stats> rp) {
  auto sum = [](std::vector<saga_stats>& parts) {
    saga_stats total;
    for (auto& x : parts)
      total += x;
    return total;
  };
  gather<saga_stats>(self, peers.coordinators, rp, sum, caf::get_atom::value);
}

front_desk_actor::behavior_type desk_impl(desk_pointer self,
                                          front_desk_peers peers_value) {
  // One copy of the handles, shared by the handlers and their callbacks.
  auto peers = std::make_shared<const front_desk_peers>(std::move(peers_value));
  return {
    [=](create_atom, booking_request& req,
        const std::string& key) -> caf::result<booking_record> {
      if (req.id.empty())
        req.id = new_booking_id();
      if (key.empty())
        return self->delegate(shard_for(peers->coordinators, req.id),
                              create_atom::value, std::move(req));
      auto rp = self->make_response_promise<booking_record>();
      auto fp = fingerprint(req);
      auto candidate = req.id;
      self
        ->request(peers->idempotency, caf::infinite, claim_atom::value, key,
                  std::move(fp), std::move(candidate))
        .then(
          [self, peers, req, rp](std::string& id) mutable {
            create_claimed(self, *peers, std::move(req), std::move(id), rp);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](cancel_atom, const std::string& id, const std::string& correlation_id,
        const std::string& traceparent) {
      return self->delegate(shard_for(peers->coordinators, id),
                            cancel_atom::value, id, correlation_id,
                            traceparent);
    },
    [=](redrive_atom, const std::string& id, const std::string& correlation_id,
        const std::string& traceparent) {
      return self->delegate(shard_for(peers->coordinators, id),
                            redrive_atom::value, id, correlation_id,
                            traceparent);
    },
    [=](caf::get_atom, const std::string& id) {
      return self->delegate(shard_for(peers->bookings, id),
                            caf::get_atom::value, id);
    },
    [=](caf::get_atom, summary_atom) {
      return peers->by_status ? peers->by_status->summary()
                              : status_tally{}.summary();
    },
    [=](list_atom, const booking_filter& filter) -> caf::result<booking_page> {
      auto rp = self->make_response_promise<booking_page>();
      list_all(self, *peers, filter, rp);
      return rp;
    },
    [=](await_atom, const std::string& id) {
      return self->delegate(shard_for(peers->coordinators, id),
                            await_atom::value, id);
    },
    [=](caf::put_atom, const tour& t) {
      return self->delegate(shard_for(peers->inventory, t.id),
                            caf::put_atom::value, t);
    },
    [=](caf::get_atom) -> caf::result<saga_stats> {
      auto rp = self->make_response_promise<saga_stats>();
      sum_stats(self, *peers, rp);
      return rp;
    },
  };
}

} // namespace

front_desk_actor spawn_front_desk(caf::actor_system& sys,
                                  front_desk_peers peers) {
  return sys.spawn(desk_impl, std::move(peers));
}

} // namespace booking
