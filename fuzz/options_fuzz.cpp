// Fuzz target: the validation of the INI file and the command line.
//
// The input's lines up to the first empty one are command-line arguments,
// one per line; the rest is the config file (the scenario file of
// booking-sim). Both go through `load_config`
// of booking-server (or of booking-sim, if the first byte is odd), which
// must accept or refuse them with one line naming the key, never crash.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "config/booking_config.hpp"

using namespace booking;

namespace {

/// The arguments that print and exit: not what this target is about.
bool prints(const std::string& arg) {
  for (auto x : {"--help", "--long-help", "--dump-config", "-h"})
    if (arg.rfind(x, 0) == 0)
      return true;
  return false;
}

const std::string& ini_path() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string{tmp && *tmp ? tmp : "/tmp"} + "/options-fuzz-"
           + std::to_string(::getpid()) + ".ini";
  }();
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  auto prog = data[0] % 2 == 0 ? program::server : program::simulator;
  std::string text{reinterpret_cast<const char*>(data) + 1, size - 1};
  auto split = text.find("\n\n");
  auto head = text.substr(0, split);
  auto ini = split == std::string::npos ? std::string{}
                                        : text.substr(split + 2);
  std::vector<std::string> args;
  for (size_t pos = 0; pos <= head.size() && !head.empty();) {
    auto end = head.find('\n', pos);
    auto arg = head.substr(pos, end == std::string::npos ? end : end - pos);
    if (prints(arg) || arg.rfind("--config", 0) == 0
        || arg.rfind("--scenario", 0) == 0)
      return 0;
    args.push_back(arg);
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  {
    std::ofstream out{ini_path(), std::ios::trunc | std::ios::binary};
    out << ini;
  }
  // booking-sim reads its scenario file where booking-server reads its
  // config file.
  args.push_back((prog == program::server ? "--config=" : "--scenario=")
                 + ini_path());
  booking_config cfg{prog};
  auto outcome = load_config(cfg, args);
  if (outcome.kind == config_outcome::fail && outcome.message.empty()) {
    std::fprintf(stderr, "a refusal without a message\n");
    std::abort();
  }
  return 0;
}
