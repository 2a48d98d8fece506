#include "actors/shard.hpp"

#include <cstdint>

namespace booking {

size_t shard_index(const std::string& key, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return n == 0 ? 0 : static_cast<size_t>(h % n);
}

} // namespace booking
