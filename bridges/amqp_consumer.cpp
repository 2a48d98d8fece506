#include "bridges/amqp_consumer.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <caf/blocking_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>

#include "actors/codec/cloudevents.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "bridges/amqp_connection.hpp"
#include "bridges/routing.hpp"

namespace booking {

namespace {

using clock_type = std::chrono::steady_clock;

std::string header(const message_properties& p, const std::string& key) {
  for (auto& [k, v] : p.headers)
    if (k == key)
      return v;
  return {};
}

class consumer {
public:
  consumer(caf::blocking_actor* self, amqp_settings cfg,
           std::shared_ptr<bridge_status> status, intake_peers peers,
           intake_options opts)
      : self_(self), cfg_(std::move(cfg)), status_(std::move(status)),
        peers_(std::move(peers)), opts_(std::move(opts)),
        topology_(topology(cfg_)) {
    // nop
  }

  /// Runs until an exit message arrives.
  void run() {
    while (running_) {
      status_->beat(false);
      if (!conn_.is_open()) {
        if (clock_type::now() >= next_attempt_)
          connect();
        if (!conn_.is_open()) {
          poll_mailbox(std::chrono::milliseconds(50));
          continue;
        }
      }
      consume_one();
      keep_alive();
      poll_mailbox(std::chrono::milliseconds(0));
    }
    conn_.close();
    pub_.close();
    status_->consumer_up = false;
  }

private:
  // -- connection -----------------------------------------------------------

  void connect() {
    auto err = conn_.open(cfg_, "booking-engine intake " + opts_.node_id);
    if (err.empty())
      err = conn_.declare(topology_);
    // Dead letters, retries and rejections go out on a second connection in
    // confirm mode, so an original is acked only once its copy is safe, and
    // waiting for a confirm never swallows a delivery.
    if (err.empty())
      err = pub_.open(cfg_, "booking-engine intake replies " + opts_.node_id);
    if (err.empty())
      err = pub_.enable_confirms();
    if (err.empty())
      err = attach();
    status_->set_problem(false, err);
    status_->tried = true;
    if (!err.empty()) {
      conn_.close();
      pub_.close();
      retry_connect(err);
      return;
    }
    if (connected_before_)
      ++status_->reconnects;
    connected_before_ = true;
    failing_ = false;
    backoff_.reset();
    next_tag_ = 1;
    log_line(log_level::info, "amqp intake consuming",
             {{"broker", redact_url(cfg_.url)}, {"queue", intake_queue}});
  }

  /// Sets the prefetch and starts consuming the intake queue.
  std::string attach() {
    amqp_basic_qos(conn_.get(), amqp_connection::channel, 0, cfg_.prefetch, 0);
    if (auto err = conn_.rpc_error("basic.qos"); !err.empty())
      return err;
    amqp_basic_consume(conn_.get(), amqp_connection::channel,
                       amqp_cstring_bytes(intake_queue), amqp_empty_bytes, 0, 0,
                       0, amqp_empty_table);
    if (auto err = conn_.rpc_error("basic.consume"); !err.empty())
      return err;
    status_->consumer_up = true;
    return {};
  }

  void retry_connect(const std::string& err) {
    auto wait = backoff_.next();
    next_attempt_ = clock_type::now() + wait;
    if (!failing_)
      log_line(log_level::warn, "amqp intake cannot connect",
               {{"broker", redact_url(cfg_.url)},
                {"error", err},
                log_number("retry_ms", wait.count())});
    failing_ = true;
  }

  /// Closes the connection without acking: the broker puts the current
  /// and every prefetched message back in the queue. Reconnects with
  /// backoff.
  void give_back(const std::string& why) {
    log_line(log_level::warn, "amqp intake gives its messages back",
             {{"reason", why}});
    failing_ = true; // no "cannot connect" line for it
    drop(why);
  }

  static std::string seconds_text(caf::timespan x) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                          : std::to_string(ms) + " ms";
  }

  void disconnect(const std::string& why) {
    log_line(log_level::warn, "amqp intake lost its connection",
             {{"error", why}});
    drop(why);
  }

  /// Closes both connections, says why in /readyz, and reconnects with
  /// backoff.
  void drop(const std::string& why) {
    conn_.close();
    pub_.close();
    // The reason first: /readyz never reads `down` without it.
    status_->set_problem(false, "intake: " + why);
    status_->consumer_up = false;
    retry_connect(why);
  }

