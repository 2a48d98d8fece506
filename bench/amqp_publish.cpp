// amqp-publish: domain events published by the publisher bridge (persistent,
// mandatory, pipelined confirms, outbox) against a bare rabbitmq-c publisher
// doing the same on the same broker, in the same run; and intake bookings
// per second over AMQP.
//
//   amqp-publish --url=amqp://guest:guest@127.0.0.1:5672/%2f
//                [--events=50000] [--window=256] [--intake=5000] [--runs=3]
//                [--connections=N]
//   amqp-publish --url=... --setup-only=true   declares and purges, no more
//
// Both publishers send the same encoded event (a `booking.confirmed`
// CloudEvent, ~600 bytes) to `booking.events`, where a bench queue bound to
// `#` takes it, so the broker persists every message. The bare publisher
// keeps `--window` messages unconfirmed and settles them with the broker's
// (multiple) acks: it is the ceiling; with --connections=N the same is
// also measured over N connections at once. The bridge gets the events as actor
// messages and is timed until its last confirm. Intake: `--intake`
// `booking.create` messages are queued on booking.intake first, then an
// engine starts consuming; timed from its start until every message was
// acked and every saga finished.

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/codec/cloudevents.hpp"
#include "actors/log.hpp"
#include "bridges/amqp_connection.hpp"
#include "bridges/amqp_publisher.hpp"
#include "bridges/routing.hpp"
#include "config/booking_config.hpp"
#include "config/demo.hpp"
#include "config/wiring.hpp"

using namespace booking;
using clock_type = std::chrono::steady_clock;

namespace {

std::string arg(int argc, char** argv, const std::string& key,
                const std::string& fallback) {
  auto prefix = "--" + key + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0)
      return argv[i] + prefix.size();
  return fallback;
}

domain_event sample_event(int i) {
  domain_event ev;
  ev.id = new_booking_id();
  ev.type = "booking.confirmed";
  ev.time = caf::make_timestamp();
  ev.correlation_id = "bench-" + std::to_string(i);
  ev.booking_id = new_booking_id();
  ev.tour_id = "lisbon-food";
  ev.date = "2026-12-01";
  ev.seats = 2;
  ev.amount_cents = 9000;
  ev.currency = "EUR";
  ev.customer_email = "customer" + std::to_string(i) + "@example.com";
  ev.status = "confirmed";
  return ev;
}

/// Declares the topology plus a bench queue bound to every event; purges it.
bool prepare(const amqp_settings& cfg) {
  amqp_connection c;
  auto err = c.open(cfg, "bench setup");
  if (err.empty())
    err = c.declare(topology(cfg));
  if (!err.empty()) {
    std::cerr << "setup: " << err << "\n";
    return false;
  }
  auto q = amqp_cstring_bytes("bench.events");
  amqp_queue_declare(c.get(), amqp_connection::channel, q, 0, 1, 0, 0,
                     amqp_empty_table);
  amqp_queue_bind(c.get(), amqp_connection::channel, q,
                  amqp_cstring_bytes("booking.events"), amqp_cstring_bytes("#"),
                  amqp_empty_table);
  amqp_queue_purge(c.get(), amqp_connection::channel, q);
  amqp_queue_purge(c.get(), amqp_connection::channel,
                   amqp_cstring_bytes("booking.intake"));
  return c.rpc_error("purge").empty();
}

/// Publishes `n` copies of one event on `c`, keeping `window` unconfirmed;
/// false if the connection fails.
bool bare_publish(amqp_connection& c, int n, size_t window) {
  auto ev = sample_event(0);
  auto body = encode_event(ev, "bench");
  auto props = properties_for(ev);
  uint64_t sent = 0;
  uint64_t confirmed = 0;
  while (confirmed < static_cast<uint64_t>(n)) {
    while (sent < static_cast<uint64_t>(n) && sent - confirmed < window) {
      if (!c.publish("booking.events", ev.type, props, body, true).empty())
        return false;
      ++sent;
    }
    amqp_frame_t frame;
    timeval tv{5, 0};
    if (amqp_simple_wait_frame_noblock(c.get(), &frame, &tv) != AMQP_STATUS_OK)
      return false;
    if (frame.frame_type == AMQP_FRAME_METHOD
        && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      auto m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      confirmed = m->multiple ? m->delivery_tag : confirmed + 1;
    }
  }
  return true;
}

