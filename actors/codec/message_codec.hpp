// The JSON codec of every message that can cross a process boundary:
// requests, replies (errors included), commands and events, as one
// mechanism. The store's own batches never leave their process and have
// none.
//
// Each message struct (`BOOKING_MESSAGE_TYPES`) encodes as a JSON object
// with one member per field, named as in the struct: enums as their names,
// timestamps and timespans as integer nanoseconds (exact), optionals as null
// when empty. A whole CAF message, such as a participant command
// `(reserve_atom, seat_hold)` or its reply, encodes as an array of typed
// elements:
//
//   [{"type": "atom", "value": "reserve"},
//    {"type": "seat_hold", "value": {"booking_id": "...", ...}}]
//
//   std::string json = encode(hold);
//   seat_hold back;
//   std::string error;
//   if (!decode(json, back, error)) ...
//
//   auto cmd = encode_message(caf::make_message(capture_atom::value, id));
//   caf::message msg;
//   if (!decode_message(*cmd, msg, error)) ...
//
// Decoding checks every member's type and reports the first bad one by its
// path (`saga[2].outcome: unknown value "maybe"`); unknown members are
// ignored, absent ones keep their defaults.

#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/message.hpp>

#include "actors/messages.hpp"

namespace booking {

#define BOOKING_DECLARE_CODEC(type)                                            \
  /** `x` as a JSON object. */                                                 \
  std::string encode(const type& x);                                           \
  /** Reads `json` into `out`; on failure returns false and sets `error`. */   \
  bool decode(const std::string& json, type& out, std::string& error);

BOOKING_MESSAGE_TYPES(BOOKING_DECLARE_CODEC)

#undef BOOKING_DECLARE_CODEC

/// Names of every element type a message may carry: `atom`, `string`,
/// `int32`, `int64`, `uint64`, `bool`, `timespan`, `vector<string>`, `error`
/// (`{"category", "code", "context"}`), each message struct, and the lists
/// a reply may be (`vector<tour>`, ...).
const std::vector<std::string>& message_element_types();

/// The JSON of `msg`, or none if an element has a type the codec does not
/// know (then `error`, if given, names it).
std::optional<std::string> encode_message(const caf::message& msg,
                                          std::string* error = nullptr);

/// Reads a message written by `encode_message`.
bool decode_message(const std::string& json, caf::message& out,
                    std::string& error);

} // namespace booking
