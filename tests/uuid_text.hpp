// Checks that a string is a UUID in its text form, for tests of the ids the
// engine makes.

#pragma once

#include <cctype>
#include <string>

namespace booking::testing {

/// True if `x` reads 8-4-4-4-12 hex digits; with `version`, also if the
/// version digit is that one (e.g. '7').
inline bool is_uuid(const std::string& x, char version = 0) {
  if (x.size() != 36)
    return false;
  for (size_t i = 0; i < x.size(); ++i) {
    auto dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (x[i] == '-'))
      return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(x[i])))
      return false;
  }
  return version == 0 || x[14] == version;
}

} // namespace booking::testing