  /// Reads what the second connection received, which also sends its
  /// heartbeats: it is idle while no message needs a dead letter or retry.
  void keep_alive() {
    if (!pub_.is_open())
      return;
    for (;;) {
      amqp_maybe_release_buffers(pub_.get()); // see consume_one
      amqp_frame_t frame;
      timeval tv{0, 0};
      auto rc = amqp_simple_wait_frame_noblock(pub_.get(), &frame, &tv);
      if (rc == AMQP_STATUS_TIMEOUT)
        return;
      if (rc != AMQP_STATUS_OK)
        return disconnect(std::string{"reply connection: "}
                          + amqp_error_string2(rc));
    }
  }

  void poll_mailbox(std::chrono::milliseconds wait) {
    self_->receive([&](caf::exit_msg&) { running_ = false; },
                   caf::after(wait) >> [] {});
  }

  // -- consuming ------------------------------------------------------------

  void consume_one() {
    amqp_maybe_release_buffers(conn_.get());
    amqp_envelope_t env;
    timeval tv{0, 100 * 1000};
    auto r = amqp_consume_message(conn_.get(), &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
      handle(env);
      amqp_destroy_envelope(&env);
      return;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
        && r.library_error == AMQP_STATUS_TIMEOUT)
      return;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
        && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      amqp_frame_t frame;
      if (amqp_simple_wait_frame(conn_.get(), &frame) != AMQP_STATUS_OK)
        return disconnect("reading a frame failed");
      if (frame.frame_type != AMQP_FRAME_METHOD)
        return;
      switch (frame.payload.method.id) {
        case AMQP_BASIC_CANCEL_METHOD: {
          // The broker cancelled us (e.g. the queue was deleted): declare
          // the topology again and re-attach.
          status_->consumer_up = false;
          log_line(log_level::warn, "amqp intake consumer cancelled by the "
                                    "broker; re-attaching");
          auto err = conn_.declare(topology_);
          if (err.empty())
            err = attach();
          if (!err.empty())
            disconnect(err);
          return;
        }
        case AMQP_CHANNEL_CLOSE_METHOD:
          return disconnect("channel closed by the broker");
        case AMQP_CONNECTION_CLOSE_METHOD:
          return disconnect("connection closed by the broker");
        default:
          return;
      }
    }
    disconnect(r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                 ? amqp_error_string2(r.library_error)
                 : "consume failed");
  }

  void handle(const amqp_envelope_t& env) {
    ++status_->consumed;
    // Dead letters and retries copy the original properties, typed headers
    // included; they stay valid while the envelope is handled.
    original_ = &env.message.properties;
    auto props = read_properties(env.message.properties);
    std::string body{static_cast<const char*>(env.message.body.bytes),
                     env.message.body.len};
    auto tag = env.delivery_tag;
    if (props.message_id.empty())
      return dead_letter(tag, props, body, "missing message_id", {});
    booking_request req;
    std::vector<field_error> errors;
    std::string reason;
    switch (decode_intake(body, props, req, errors, reason)) {
      case intake_outcome::ok:
        break;
      case intake_outcome::invalid:
      case intake_outcome::malformed:
        return dead_letter(tag, props, body, reason, errors);
    }
    req.id = new_booking_id();
    req.reply_to = props.reply_to;
    if (opts_.fault)
      if (auto err = opts_.fault(req))
        return retry_later(tag, props, body, describe(err));
    create(tag, props, body, req, env.redelivered != 0);
  }

