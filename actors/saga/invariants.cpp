#include "actors/saga/invariants.hpp"

#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace booking {

namespace {

constexpr size_t max_details = 5;

class checker {
public:
  checker(int id, std::string name) {
    result_.id = id;
    result_.name = std::move(name);
  }

  void fail(const std::string& who, std::string what) {
    result_.passed = false;
    if (seen_.insert(who).second)
      result_.offenders.push_back(who);
    if (result_.details.size() < max_details)
      result_.details.push_back(who + ": " + std::move(what));
  }

  invariant_result take() {
    return std::move(result_);
  }

private:
  invariant_result result_;
  std::set<std::string> seen_;
};

struct indexes {
  std::unordered_map<std::string, const seat_hold*> holds;
  std::unordered_map<std::string, const payment_intent*> payments;
  std::map<std::pair<std::string, notification_kind>,
           std::vector<const notification_record*>>
    notes;
};

bool holds_money(const payment_intent& p) {
  return p.state == payment_state::authorized
         || p.state == payment_state::captured;
}

invariant_result check_capacity(const world_snapshot& w) {
  checker c{1, "sold + held <= capacity; held = 0 after quiescence"};
  std::map<std::pair<std::string, std::string>, std::pair<int32_t, int32_t>>
    from_holds;
  for (auto& shard : w.inventory)
    for (auto& h : shard.holds) {
      auto& sums = from_holds[{h.tour_id, h.date}];
      (h.sold ? sums.second : sums.first) += h.seats;
    }
  for (auto& shard : w.inventory)
    for (auto& d : shard.departures) {
      auto who = d.tour_id + "/" + d.date;
      if (d.held < 0 || d.sold < 0)
        c.fail(who, "negative count");
      if (d.sold + d.held > d.capacity)
        c.fail(who, "sold " + std::to_string(d.sold) + " + held "
                      + std::to_string(d.held) + " > capacity "
                      + std::to_string(d.capacity));
      if (w.quiescent && d.held != 0)
        c.fail(who, std::to_string(d.held) + " seats still held");
      auto sums = from_holds[{d.tour_id, d.date}];
      if (sums.first != d.held || sums.second != d.sold)
        c.fail(who, "counts disagree with the per-booking holds");
    }
  return c.take();
}

invariant_result check_confirmed(const world_snapshot& w, const indexes& ix) {
  checker c{2, "confirmed bookings have their seats sold and amount captured"};
  for (auto& b : w.bookings) {
    if (b.status != booking_status::confirmed)
      continue;
    auto h = ix.holds.find(b.id);
    if (h == ix.holds.end() || !h->second->sold || h->second->seats != b.seats)
      c.fail(b.id, "seats not sold");
    auto p = ix.payments.find(b.id);
    if (p == ix.payments.end() || p->second->state != payment_state::captured
        || p->second->captured_cents != b.amount_cents)
      c.fail(b.id, "amount not captured");
  }
  return c.take();
}

invariant_result check_released(const world_snapshot& w, const indexes& ix) {
  checker c{3, "failed and cancelled bookings hold nothing and cost nothing"};
  for (auto& b : w.bookings) {
    if (b.status != booking_status::failed
        && b.status != booking_status::cancelled)
      continue;
    if (ix.holds.count(b.id) > 0)
      c.fail(b.id, "seats still held or sold");
    auto p = ix.payments.find(b.id);
    if (p == ix.payments.end())
      continue;
    if (holds_money(*p->second))
      c.fail(b.id, "payment still " + to_string(p->second->state));
    if (p->second->captured_cents != p->second->refunded_cents)
      c.fail(b.id, "net charge is not zero");
  }
  return c.take();
}

invariant_result check_terminal(const world_snapshot& w) {
  checker c{4, "no saga left non-terminal after quiescence"};
  if (!w.quiescent)
    return c.take();
  if (w.sagas_in_flight != 0)
    c.fail("sagas", std::to_string(w.sagas_in_flight) + " still in flight");
  for (auto& b : w.bookings)
    if (!is_terminal(b.status))
      c.fail(b.id, "status " + to_string(b.status));
  return c.take();
}

invariant_result check_notified(const world_snapshot& w, const indexes& ix) {
  checker c{5, "exactly one outcome notification per booking"};
  auto count = [&](const std::string& id, notification_kind k) {
    auto i = ix.notes.find({id, k});
    if (i == ix.notes.end())
      return std::make_pair(size_t{0}, size_t{0});
    size_t sent = 0;
    for (auto n : i->second)
      sent += n->status == "sent";
    return std::make_pair(i->second.size(), sent);
  };
  for (auto& b : w.bookings) {
    std::set<notification_kind> expected;
    switch (b.status) {
      case booking_status::confirmed:
        expected = {notification_kind::booking_confirmed};
        break;
      case booking_status::failed:
        expected = {notification_kind::booking_failed};
        break;
      case booking_status::cancelled:
        expected = {notification_kind::booking_confirmed,
                    notification_kind::booking_cancelled};
        break;
      default:
        continue; // in flight, or left for an operator
    }
    for (auto k : {notification_kind::booking_confirmed,
                   notification_kind::booking_failed,
                   notification_kind::booking_cancelled}) {
      auto [records, sent] = count(b.id, k);
      auto want = expected.count(k) > 0;
      if (records > 1)
        c.fail(b.id,
               std::to_string(records) + " " + to_string(k) + " notifications");
      if (want && w.quiescent && sent != 1)
        c.fail(b.id, to_string(k) + " not sent");
      if (!want && records > 0)
        c.fail(b.id, "unexpected " + to_string(k));
    }
  }
  return c.take();
}

invariant_result check_acknowledged(const world_snapshot& w) {
  checker c{6, "no acknowledged booking is lost"};
  std::set<std::string> ids;
  for (auto& b : w.bookings)
    ids.insert(b.id);
  for (auto& id : w.acknowledged)
    if (ids.count(id) == 0)
      c.fail(id, "acknowledged but missing");
  return c.take();
}

} // namespace

bool invariant_report::ok() const {
  for (auto& r : results)
    if (!r.passed)
      return false;
  return true;
}

std::string invariant_report::to_text() const {
  std::ostringstream out;
  for (auto& r : results) {
    out << (r.passed ? "PASS" : "FAIL") << "  " << r.id << ". " << r.name;
    if (!r.passed)
      out << " (" << r.offenders.size() << " offending)";
    out << '\n';
    for (auto& d : r.details)
      out << "        " << d << '\n';
  }
  return out.str();
}

invariant_report check_invariants(const world_snapshot& w) {
  indexes ix;
  for (auto& shard : w.inventory)
    for (auto& h : shard.holds)
      ix.holds.emplace(h.booking_id, &h);
  for (auto& p : w.payments)
    ix.payments.emplace(p.booking_id, &p);
  for (auto& n : w.notifications)
    ix.notes[{n.booking_id, n.kind}].push_back(&n);
  invariant_report report;
  report.results.push_back(check_capacity(w));
  report.results.push_back(check_confirmed(w, ix));
  report.results.push_back(check_released(w, ix));
  report.results.push_back(check_terminal(w));
  report.results.push_back(check_notified(w, ix));
  report.results.push_back(check_acknowledged(w));
  return report;
}

} // namespace booking
