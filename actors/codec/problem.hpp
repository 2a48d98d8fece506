// RFC 9457 problem documents: the one place that maps the engine's errors
// onto HTTP statuses.
//
// Every error response of the API is built here, so a client sees the same
// shape everywhere and no internal error text reaches it:
//
//   problem p = problem_for(err);           // from an actor's caf::error
//   problem v = validation_problem(fields); // 422 listing every field

#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>

namespace booking {

/// One failing field of a request (`customer.email`, `departures[2].date`).
struct field_error {
  std::string field;
  std::string message;
};

/// A problem document and the status it is sent with.
struct problem {
  int status = 500;
  /// Last segment of the `type` URI, e.g. `sold-out`.
  std::string slug;
  std::string title;
  std::string detail;
  std::vector<field_error> errors;
  /// Set for outcomes of a booking (sold out, declined).
  std::string booking_id;
  /// Seconds for a `Retry-After` header; 0 = none.
  int retry_after = 0;
};

/// Makes a problem with a fixed title for its status.
problem make_problem(int status, std::string slug, std::string detail);

/// 422 listing every failing field.
problem validation_problem(std::vector<field_error> errors);

/// Maps an error from the actors onto a problem; internal errors become a
/// generic 500 or 503 without their text.
problem problem_for(const caf::error& e);

/// The `type` member: a URI reference ending in the slug.
std::string problem_type(const std::string& slug);

/// Serializes the problem document.
std::string to_json(const problem& p);

} // namespace booking
