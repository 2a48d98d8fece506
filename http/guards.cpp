#include "http/guards.hpp"

#include <algorithm>
#include <cmath>

namespace booking {

rate_limiter::rate_limiter(double rate, double burst)
    : rate_(rate), burst_(burst > 0 ? burst : rate),
      last_sweep_(std::chrono::steady_clock::now()) {
  // A bucket smaller than one token would refuse everything.
  burst_ = std::max(burst_, 1.0);
}

bool rate_limiter::allow(const std::string& client, int& retry_after) {
  using seconds = std::chrono::duration<double>;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> guard{mtx_};
  // Full buckets carry no information: drop them now and then, so the map
  // holds only clients seen in the last few seconds.
  if (now - last_sweep_ > std::chrono::seconds(10)) {
    last_sweep_ = now;
    for (auto i = buckets_.begin(); i != buckets_.end();) {
      auto refill = seconds(now - i->second.last).count() * rate_;
      i = i->second.tokens + refill >= burst_ ? buckets_.erase(i)
                                              : std::next(i);
    }
  }
  auto [i, added] = buckets_.emplace(client, bucket{burst_, now});
  auto& b = i->second;
  if (!added) {
    b.tokens = std::min(burst_,
                        b.tokens + seconds(now - b.last).count() * rate_);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  retry_after = std::max(1,
                         static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
  return false;
}

cors_policy::cors_policy(const std::string& origins) {
  size_t start = 0;
  while (start <= origins.size()) {
    auto end = origins.find(',', start);
    if (end == std::string::npos)
      end = origins.size();
    auto item = origins.substr(start, end - start);
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos)
      origins_.insert(item.substr(first, last - first + 1));
    start = end + 1;
  }
}

bool cors_policy::allows(const std::string& origin) const {
  return origins_.count(origin) > 0 || origins_.count("*") > 0;
}

bool same_secret(const std::string& given, const std::string& expected) {
  // Walk the whole given string whatever the expected length, so timing
  // reveals neither where they differ nor the expected length.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    auto e = expected.empty() ? 0 : expected[i % expected.size()];
    diff |= static_cast<unsigned char>(given[i] ^ e);
  }
  return diff == 0 && !expected.empty();
}

} // namespace booking
