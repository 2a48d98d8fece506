// Which shard owns a key: bookings by booking id, tours by tour id.
//
// The hash is FNV-1a over the key's bytes, stable across runs, processes and
// platforms (unlike std::hash), so every process agrees on the owner.
//
//   auto& coordinator = shard_for(coordinators, booking_id);

#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace booking {

/// Index of the shard that owns `key` among `n` shards (0 if `n` is 0).
size_t shard_index(const std::string& key, size_t n);

/// The shard that owns `key`. Precondition: `shards` is not empty.
template <class Handle>
const Handle&
shard_for(const std::vector<Handle>& shards, const std::string& key) {
  return shards[shard_index(key, shards.size())];
}

} // namespace booking
