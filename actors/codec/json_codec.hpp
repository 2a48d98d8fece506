// JSON bodies of the HTTP API: parsing and validating requests, writing
// responses. The AMQP intake validates a booking with the same parser, and
// the server reads its tours file with it.
//
//   booking_request req;
//   problem err;
//   if (!parse_booking_request(body, req, err)) reply(err);
//   reply(200, to_json(record));

#pragma once

#include <string>
#include <vector>

#include "actors/codec/problem.hpp"
#include "actors/messages.hpp"

namespace booking {

// -- requests -----------------------------------------------------------------

/// Reads a booking request; fills everything but `id` and `correlation_id`.
/// On failure `err` is a 400 (malformed JSON, naming the offset) or a 422
/// listing every invalid field.
bool parse_booking_request(const std::string& body, booking_request& out,
                           problem& err);

/// Reads a tour document (create or replace); same failure rules.
bool parse_tour(const std::string& body, tour& out, problem& err);

/// Reads a JSON array of tour documents (the tours file of the server).
bool parse_tours(const std::string& body, std::vector<tour>& out, problem& err);

// -- checks -------------------------------------------------------------------

/// True for a real calendar date written `YYYY-MM-DD`.
bool is_date(const std::string& x);

/// True for a syntactically valid email address.
bool is_email(const std::string& x);

/// True for an E.164 phone number (`+` and 2 to 15 digits).
bool is_e164(const std::string& x);

/// Number of code points of a UTF-8 string.
size_t utf8_length(const std::string& x);

// -- responses ----------------------------------------------------------------

std::string to_json(const booking_record& x);
std::string to_json(const tour& x);
std::string to_json(const notification_record& x);
std::string to_json(const availability_view& x);

/// `{"items": [...]}`.
std::string to_json(const std::vector<tour>& xs);

/// `{"items": [...], "next_cursor": ...}`; an empty cursor is written null.
std::string to_json(const std::vector<booking_record>& xs,
                    const std::string& next_cursor);
std::string to_json(const std::vector<notification_record>& xs,
                    const std::string& next_cursor);

} // namespace booking
