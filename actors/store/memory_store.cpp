#include "actors/store/memory_store.hpp"

#include <algorithm>

#include "actors/errors.hpp"

namespace booking {

// -- bookings -----------------------------------------------------------------

namespace {

/// The latest of `t` and the times of `entries`.
caf::timestamp latest(caf::timestamp t,
                      const std::vector<saga_entry>& entries) {
  for (auto& e : entries)
    t = std::max(t, e.at);
  return t;
}

} // namespace

caf::expected<booking_record>
memory_booking_repository::insert(booking_record rec) {
  // `updated_at` is the latest of the status changes and of the history
  // entries, which is what a store reads back from its rows.
  rec.updated_at = latest(rec.updated_at, rec.saga);
  auto [i, added] = records_.insert(stored{std::move(rec)});
  if (!added)
    return make_error(booking_errc::duplicate, i->rec.id);
  return i->rec;
}

caf::expected<booking_record>
memory_booking_repository::apply(const booking_update& upd,
                                 caf::timestamp now) {
  auto i = records_.find(upd.id);
  if (i == records_.end())
    return make_error(booking_errc::not_found, upd.id);
  auto& rec = i->rec;
  if (upd.has_status) {
    rec.status = upd.status;
    rec.reason = upd.reason;
    rec.updated_at = std::max(rec.updated_at, now);
  }
  rec.saga.insert(rec.saga.end(), upd.entries.begin(), upd.entries.end());
  rec.updated_at = latest(rec.updated_at, upd.entries);
  return rec;
}

caf::optional<booking_record>
memory_booking_repository::find(const std::string& id) const {
  auto i = records_.find(id);
  if (i == records_.end())
    return caf::none;
  return i->rec;
}

caf::optional<booking_status>
memory_booking_repository::status_of(const std::string& id) const {
  auto i = records_.find(id);
  if (i == records_.end())
    return caf::none;
  return i->rec.status;
}

bool memory_booking_repository::contains(const std::string& id) const {
  return records_.count(id) > 0;
}

void memory_booking_repository::erase(const std::string& id) {
  if (auto i = records_.find(id); i != records_.end())
    records_.erase(i);
}

size_t memory_booking_repository::size() const {
  return records_.size();
}

std::vector<booking_record>
memory_booking_repository::list(const booking_filter& filter) const {
  std::vector<booking_record> result;
  auto i = filter.after_id.empty() ? records_.begin()
                                   : records_.upper_bound(filter.after_id);
  for (; i != records_.end() && result.size() < size_t(filter.limit); ++i) {
    auto& rec = i->rec;
    if ((filter.status.empty() || to_string(rec.status) == filter.status)
        && (filter.tour_id.empty() || rec.tour_id == filter.tour_id)
        && (filter.email.empty() || rec.cust.email == filter.email))
      result.push_back(rec);
  }
  return result;
}

// -- inventory ----------------------------------------------------------------

caf::expected<bool> memory_inventory_repository::upsert_tour(const tour& t) {
  auto& dates = counts_[t.id];
  // Check every departure first, so a rejected replace changes nothing.
  for (auto& entry : dates) {
    // Not a structured binding: C++17 lambdas cannot capture one.
    const auto& date = entry.first;
    const auto& c = entry.second;
    auto taken = c.held + c.sold;
    if (taken == 0)
      continue;
    auto i = std::find_if(t.departures.begin(), t.departures.end(),
                          [&](const departure& d) { return d.date == date; });
    if (i == t.departures.end() || i->capacity < taken)
      return make_error(booking_errc::capacity_conflict, date);
  }
  std::map<std::string, departure_counts> next;
  for (auto& d : t.departures) {
    auto& c = next[d.date];
    auto old = dates.find(d.date);
    if (old != dates.end())
      c = old->second;
    c.tour_id = t.id;
    c.date = d.date;
    c.capacity = d.capacity;
  }
  dates = std::move(next);
  auto created = tours_.count(t.id) == 0;
  tours_[t.id] = t;
  return created;
}

std::vector<departure_counts>
memory_inventory_repository::departures_of(const std::string& tour_id) const {
  std::vector<departure_counts> result;
  if (auto i = counts_.find(tour_id); i != counts_.end())
    for (auto& [date, c] : i->second)
      result.push_back(c);
  return result;
}

departure_counts*
memory_inventory_repository::counts(const std::string& tour_id,
                                    const std::string& date) {
  auto i = counts_.find(tour_id);
  if (i == counts_.end())
    return nullptr;
  auto j = i->second.find(date);
  return j == i->second.end() ? nullptr : &j->second;
}

caf::expected<departure_counts>
memory_inventory_repository::reserve(const seat_hold& h) {
  if (tours_.count(h.tour_id) == 0)
    return make_error(booking_errc::unknown_tour, h.tour_id);
  auto c = counts(h.tour_id, h.date);
  if (c == nullptr)
    return make_error(booking_errc::unknown_date, h.date);
  if (holds_.contains(h.booking_id))
    return *c;
  if (c->capacity - c->held - c->sold < h.seats)
    return make_error(booking_errc::sold_out);
  c->held += h.seats;
  holds_.insert(h).first->sold = false;
  return *c;
}

caf::expected<departure_counts>
memory_inventory_repository::commit(const std::string& booking_id) {
  auto h = holds_.find(booking_id);
  if (h == nullptr)
    return make_error(booking_errc::not_found, booking_id);
  auto c = counts(h->tour_id, h->date);
  if (!h->sold) {
    c->held -= h->seats;
    c->sold += h->seats;
    h->sold = true;
  }
  return *c;
}

caf::optional<departure_counts>
memory_inventory_repository::release(const std::string& booking_id) {
  auto h = holds_.find(booking_id);
  if (h == nullptr)
    return caf::none;
  auto c = counts(h->tour_id, h->date);
  if (h->sold)
    c->sold -= h->seats;
  else
    c->held -= h->seats;
  holds_.erase(booking_id);
  return *c;
}

caf::optional<seat_hold>
memory_inventory_repository::hold_of(const std::string& booking_id) const {
  if (auto h = holds_.find(booking_id))
    return *h;
  return caf::none;
}

inventory_snapshot memory_inventory_repository::snapshot() const {
  inventory_snapshot result;
  for (auto& [tour_id, dates] : counts_)
    for (auto& [date, c] : dates)
      result.departures.push_back(c);
  holds_.for_each([&](const seat_hold& h) { result.holds.push_back(h); });
  return result;
}

// -- notifications ------------------------------------------------------------

bool memory_notification_repository::booking_notices::empty() const {
  return claimed == 0
         && std::all_of(recs.begin(), recs.end(),
                        [](const notification_record* x) { return !x; });
}

caf::optional<notification_record>
memory_notification_repository::find(const std::string& booking_id,
                                     notification_kind kind) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = by_booking_.find(booking_id);
  if (i == by_booking_.end())
    return caf::none;
  if (auto* rec = i->second.recs[static_cast<size_t>(kind)])
    return *rec;
  return caf::none;
}

