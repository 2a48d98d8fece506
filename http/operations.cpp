// Operations: readiness (`/readyz`) and the Prometheus metrics
// (`/metrics`); `/healthz` is answered by the pipeline itself.

#include <boost/beast/http/field.hpp>

#include "actors/codec/json_writer.hpp"
#include "actors/codec/problem.hpp"
#include "http/resources.hpp"

namespace booking {

namespace http = boost::beast::http;

namespace {

std::string json_string(const std::string& text) {
  json_writer w{0};
  w.string(text);
  return w.str();
}

} // namespace

void readyz(api_handler& api, const exchange_ptr& ex) {
  auto name = [](check_state s) {
    switch (s) {
      case check_state::ok:
        return "ok";
      case check_state::starting:
        return "starting";
      default:
        return "down";
    }
  };
  auto& opts = api.options();
  auto store = opts.ready.store ? opts.ready.store() : check_state::ok;
  bool ready = store == check_state::ok;
  std::string checks = std::string{R"("store":")"} + name(store) + "\"";
  std::string amqp_problem;
  if (opts.ready.amqp) {
    auto amqp = opts.ready.amqp();
    ready = ready && amqp == check_state::ok;
    checks += std::string{R"(,"amqp":")"} + name(amqp) + "\"";
    if (amqp != check_state::ok && opts.ready.amqp_problem)
      amqp_problem = opts.ready.amqp_problem();
  }
  // Backpressure makes the engine unready while it lasts, so a balancer
  // sends the load elsewhere; the detail says how far it is. Suspended
  // sagas do not: new bookings run on, and an operator reads why.
  std::string detail;
  auto add_detail = [&](const char* key, const std::string& text) {
    detail += std::string{detail.empty() ? "" : ","} + "\"" + key
              + "\":" + json_string(text);
  };
  if (!opts.ready.suspended.empty())
    add_detail("store", opts.ready.suspended);
  if (!amqp_problem.empty())
    add_detail("amqp", amqp_problem);
  std::optional<overload_cause> cause;
  if (opts.gate)
    cause = opts.gate->cause();
  checks += std::string{R"(,"backpressure":")"}
            + (cause ? to_string(*cause) : "ok") + "\"";
  if (cause) {
    ready = false;
    auto& gate = *opts.gate;
    add_detail("backpressure",
               *cause == overload_cause::max_in_flight
                 ? std::to_string(gate.in_flight())
                     + " sagas in flight (saga.max-in-flight "
                     + std::to_string(gate.max_in_flight()) + ")"
                 : std::to_string(gate.outbox_backlog.load())
                     + " events wait for the broker's confirm "
                       "(amqp.max-backlog "
                     + std::to_string(gate.max_backlog()) + ")");
  }
  if (!detail.empty())
    detail = R"(,"detail":{)" + detail + "}";
  api.reply(ex, ready ? 200 : 503,
            std::string{R"({"status":")"} + (ready ? "ready" : "unavailable")
              + R"(","checks":{)" + checks + "}" + detail + "}");
}

void metrics(api_handler& api, const exchange_ptr& ex) {
  auto desk = api.peers().desk;
  with_actor(api.system(), [ex, desk](caf::event_based_actor* self) {
    self->request(desk, caf::infinite, caf::get_atom::value)
      .then(
        [ex](saga_stats& total) {
          auto& api = *ex->api;
          auto& opts = api.options();
          auto amqp = opts.amqp_metrics ? opts.amqp_metrics() : amqp_counters{};
          http_response res{http::status::ok, ex->version};
          res.set(http::field::content_type,
                  "text/plain; version=0.0.4; charset=utf-8");
          auto store = opts.store_metrics ? opts.store_metrics()
                                          : store_counters{};
          res.body() = render_metrics(api.metrics(), total, amqp, store,
                                      api.peers().actor_counts);
          api.finish(ex, std::move(res));
        },
        [ex](caf::error& e) { ex->api->reply(ex, problem_for(e)); });
  });
}

} // namespace booking
