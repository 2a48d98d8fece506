// Writes a store file holding N finished bookings, as a long-running
// engine leaves it: each confirmed, with its saga history, its sold seats,
// its captured payment and its sent notification; no saga in flight. The
// start-up benchmark (bench/startup.sh) times an engine starting on it.
//
//   store-fill --path=data/10k.db --bookings=10000 --tours=config/tours.json
//
// The seats are spread over the tours' departures and their capacities are
// raised to fit, so the seat counts stay consistent.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "actors/codec/json_codec.hpp"
#include "actors/errors.hpp"
#include "actors/notification_actor.hpp"
#include "actors/store/sqlite_store.hpp"

using namespace booking;

namespace {

std::string option(int argc, char** argv, const std::string& name,
                   std::string fallback) {
  auto prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0)
      return arg.substr(prefix.size());
  }
  return fallback;
}

saga_entry entry(saga_step step, caf::timestamp at) {
  saga_entry e;
  e.step = step;
  e.at = at;
  return e;
}

} // namespace

int main(int argc, char** argv) {
  auto path = option(argc, argv, "path", "");
  int64_t n = std::strtoll(option(argc, argv, "bookings", "10000").c_str(),
                           nullptr, 10);
  auto tours_path = option(argc, argv, "tours", "config/tours.json");
  if (path.empty() || n <= 0) {
    std::cerr << "usage: store-fill --path=FILE --bookings=N [--tours=FILE]\n";
    return 2;
  }
  std::ifstream in{tours_path};
  std::stringstream text;
  text << in.rdbuf();
  std::vector<tour> tours;
  problem err;
  if (!in || !parse_tours(text.str(), tours, err) || tours.empty()) {
    std::cerr << "tours: cannot read " << tours_path << "\n";
    return 2;
  }
  auto db = sqlite_store::open(path);
  if (!db) {
    std::cerr << describe(db.error()) << "\n";
    return 1;
  }
  // One seat per booking, spread over every departure.
  std::vector<departure_counts> counts;
  for (auto& t : tours)
    for (auto& d : t.departures)
      counts.push_back({t.id, d.date, d.capacity, 0, 0});
  auto per_departure = n / static_cast<int64_t>(counts.size()) + 1;
  for (auto& t : tours)
    for (auto& d : t.departures)
      d.capacity = std::max<int32_t>(d.capacity,
                                     static_cast<int32_t>(per_departure));
  auto start = std::chrono::steady_clock::now();
  constexpr int64_t chunk = 10000;
  for (int64_t first = 0; first < n; first += chunk) {
    store_batch b;
    if (first == 0)
      b.tours = tours;
    for (int64_t i = first; i < std::min(n, first + chunk); ++i) {
      auto& c = counts[static_cast<size_t>(i) % counts.size()];
      const tour* t = &tours[0];
      for (auto& x : tours)
        if (x.id == c.tour_id)
          t = &x;
      booking_record rec;
      rec.id = new_booking_id();
      rec.status = booking_status::confirmed;
      rec.tour_id = c.tour_id;
      rec.date = c.date;
      rec.seats = 1;
      rec.amount_cents = t->price_cents;
      rec.currency = t->currency;
      rec.cust = {"Ana Lima", "ana@example.com", "+351912345678"};
      rec.correlation_id = new_booking_id();
      rec.created_at = caf::make_timestamp();
      rec.updated_at = rec.created_at;
      b.bookings.push_back(rec);
      for (auto step :
           {saga_step::reserve_seats, saga_step::authorize_payment,
            saga_step::confirm_booking, saga_step::send_notification})
        b.history.push_back({rec.id, entry(step, rec.created_at)});
      b.holds.push_back({rec.id, c.tour_id, c.date, 1, true});
      ++c.sold;
      payment_row p;
      p.intent = {rec.id, payment_state::captured, rec.amount_cents,
                  rec.amount_cents, 0};
      p.token = "tok_ok";
      b.payments.push_back(p);
      notification_request req;
      req.booking_id = rec.id;
      req.to = rec.cust.email;
      req.customer_name = rec.cust.name;
      req.tour_id = rec.tour_id;
      req.date = rec.date;
      req.seats = 1;
      req.amount_cents = rec.amount_cents;
      req.currency = rec.currency;
      auto note = render(req);
      note.status = "sent";
      note.attempts = 1;
      note.created_at = rec.created_at;
      b.notifications.push_back(note);
    }
    b.counts = counts;
    // The bookings per status, as the engine counts them.
    b.status_deltas.assign(6, 0);
    b.status_deltas[static_cast<size_t>(booking_status::confirmed)]
      = static_cast<int64_t>(b.bookings.size());
    if (auto seqs = (*db)->write({&b}); !seqs) {
      std::cerr << describe(seqs.error()) << "\n";
      return 1;
    }
  }
  auto secs
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
  std::cout << "wrote " << n << " finished bookings to " << path << " in "
            << secs << " s\n";
  return 0;
}