  /// Creates the booking through the front desk, with the message id as
  /// idempotency key (the inbox binds it to one booking id for good),
  /// pausing while the engine is at its in-flight limit.
  void create(uint64_t tag, const message_properties& props,
              const std::string& body, const booking_request& req,
              bool redelivered) {
    auto key = "amqp:" + props.message_id;
    auto refused_since = clock_type::now();
    while (running_) {
      caf::optional<booking_record> rec;
      caf::error err;
      status_->beat(false);
      self_
        ->request(peers_.desk, cfg_.stall_timeout, create_atom::value, req, key)
        .receive([&](booking_record& r) { rec = std::move(r); },
                 [&](caf::error& e) { err = std::move(e); });
      if (rec) {
        ack(tag);
        // The saga sends the reply with its outcome, through the outbox,
        // to the `reply_to` of the delivery that started it. A message the
        // client sent again (its id names a booking already, and the broker
        // did not redeliver it) gets its own reply from here, once the
        // booking has its outcome. A redelivery (after a give-back or a
        // crash) gets none of its own: the saga's reply answers it.
        if (!props.reply_to.empty() && rec->id != req.id && !redelivered)
          reply_with_outcome(props.reply_to, rec->id);
        return;
      }
      if (err == caf::sec::request_timeout)
        return give_back("the engine did not take a booking within "
                         + seconds_text(cfg_.stall_timeout));
      if (is(err, booking_errc::overloaded)) {
        // Backpressure: keep the message unacked and try again shortly,
        // but not for ever: a consumer that cannot make progress hands
        // its messages back to the queue, for this process later or for
        // another one now.
        if (clock_type::now() - refused_since >= cfg_.stall_timeout)
          return give_back("the engine refused new bookings for "
                           + seconds_text(cfg_.stall_timeout) + " ("
                           + describe(err) + ")");
        status_->beat(false);
        poll_mailbox(std::chrono::milliseconds(50));
        continue;
      }
      if (is(err, booking_errc::key_reused))
        return dead_letter(tag, props, body,
                           "message_id was used before with a different body",
                           {});
      if (is(err, booking_errc::unknown_tour))
        return dead_letter(tag, props, body, "unknown tour",
                           {{"tour_id", "unknown tour"}});
      if (is(err, booking_errc::unknown_date))
        return dead_letter(tag, props, body, "unknown date",
                           {{"date", "the tour has no departure on this "
                                     "date"}});
      if (is(err, booking_errc::invalid_request))
        return dead_letter(tag, props, body, describe(err), {});
      return retry_later(tag, props, body, describe(err));
    }
  }

  void reply_with_outcome(const std::string& reply_to, const std::string& id) {
    if (!peers_.publisher)
      return;
    auto desk = peers_.desk;
    auto publisher = peers_.publisher;
    self_->system().spawn([=](caf::event_based_actor* waiter) {
      waiter->request(desk, caf::infinite, await_atom::value, id)
        .then(
          [=](booking_record& rec) {
            waiter->send(publisher, reply_atom::value, reply_to,
                         outcome_event(rec));
          },
          [=](caf::error& e) {
            log_line(log_level::warn, "no outcome for an intake reply",
                     {{"booking_id", id}, {"error", describe(e)}});
          });
    });
  }

  // -- settling -------------------------------------------------------------

  void ack(uint64_t tag) {
    amqp_basic_ack(conn_.get(), amqp_connection::channel, tag, 0);
    ++status_->acked;
  }

  /// Publishes on the confirm channel and waits for the broker's confirm.
  bool publish_confirmed(const std::string& exchange, const std::string& key,
                         const message_properties& props,
                         const std::string& body) {
    return settle(pub_.publish(exchange, key, props, body, false));
  }

  /// Publishes a copy of the message being handled and waits for the
  /// broker's confirm.
  bool publish_copy_confirmed(
    const std::string& exchange, const std::string& key,
    const std::vector<std::pair<std::string, std::string>>& set_headers,
    const std::string& expiration, const std::string& body) {
    return settle(pub_.publish_copy(exchange, key, *original_, set_headers,
                                    expiration, body));
  }

  /// Waits for the confirm of the message just published (`err` empty).
  bool settle(const std::string& err) {
    if (!err.empty()) {
      disconnect(err);
      return false;
    }
    auto tag = next_tag_++;
    for (;;) {
      amqp_maybe_release_buffers(pub_.get()); // see consume_one
      amqp_frame_t frame;
      timeval tv{10, 0};
      auto rc = amqp_simple_wait_frame_noblock(pub_.get(), &frame, &tv);
      if (rc != AMQP_STATUS_OK) {
        disconnect(std::string{"waiting for a confirm: "}
                   + amqp_error_string2(rc));
        return false;
      }
      if (frame.frame_type != AMQP_FRAME_METHOD)
        continue;
      auto id = frame.payload.method.id;
      if (id == AMQP_BASIC_ACK_METHOD || id == AMQP_BASIC_NACK_METHOD) {
        auto acked = id == AMQP_BASIC_ACK_METHOD;
        auto m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
        // A (multiple) ack up to an earlier tag does not cover this one.
        if (m->delivery_tag >= tag) {
          if (!acked)
            disconnect("the broker nacked a dead letter");
          return acked;
        }
        continue;
      }
      if (id == AMQP_CHANNEL_CLOSE_METHOD
          || id == AMQP_CONNECTION_CLOSE_METHOD) {
        disconnect("closed by the broker while publishing");
        return false;
      }
    }
  }

