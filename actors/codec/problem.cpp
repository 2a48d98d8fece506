#include "actors/codec/problem.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <caf/sec.hpp>

#include "actors/errors.hpp"

namespace booking {

namespace {

const char* title_of(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment declined";
    case 403:
      return "Forbidden";
    case 404:
      return "Not found";
    case 405:
      return "Method not allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content too large";
    case 415:
      return "Unsupported media type";
    case 422:
      return "Unprocessable content";
    case 429:
      return "Too many requests";
    case 431:
      return "Request header fields too large";
    case 503:
      return "Service unavailable";
    default:
      return "Internal server error";
  }
}

} // namespace

problem make_problem(int status, std::string slug, std::string detail) {
  problem p;
  p.status = status;
  p.slug = std::move(slug);
  p.title = title_of(status);
  p.detail = std::move(detail);
  return p;
}

problem validation_problem(std::vector<field_error> errors) {
  std::string detail = "The request has invalid fields:";
  for (size_t i = 0; i < errors.size(); ++i)
    detail += (i == 0 ? " " : ", ") + errors[i].field;
  detail += ".";
  auto p = make_problem(422, "validation-failed", std::move(detail));
  p.errors = std::move(errors);
  return p;
}

problem problem_for(const caf::error& e) {
  if (e.category() == booking_error_category) {
    auto code = static_cast<booking_errc>(e.code());
    switch (code) {
      case booking_errc::not_found:
        return make_problem(404, "not-found", "No such resource.");
      case booking_errc::unknown_tour:
        return validation_problem({{"tour_id", "unknown tour"}});
      case booking_errc::unknown_date:
        return validation_problem({{"date", "the tour has no departure on "
                                            "this date"}});
      case booking_errc::wrong_status: {
        // The context names the status, or why a re-drive cannot run.
        std::string why;
        if (e.context().match_elements<std::string>())
          why = e.context().get_as<std::string>(0);
        return make_problem(409, "wrong-status",
                            why.empty()
                              ? "The booking's status does not allow this."
                              : "The booking's status does not allow this: "
                                  + why + ".");
      }
      case booking_errc::capacity_conflict:
        return make_problem(409, "capacity-conflict",
                            "A capacity would drop below the seats already "
                            "sold or held; the tour is unchanged.");
      case booking_errc::sold_out:
        return make_problem(409, "sold-out",
                            "Not enough seats are left on this departure.");
      case booking_errc::payment_declined:
        return make_problem(402, "payment-declined",
                            "The payment was declined.");
      case booking_errc::overloaded: {
        // The context names the cause, as /readyz does.
        std::string cause;
        if (e.context().match_elements<std::string>())
          cause = e.context().get_as<std::string>(0);
        auto p = make_problem(
          429, "overloaded",
          cause == "outbox-backlog"
            ? "Too many events wait for the message broker (outbox-backlog); "
              "retry later."
            : "Too many bookings are in progress (max-in-flight); retry "
              "later.");
        p.retry_after = 1;
        return p;
      }
      case booking_errc::invalid_request:
        return validation_problem({{"request", "invalid"}});
      case booking_errc::key_reused:
        return validation_problem(
          {{"Idempotency-Key", "was used before with a different request"}});
      case booking_errc::store_error: {
        auto p = make_problem(503, "store-unavailable",
                              "The booking store cannot write; nothing was "
                              "stored. Retry later.");
        p.retry_after = 5;
        return p;
      }
      default:
        break;
    }
  }
  if (e == caf::sec::request_timeout) {
    auto p = make_problem(503, "unavailable",
                          "The engine did not answer in time; retry later.");
    p.retry_after = 1;
    return p;
  }
  return make_problem(500, "internal", "An internal error occurred.");
}

std::string problem_type(const std::string& slug) {
  return "/problems/" + slug;
}

std::string to_json(const problem& p) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  w.Key("type");
  w.String(problem_type(p.slug).c_str());
  w.Key("title");
  w.String(p.title.c_str());
  w.Key("status");
  w.Int(p.status);
  w.Key("detail");
  w.String(p.detail.c_str());
  if (!p.errors.empty()) {
    w.Key("errors");
    w.StartArray();
    for (auto& fe : p.errors) {
      w.StartObject();
      w.Key("field");
      w.String(fe.field.c_str());
      w.Key("message");
      w.String(fe.message.c_str());
      w.EndObject();
    }
    w.EndArray();
  }
  if (!p.booking_id.empty()) {
    w.Key("booking_id");
    w.String(p.booking_id.c_str());
  }
  w.EndObject();
  return buf.GetString();
}

} // namespace booking
