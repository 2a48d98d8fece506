#include "bridges/amqp_publisher.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <thread>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/exit_reason.hpp>

#include "actors/codec/cloudevents.hpp"
#include "actors/log.hpp"
#include "bridges/amqp_connection.hpp"
#include "bridges/routing.hpp"

namespace booking {

namespace {

using clock_type = std::chrono::steady_clock;

/// One message waiting for the broker's confirm.
struct outgoing {
  std::string exchange;
  std::string routing_key;
  message_properties props;
  std::string body;
  /// The event's outbox row when it came from the store (0 otherwise):
  /// reported back once confirmed.
  int64_t seq = 0;
  /// When the event was emitted (ns since the epoch), for the lag.
  int64_t emitted = 0;
};

/// The publisher's state: the outbox and the connection.
class publisher {
public:
  publisher(amqp_settings cfg, std::shared_ptr<bridge_status> status,
            std::shared_ptr<backpressure> gate, std::string node_id)
      : cfg_(std::move(cfg)), status_(std::move(status)),
        gate_(std::move(gate)), node_id_(std::move(node_id)),
        topology_(topology(cfg_)) {
    // nop
  }

  /// An event straight from a saga (no durable store): it joins the
  /// backlog here.
  void add_event(const domain_event& ev) {
    if (add(ev, 0))
      ++gate_->outbox_backlog;
  }

  /// Events from the store's outbox, which counted them in the backlog.
  void add_rows(std::vector<outbox_row>& rows) {
    for (auto& row : rows)
      if (!add(row.event, row.seq)) {
        // Never published: the row goes, and the backlog with it.
        confirmed_seqs_.push_back(row.seq);
        --gate_->outbox_backlog;
      }
  }

  /// Outbox rows confirmed since the last call.
  std::vector<int64_t> take_confirmed() {
    return std::exchange(confirmed_seqs_, {});
  }

  void add_reply(const std::string& reply_to, const domain_event& ev) {
    auto r = reply_route(ev.type, reply_to);
    if (!r)
      return;
    enqueue(*r, ev, 0);
    ++gate_->outbox_backlog;
  }

  /// Tells /readyz that this thread still goes round its loop.
  void beat() {
    status_->beat(true);
  }

  /// Tells the gate when the oldest unconfirmed message was emitted.
  void report_lag() {
    int64_t oldest = 0;
    if (!in_flight_.empty())
      oldest = in_flight_.begin()->second.emitted;
    if (!pending_.empty() && (oldest == 0 || pending_.front().emitted < oldest))
      oldest = pending_.front().emitted;
    gate_->oldest_unconfirmed = oldest;
  }

  /// True if there is work that should not wait for the next message.
  bool busy() const {
    return conn_.is_open() && (!in_flight_.empty() || can_publish());
  }

  /// How long the caller may block waiting for messages.
  std::chrono::milliseconds idle_wait() const {
    if (busy())
      return std::chrono::milliseconds(0);
    if (!conn_.is_open()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_attempt_ - clock_type::now());
      return std::clamp(left, std::chrono::milliseconds(0),
                        std::chrono::milliseconds(50));
    }
    return std::chrono::milliseconds(50);
  }

  /// Connects when due, publishes within the window, reads confirms.
  void step() {
    if (!conn_.is_open()) {
      if (clock_type::now() < next_attempt_)
        return;
      connect();
      if (!conn_.is_open())
        return;
    }
    publish_some();
    // A failed publish has dropped the connection. With the window full
    // only a confirm lets anything move: wait on the socket for it.
    if (conn_.is_open())
      read_frames(window_full() ? 50 : in_flight_.empty() ? 0 : 1);
  }

  bool empty() const {
    return pending_.empty() && in_flight_.empty();
  }

  void shutdown() {
    conn_.close();
    status_->publisher_up = false;
  }

private:
  /// Queues a domain event on booking.events, or, with a `reply_to`, on
  /// that queue; false if it has no route.
  bool add(const domain_event& ev, int64_t seq) {
    auto r = ev.reply_to.empty() ? event_route(ev.type)
                                 : reply_route(ev.type, ev.reply_to);
    if (!r) {
      log_line(log_level::error, "event without a route",
               {{"type", ev.type},
                {"booking_id", ev.booking_id},
                log_trace(trace_context::parse(ev.traceparent)),
                {"reply_to", ev.reply_to}});
      return false;
    }
    enqueue(*r, ev, seq);
    return true;
  }