/// The ceiling: persistent, mandatory publishes with a confirm window, over
/// `connections` connections at once (one thread each, `n` split evenly),
/// timed from when all are open to the last confirm.
double bare_rate(const amqp_settings& cfg, int n, size_t window,
                 int connections = 1) {
  std::atomic<int> open{0};
  std::atomic<bool> go{false};
  std::atomic<bool> ok{true};
  auto per = n / connections;
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i)
    threads.emplace_back([&, i] {
      amqp_connection c;
      auto fine = c.open(cfg, "bench bare " + std::to_string(i)).empty()
                  && c.enable_confirms().empty();
      ++open;
      while (!go)
        std::this_thread::yield();
      if (!fine || !bare_publish(c, per, window))
        ok = false;
    });
  while (open < connections)
    std::this_thread::yield();
  auto start = clock_type::now();
  go = true;
  for (auto& t : threads)
    t.join();
  std::chrono::duration<double> d = clock_type::now() - start;
  return ok ? per * connections / d.count() : 0;
}

/// The bridge: events sent as actor messages, timed to the last confirm.
/// `batch` 0: one message per event, as sagas send them with the in-memory
/// store; else outbox rows in messages of `batch`, the shape the durable
/// store hands over (but all queued at once: there is no store's window).
double bridge_rate(caf::actor_system& sys, const amqp_settings& cfg, int n,
                   size_t batch) {
  auto status = std::make_shared<bridge_status>();
  auto gate = std::make_shared<backpressure>(1, 0);
  auto pub = spawn_publisher(sys, cfg, status, gate, store_actor{}, "bench");
  while (!status->publisher_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<domain_event> events;
  events.reserve(n);
  for (int i = 0; i < n; ++i)
    events.push_back(sample_event(i));
  auto start = clock_type::now();
  if (batch == 0) {
    for (auto& ev : events)
      caf::anon_send(pub, ev);
  } else {
    std::vector<outbox_row> rows;
    for (size_t i = 0; i < events.size(); ++i) {
      rows.push_back({static_cast<int64_t>(i + 1), std::move(events[i])});
      if (rows.size() == batch || i + 1 == events.size())
        caf::anon_send(pub, std::exchange(rows, {}));
    }
  }
  while (status->confirmed < n)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  std::chrono::duration<double> d = clock_type::now() - start;
  caf::anon_send_exit(pub, caf::exit_reason::user_shutdown);
  return n / d.count();
}

/// Bookings per second over AMQP: queue `n` intake messages, then consume.
double intake_rate(booking_config& bcfg, const amqp_settings& cfg, int n) {
  {
    amqp_connection c;
    if (!c.open(cfg, "bench intake").empty() || !c.enable_confirms().empty())
      return 0;
    std::mt19937_64 gen{7};
    auto tours = demo_tours();
    for (auto& t : tours)
      for (auto& d : t.departures)
        d.capacity = 1000000;
    uint64_t confirmed = 0;
    for (int i = 0; i < n; ++i) {
      auto req = random_booking(gen, tours, i, 1, "intake");
      req.payment_token = "tok_ok";
      message_properties props;
      props.message_id = new_booking_id();
      props.type = "booking.create";
      if (!c.publish("booking.commands", "booking.create", props,
                     encode_intake(req, props.message_id, "/bench"), false)
             .empty())
        return 0;
    }
    while (confirmed < static_cast<uint64_t>(n)) {
      amqp_frame_t frame;
      timeval tv{5, 0};
      if (amqp_simple_wait_frame_noblock(c.get(), &frame, &tv)
          != AMQP_STATUS_OK)
        return 0;
      if (frame.frame_type == AMQP_FRAME_METHOD
          && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
        auto m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
        confirmed = m->multiple ? m->delivery_tag : confirmed + 1;
      }
    }
  }
  caf::actor_system sys{bcfg};
  auto settings = bcfg.settings;
  settings.amqp = cfg;
  engine_options opts;
  opts.sink = nullptr;
  auto start = clock_type::now();
  auto e = start_engine(sys, settings, opts);
  {
    caf::scoped_actor self{sys};
    auto tours = demo_tours();
    for (auto& t : tours)
      for (auto& d : t.departures)
        d.capacity = 1000000;
    load_tours(self, e, tours);
    while (e.amqp->acked < n)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    wait_idle(self, e, std::chrono::seconds(60));
  }
  std::chrono::duration<double> d = clock_type::now() - start;
  e.stop();
  return n / d.count();
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? 0 : xs[xs.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  set_log_level(log_level::warn);
  amqp_settings cfg;
  cfg.url = arg(argc, argv, "url", "");
  if (cfg.url.empty())
    if (auto x = std::getenv("BOOKING_AMQP_URL"))
      cfg.url = x;
  if (cfg.url.empty()) {
    std::cerr << "usage: amqp-publish --url=amqp://... [--events=N] "
                 "[--window=N] [--intake=N] [--runs=N] [--connections=N]\n"
                 "       amqp-publish --url=amqp://... --setup-only=true\n";
    return 2;
  }
  auto events = std::stoi(arg(argc, argv, "events", "50000"));
  if (arg(argc, argv, "setup-only", "") == "true")
    return prepare(cfg) ? 0 : 1; // the topology and the bound bench queue
  auto intake = std::stoi(arg(argc, argv, "intake", "5000"));
  auto runs = std::stoi(arg(argc, argv, "runs", "3"));
  cfg.confirm_window = std::stoul(arg(argc, argv, "window", "256"));
  // Also the ceiling over this many connections at once (1: not measured).
  auto connections = std::stoi(arg(argc, argv, "connections", "1"));
  booking_config bcfg;
  std::vector<std::string> none;
  if (auto rc = early_exit(load_config(bcfg, none)))
    return *rc;
  std::vector<double> bare, bridge, ratio, batched, batched_ratio, intakes;
  {
    caf::actor_system sys{bcfg};
    for (int r = 0; r < runs; ++r) {
      if (!prepare(cfg))
        return 1;
      auto b = bare_rate(cfg, events, cfg.confirm_window);
      if (connections > 1) {
        if (!prepare(cfg))
          return 1;
        auto many = bare_rate(cfg, events, cfg.confirm_window, connections);
        std::printf("run %d: bare over %d connections %.0f msg/s (%.2f of "
                    "one)\n",
                    r + 1, connections, many, b > 0 ? many / b : 0);
      }
      if (!prepare(cfg))
        return 1;
      auto p = bridge_rate(sys, cfg, events, 0);
      if (!prepare(cfg))
        return 1;
      auto q = bridge_rate(sys, cfg, events, 2 * cfg.confirm_window);
      bare.push_back(b);
      bridge.push_back(p);
      ratio.push_back(b > 0 ? p / b : 0);
      batched.push_back(q);
      batched_ratio.push_back(b > 0 ? q / b : 0);
      std::printf("run %d: bare %.0f msg/s, bridge %.0f msg/s (ratio %.3f), "
                  "bridge fed by outbox batches %.0f msg/s (ratio %.3f)\n",
                  r + 1, b, p, ratio.back(), q, batched_ratio.back());
    }
  }
  for (int r = 0; r < runs && intake > 0; ++r) {
    if (!prepare(cfg))
      return 1;
    intakes.push_back(intake_rate(bcfg, cfg, intake));
    std::printf("run %d: intake %.0f bookings/s\n", r + 1, intakes.back());
  }
  std::printf("median: bare %.0f msg/s, bridge %.0f msg/s, bridge/bare %.3f, "
              "batched %.0f msg/s, batched/bare %.3f, intake %.0f "
              "bookings/s\n",
              median(bare), median(bridge), median(ratio), median(batched),
              median(batched_ratio), median(intakes));
  return 0;
}
