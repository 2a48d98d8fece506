// Internal to `actors/messages/`: the name of an enum value from a table of
// names in enum order.

#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace booking::detail {

/// `names[x]`, or "unknown" past the end of the table.
template <class E, size_t N>
std::string name_of(E x, const std::array<const char*, N>& names) {
  auto i = static_cast<size_t>(x);
  return i < N ? names[i] : "unknown";
}

} // namespace booking::detail