notification_repository::claim_result
memory_notification_repository::claim(const std::string& booking_id,
                                      notification_kind kind,
                                      notification_record* sent) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& n = by_booking_[booking_id];
  auto k = static_cast<size_t>(kind);
  if (n.recs[k] && n.recs[k]->status == "sent") {
    if (sent)
      *sent = *n.recs[k];
    return claim_result::already_sent;
  }
  auto bit = static_cast<uint8_t>(1u << k);
  if (n.claimed & bit)
    return claim_result::busy;
  n.claimed |= bit;
  return claim_result::claimed;
}

notification_record
memory_notification_repository::record_attempt(notification_record rec) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& n = by_booking_[rec.booking_id];
  auto k = static_cast<size_t>(rec.kind);
  n.claimed &= static_cast<uint8_t>(~(1u << k));
  if (!n.recs[k]) {
    rec.attempts = 1;
    auto id = rec.id;
    auto& stored = by_id_[std::move(id)] = std::move(rec);
    n.recs[k] = &stored;
    return stored;
  }
  auto& stored = *n.recs[k];
  // A delivered notification stays delivered: a late retry never flips it.
  if (stored.status != "sent") {
    stored.status = rec.status;
    stored.subject = std::move(rec.subject);
    stored.body = std::move(rec.body);
  }
  ++stored.attempts;
  return stored;
}

void memory_notification_repository::restore(notification_record rec) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& n = by_booking_[rec.booking_id];
  auto k = static_cast<size_t>(rec.kind);
  if (n.recs[k])
    return;
  auto id = rec.id;
  n.recs[k] = &(by_id_[std::move(id)] = std::move(rec));
}

bool memory_notification_repository::knows(
  const std::string& booking_id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = by_booking_.find(booking_id);
  return i != by_booking_.end()
         && std::any_of(i->second.recs.begin(), i->second.recs.end(),
                        [](const notification_record* x) { return x; });
}

void memory_notification_repository::forget(const std::string& booking_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = by_booking_.find(booking_id);
  if (i == by_booking_.end())
    return;
  auto& n = i->second;
  for (auto& rec : n.recs) {
    if (rec)
      by_id_.erase(rec->id);
    rec = nullptr;
  }
  // A delivery under way keeps its claim until it is recorded.
  if (n.empty())
    by_booking_.erase(i);
}

void memory_inventory_repository::restore_counts(const departure_counts& x) {
  if (auto c = counts(x.tour_id, x.date)) {
    c->held = x.held;
    c->sold = x.sold;
  }
}

void memory_inventory_repository::restore_hold(const seat_hold& h) {
  holds_.insert(h);
}

void memory_inventory_repository::forget(const std::string& booking_id) {
  holds_.erase(booking_id);
}

caf::optional<notification_record>
memory_notification_repository::get(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = by_id_.find(id);
  if (i == by_id_.end())
    return caf::none;
  return i->second;
}

std::vector<notification_record> memory_notification_repository::all() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<notification_record> result;
  result.reserve(by_id_.size());
  for (auto& [id, rec] : by_id_)
    result.push_back(rec);
  return result;
}

std::vector<notification_record>
memory_notification_repository::list(const notification_filter& filter) const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<notification_record> result;
  auto limit = static_cast<size_t>(std::max(filter.limit, 0));
  for (auto i = by_id_.upper_bound(filter.after_id);
       i != by_id_.end() && result.size() < limit; ++i) {
    auto& rec = i->second;
    if ((filter.booking_id.empty() || rec.booking_id == filter.booking_id)
        && (filter.email.empty() || rec.to == filter.email))
      result.push_back(rec);
  }
  return result;
}

caf::optional<idempotency_entry>
memory_idempotency_repository::find(const std::string& key) const {
  auto i = by_key_.find(key);
  if (i == by_key_.end())
    return caf::none;
  return i->second;
}

void memory_idempotency_repository::insert(idempotency_entry entry) {
  order_.push_back(entry.key);
  by_key_.emplace(entry.key, std::move(entry));
}

size_t memory_idempotency_repository::expire(caf::timestamp cutoff) {
  size_t n = 0;
  while (!order_.empty()) {
    auto i = by_key_.find(order_.front());
    if (i != by_key_.end() && i->second.created_at >= cutoff)
      break;
    if (i != by_key_.end()) {
      by_key_.erase(i);
      ++n;
    }
    order_.pop_front();
  }
  return n;
}

} // namespace booking
