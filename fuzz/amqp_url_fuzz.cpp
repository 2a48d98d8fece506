// Fuzz target: the broker URL (`amqp.url`).
//
// Any text either parses or is refused with a reason; what parses writes
// back (`to_url`) to a URL that parses to the same parts.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bridges/amqp_url.hpp"

using namespace booking;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  std::string error;
  auto url = parse_amqp_url(text, error);
  if (!url) {
    if (error.empty()) {
      std::fprintf(stderr, "refused without a reason: %s\n", text.c_str());
      std::abort();
    }
    return 0;
  }
  describe_login(*url);
  auto again_text = to_url(*url);
  auto again = parse_amqp_url(again_text, error);
  if (!again || again->tls != url->tls || again->user != url->user
      || again->password != url->password || again->host != url->host
      || again->port != url->port || again->vhost != url->vhost) {
    std::fprintf(stderr, "a URL changes when written back:\n  %s\n  %s\n",
                 text.c_str(), again_text.c_str());
    std::abort();
  }
  return 0;
}