  void enqueue(const route& r, const domain_event& ev, int64_t seq) {
    pending_.push_back({r.exchange, r.routing_key, properties_for(ev),
                        encode_event(ev, node_id_), seq,
                        ev.time.time_since_epoch().count()});
  }

  bool window_full() const {
    return !pending_.empty() && in_flight_.size() >= cfg_.confirm_window;
  }

  bool can_publish() const {
    return !blocked_ && !pending_.empty()
           && in_flight_.size() < cfg_.confirm_window;
  }

  void connect() {
    auto err = conn_.open(cfg_, "booking-engine publisher " + node_id_);
    if (err.empty())
      err = conn_.declare(topology_);
    if (err.empty())
      err = conn_.enable_confirms();
    status_->set_problem(true, err);
    status_->tried = true;
    if (!err.empty()) {
      conn_.close();
      auto wait = backoff_.next();
      next_attempt_ = clock_type::now() + wait;
      if (!failing_)
        log_line(log_level::warn, "amqp publisher cannot connect",
                 {{"broker", redact_url(cfg_.url)},
                  {"error", err},
                  log_number("retry_ms", wait.count())});
      failing_ = true;
      return;
    }
    if (connected_before_)
      ++status_->reconnects;
    connected_before_ = true;
    failing_ = false;
    backoff_.reset();
    next_tag_ = 1;
    blocked_ = false;
    status_->publisher_up = true;
    log_line(log_level::info, "amqp publisher connected",
             {{"broker", redact_url(cfg_.url)},
              log_number("outbox", static_cast<int64_t>(pending_.size()))});
  }

  void disconnect(const std::string& why) {
    log_line(
      log_level::warn, "amqp publisher lost its connection",
      {{"error", why},
       log_number("unconfirmed", static_cast<int64_t>(in_flight_.size()))});
    conn_.close();
    status_->publisher_up = false;
    status_->set_problem(true, "publisher: " + why);
    // Unconfirmed messages go back to the front, in their original order.
    for (auto i = in_flight_.rbegin(); i != in_flight_.rend(); ++i)
      pending_.push_front(std::move(i->second));
    in_flight_.clear();
    auto wait = backoff_.next();
    next_attempt_ = clock_type::now() + wait;
  }

  void publish_some() {
    while (can_publish()) {
      auto& msg = pending_.front();
      auto err = conn_.publish(msg.exchange, msg.routing_key, msg.props,
                               msg.body, true);
      if (!err.empty())
        return disconnect(err);
      ++status_->published;
      in_flight_.emplace(next_tag_++, std::move(msg));
      pending_.pop_front();
    }
  }

  void confirm(uint64_t tag, bool multiple, bool ack) {
    auto last = multiple ? in_flight_.upper_bound(tag) : in_flight_.find(tag);
    auto first = multiple ? in_flight_.begin() : last;
    if (!multiple) {
      if (last == in_flight_.end())
        return;
      ++last;
    }
    std::vector<outgoing> retry;
    for (auto i = first; i != last; ++i) {
      if (ack) {
        ++status_->confirmed;
        --gate_->outbox_backlog;
        if (i->second.seq != 0)
          confirmed_seqs_.push_back(i->second.seq);
      } else {
        ++status_->nacked;
        retry.push_back(std::move(i->second));
      }
    }
    in_flight_.erase(first, last);
    // A nacked message is published again, ahead of newer ones.
    for (auto i = retry.rbegin(); i != retry.rend(); ++i)
      pending_.push_front(std::move(*i));
  }