  /// Poison: to the dead-letter queue with the reason, a rejection to
  /// reply_to, then ack. Never requeued.
  void dead_letter(uint64_t tag, const message_properties& props,
                   const std::string& body, const std::string& reason,
                   const std::vector<field_error>& errors) {
    ++status_->rejected;
    log_line(log_level::warn, "intake message dead-lettered",
             {{"message_id", props.message_id},
              {"correlation_id", props.correlation_id},
              {"reason", reason}});
    if (!props.reply_to.empty()) {
      auto correlation = props.correlation_id.empty() ? props.message_id
                                                      : props.correlation_id;
      auto errs = errors;
      if (errs.empty())
        errs.push_back({"message", reason});
      auto x = make_rejection(props.message_id, correlation, std::move(errs));
      auto route = reply_route(rejected_type, props.reply_to);
      if (route
          && !publish_confirmed(route->exchange, route->routing_key,
                                properties_for(x),
                                encode_rejected(x, opts_.node_id)))
        return;
    }
    auto route = dead_letter_route(intake_queue);
    if (!publish_copy_confirmed(route.exchange, route.routing_key,
                                {{error_header, reason}}, {}, body))
      return;
    ++status_->dead_lettered;
    ack(tag);
  }

  /// A transient failure: through the retry queue with a growing delay, or
  /// dead-lettered once the retries are used up.
  void retry_later(uint64_t tag, const message_properties& props,
                   const std::string& body, const std::string& why) {
    auto count = std::atoi(header(props, "x-booking-retries").c_str());
    if (count >= cfg_.retry_limit)
      return dead_letter(
        tag, props, body,
        "retries exhausted (" + std::to_string(count) + "): " + why, {});
    auto base
      = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.retry_delay)
          .count();
    auto delay = std::min<int64_t>(60000, std::clamp<int64_t>(base, 1, 60000)
                                            << std::min(count, 16));

    log_line(log_level::info, "intake message retried later",
             {{"message_id", props.message_id},
              {"error", why},
              log_number("attempt", count + 1),
              log_number("delay_ms", delay)});
    auto route = retry_route(intake_queue);
    if (!publish_copy_confirmed(
          route.exchange, route.routing_key,
          {{"x-booking-retries", std::to_string(count + 1)}},
          std::to_string(delay), body))
      return;
    ack(tag);
  }

  caf::blocking_actor* self_;
  amqp_settings cfg_;
  std::shared_ptr<bridge_status> status_;
  intake_peers peers_;
  intake_options opts_;
  broker_topology topology_;
  amqp_connection conn_;
  amqp_connection pub_;
  const amqp_basic_properties_t* original_ = nullptr;
  bool running_ = true;
  bool connected_before_ = false;
  bool failing_ = false;
  reconnect_backoff backoff_;
  uint64_t next_tag_ = 1;
  clock_type::time_point next_attempt_{};
};

void consumer_impl(caf::blocking_actor* self, amqp_settings cfg,
                   std::shared_ptr<bridge_status> status, intake_peers peers,
                   intake_options opts) {
  consumer c{self, std::move(cfg), std::move(status), std::move(peers),
             std::move(opts)};
  c.run();
}

} // namespace

caf::actor spawn_intake_consumer(caf::actor_system& sys, amqp_settings cfg,
                                 std::shared_ptr<bridge_status> status,
                                 intake_peers peers, intake_options opts) {
  return sys.spawn<caf::detached>(consumer_impl, std::move(cfg),
                                  std::move(status), std::move(peers),
                                  std::move(opts));
}

domain_event outcome_event(const booking_record& rec) {
  domain_event ev;
  ev.id = new_booking_id();
  // The outcome of the booking's saga: a cancelled booking was confirmed
  // (its cancellation is another request's outcome).
  auto type = rec.status == booking_status::confirmed
                  || rec.status == booking_status::cancelled
                ? event_type::booking_confirmed
              : rec.status == booking_status::compensation_failed
                ? event_type::saga_compensation_failed
                : event_type::booking_failed;
  ev.type = to_string(type);
  ev.time = caf::make_timestamp();
  ev.correlation_id = rec.correlation_id;
  ev.booking_id = rec.id;
  ev.tour_id = rec.tour_id;
  ev.date = rec.date;
  ev.seats = rec.seats;
  ev.amount_cents = rec.amount_cents;
  ev.currency = rec.currency;
  ev.customer_email = rec.cust.email;
  ev.status = to_string(rec.status);
  if (info(type).carries_reason)
    ev.reason = rec.reason.empty() ? to_string(rec.status) : rec.reason;
  return ev;
}

} // namespace booking
