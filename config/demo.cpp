#include "config/demo.hpp"

#include <iomanip>
#include <map>
#include <random>

#include <caf/scoped_actor.hpp>

#include "actors/errors.hpp"

namespace booking {

namespace {

constexpr auto demo_timeout = std::chrono::minutes(5);

const char* pick_token(std::mt19937_64& gen) {
  // Mostly good cards, plus every test token.
  static constexpr const char* tokens[]
    = {"tok_ok", "tok_ok",    "tok_ok",      "tok_ok",      "tok_ok",
       "tok_ok", "tok_flaky", "tok_decline", "tok_timeout", "tok_refund_fail"};
  return tokens[gen() % 10];
}

} // namespace

std::vector<tour> demo_tours() {
  return {
    {"lisbon-food",
     "Lisbon Food Walk",
     4500,
     "EUR",
     {{"2026-12-01", 80}, {"2026-12-02", 80}}},
    {"porto-wine", "Porto Wine Cellars", 6900, "EUR", {{"2026-12-05", 60}}},
    {"sintra-day", "Sintra Day Trip", 8900, "EUR", {{"2026-12-10", 40}}},
  };
}

booking_request random_booking(std::mt19937_64& gen,
                               const std::vector<tour>& tours, int32_t index,
                               int32_t max_seats, const std::string& label) {
  auto& t = tours[gen() % tours.size()];
  auto n = std::to_string(index);
  booking_request req;
  req.id = new_booking_id();
  req.tour_id = t.id;
  req.date = t.departures[gen() % t.departures.size()].date;
  req.seats = static_cast<int32_t>(1 + gen() % max_seats);
  req.cust = {label + " customer " + n, label + n + "@example.com", ""};
  req.payment_token = pick_token(gen);
  req.correlation_id = label + "-" + n;
  return req;
}

int run_demo(caf::actor_system& sys, const engine& e, int32_t bookings,
             uint64_t seed, std::ostream& out) {
  caf::scoped_actor self{sys};
  auto tours = demo_tours();
  load_tours(self, e, tours);
  std::mt19937_64 gen{seed};
  std::vector<booking_request> reqs;
  for (int32_t i = 0; i < bookings; ++i) {
    auto req = random_booking(gen, tours, i, 4, "demo");
    reqs.push_back(std::move(req));
  }
  // Everything goes out at once, so the sagas really run concurrently.
  using handle_t = decltype(self->request(e.coordinators[0], demo_timeout,
                                          create_atom::value, reqs[0]));
  std::vector<handle_t> created;
  for (auto& req : reqs)
    created.push_back(self->request(e.coordinator_for(req.id), demo_timeout,
                                    create_atom::value, req));
  std::vector<std::string> acknowledged;
  int refused = 0;
  for (auto& h : created)
    h.receive([&](booking_record& rec) { acknowledged.push_back(rec.id); },
              [&](caf::error&) { ++refused; });
  std::vector<booking_record> outcomes;
  for (auto& id : acknowledged)
    self->request(e.coordinator_for(id), demo_timeout, await_atom::value, id)
      .receive([&](booking_record& rec) { outcomes.push_back(rec); },
               [&](caf::error&) {});
  // Cancel every fifth confirmed booking through the cancellation saga.
  int cancels = 0;
  for (size_t i = 0; i < outcomes.size(); ++i)
    if (outcomes[i].status == booking_status::confirmed && i % 5 == 0) {
      auto& id = outcomes[i].id;
      self
        ->request(e.coordinator_for(id), demo_timeout, cancel_atom::value, id,
                  "demo-cancel-" + std::to_string(i))
        .receive([&](booking_record&) { ++cancels; }, [&](caf::error&) {});
    }
  auto idle = wait_idle(self, e, demo_timeout);
  auto world = collect_world(self, e);
  world.acknowledged = acknowledged;
  world.quiescent = idle && world.quiescent;
  std::map<std::string, int> by_outcome;
  for (auto& b : world.bookings) {
    auto key = to_string(b.status);
    if (!b.reason.empty())
      key += " (" + b.reason + ")";
    ++by_outcome[key];
  }
  auto stats = collect_stats(self, e);
  out << "Demo: " << bookings << " bookings over " << tours.size() << " tours, "
      << acknowledged.size() << " accepted, " << refused << " refused, "
      << cancels << " cancelled on request\n\n";
  out << std::left << std::setw(40) << "outcome"
      << "bookings\n";
  for (auto& [key, n] : by_outcome)
    out << std::left << std::setw(40) << key << n << '\n';
  out << "\nsagas started " << stats.started << ", completed "
      << stats.completed << ", retries " << stats.retries << ", compensations "
      << stats.compensations << ", uncertain outcomes resolved "
      << stats.uncertain_resolved << "\n\n";
  auto report = check_invariants(world);
  out << "Invariants:\n" << report.to_text();
  out << (report.ok() ? "\nAll invariants hold.\n"
                      : "\nSome invariants do NOT hold.\n");
  return report.ok() ? 0 : 1;
}

} // namespace booking