  /// Reads every frame already there; waits up to `wait_ms` for the first.
  void read_frames(int wait_ms) {
    for (;;) {
      // rabbitmq-c decodes every frame into the connection's pools, which
      // only this releases: without it, memory grows with every confirm.
      // (Nothing of an earlier frame is used past its iteration.)
      amqp_maybe_release_buffers(conn_.get());
      amqp_frame_t frame;
      timeval tv{0, wait_ms * 1000};
      auto rc = amqp_simple_wait_frame_noblock(conn_.get(), &frame, &tv);
      if (rc == AMQP_STATUS_TIMEOUT)
        return;
      if (rc != AMQP_STATUS_OK)
        return disconnect(amqp_error_string2(rc));
      wait_ms = 0;
      if (frame.frame_type != AMQP_FRAME_METHOD)
        continue;
      switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
          auto m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
          confirm(m->delivery_tag, m->multiple != 0, true);
          break;
        }
        case AMQP_BASIC_NACK_METHOD: {
          auto m
            = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
          confirm(m->delivery_tag, m->multiple != 0, false);
          break;
        }
        case AMQP_BASIC_RETURN_METHOD: {
          // Unroutable: nobody is bound for it. The broker still confirms
          // it, so it leaves the outbox; here it is only counted.
          ++status_->returned;
          amqp_message_t msg;
          auto r = amqp_read_message(conn_.get(), frame.channel, &msg, 0);
          if (r.reply_type != AMQP_RESPONSE_NORMAL)
            return disconnect("reading a returned message failed");
          amqp_destroy_message(&msg);
          break;
        }
        case AMQP_CONNECTION_BLOCKED_METHOD:
          blocked_ = true;
          log_line(log_level::warn, "amqp broker blocked publishing");
          break;
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
          blocked_ = false;
          log_line(log_level::info, "amqp broker unblocked publishing");
          break;
        case AMQP_CHANNEL_CLOSE_METHOD:
          return disconnect("channel closed by the broker");
        case AMQP_CONNECTION_CLOSE_METHOD:
          return disconnect("connection closed by the broker");
        default:
          break;
      }
    }
  }

  amqp_settings cfg_;
  std::shared_ptr<bridge_status> status_;
  std::shared_ptr<backpressure> gate_;
  std::string node_id_;
  broker_topology topology_;
  amqp_connection conn_;
  std::deque<outgoing> pending_;
  std::vector<int64_t> confirmed_seqs_;
  std::map<uint64_t, outgoing> in_flight_;
  uint64_t next_tag_ = 1;
  bool blocked_ = false;
  bool connected_before_ = false;
  bool failing_ = false;
  reconnect_backoff backoff_;
  clock_type::time_point next_attempt_{};
};

/// How long the publisher keeps flushing its outbox when asked to exit.
constexpr auto flush_on_exit = std::chrono::seconds(5);

void publisher_impl(caf::blocking_actor* self, amqp_settings cfg,
                    std::shared_ptr<bridge_status> status,
                    std::shared_ptr<backpressure> gate, store_actor store,
                    std::string node_id) {
  publisher p{std::move(cfg), std::move(status), std::move(gate),
              std::move(node_id)};
  auto report = [&] {
    p.report_lag();
    auto seqs = p.take_confirmed();
    if (store && !seqs.empty())
      self->send(store, published_atom::value, std::move(seqs));
  };
  bool running = true;
  while (running) {
    p.beat();
    // Take every waiting message, blocking only when there is nothing else
    // to do, then publish and read confirms.
    auto wait = p.idle_wait();
    // At most a batch per round, so a flood of events cannot starve the
    // confirms.
    size_t taken = 0;
    for (bool more = true; more && running && taken < 1024; ++taken) {
      // Polling an empty mailbox costs a futex call; look first.
      if (wait.count() == 0 && !self->has_next_message())
        break;
      self->receive([&](domain_event& ev) { p.add_event(ev); },
                    [&](std::vector<outbox_row>& rows) { p.add_rows(rows); },
                    [&](reply_atom, std::string& reply_to, domain_event& ev) {
                      p.add_reply(reply_to, ev);
                    },
                    [&](caf::exit_msg&) { running = false; },
                    caf::after(wait) >> [&] { more = false; });
      wait = std::chrono::milliseconds(0);
    }
    p.step();
    report();
  }
  auto deadline = clock_type::now() + flush_on_exit;
  while (!p.empty() && clock_type::now() < deadline) {
    p.step();
    report();
    if (!p.busy())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!p.empty())
    log_line(log_level::warn, "amqp outbox not flushed at exit");
  p.shutdown();
}

} // namespace

publisher_actor spawn_publisher(caf::actor_system& sys, amqp_settings cfg,
                                std::shared_ptr<bridge_status> status,
                                std::shared_ptr<backpressure> gate,
                                store_actor store, std::string node_id) {
  auto hdl = sys.spawn<caf::detached>(publisher_impl, std::move(cfg),
                                      std::move(status), std::move(gate),
                                      std::move(store), std::move(node_id));
  return caf::actor_cast<publisher_actor>(hdl);
}

} // namespace booking
