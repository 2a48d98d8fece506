// Protection of the API that needs state across requests: the per-client
// rate limit, the CORS origin list and bearer-token checks.

#pragma once

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace booking {

/// A token bucket per client address. Thread-safe.
class rate_limiter {
public:
  /// `rate` tokens per second, buckets of `burst` tokens; rate 0 = off.
  rate_limiter(double rate, double burst);

  bool enabled() const {
    return rate_ > 0;
  }

  /// Takes a token for `client`; on refusal, `retry_after` is the number of
  /// whole seconds until one is available.
  bool allow(const std::string& client, int& retry_after);

private:
  struct bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };

  double rate_;
  double burst_;
  std::mutex mtx_;
  std::unordered_map<std::string, bucket> buckets_;
  std::chrono::steady_clock::time_point last_sweep_;
};

/// The origins allowed to call the API from a browser.
class cors_policy {
public:
  /// `origins`: comma-separated; empty = no CORS at all.
  explicit cors_policy(const std::string& origins);

  bool enabled() const {
    return !origins_.empty();
  }

  bool allows(const std::string& origin) const;

private:
  std::set<std::string> origins_;
};

/// Compares two secrets in time that depends only on their lengths.
bool same_secret(const std::string& given, const std::string& expected);

} // namespace booking
