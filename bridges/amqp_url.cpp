#include "bridges/amqp_url.hpp"

#include <string_view>

namespace booking {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Decodes `%XX` escapes; none if one is cut short or not hex.
std::optional<std::string> decode(std::string_view x) {
  std::string out;
  out.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] != '%') {
      out += x[i];
      continue;
    }
    if (i + 2 >= x.size())
      return std::nullopt;
    auto hi = hex_value(x[i + 1]);
    auto lo = hex_value(x[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

/// Escapes everything but RFC 3986's unreserved characters.
std::string encode(const std::string& x) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : x) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

/// True if `x` is UTF-8 without NUL: the broker takes names as UTF-8, and
/// rabbitmq-c takes C strings, so a NUL would cut a name short.
bool clean_text(const std::string& x) {
  for (size_t i = 0; i < x.size();) {
    auto c = static_cast<unsigned char>(x[i]);
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    if (c == 0 || n == 0 || i + n > x.size())
      return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(x[i + k]) >> 6) != 2)
        return false;
    i += n;
  }
  return true;
}

bool has_any(std::string_view x, std::string_view chars) {
  return x.find_first_of(chars) != std::string_view::npos;
}

} // namespace

std::optional<amqp_url> parse_amqp_url(const std::string& text,
                                       std::string& error) {
  amqp_url out;
  std::string_view rest{text};
  if (rest.substr(0, 7) == "amqp://") {
    rest.remove_prefix(7);
  } else if (rest.substr(0, 8) == "amqps://") {
    rest.remove_prefix(8);
    out.tls = true;
    out.port = 5671;
  } else {
    error = "expected an amqp:// or amqps:// URL";
    return std::nullopt;
  }
  if (has_any(rest, "?#")) {
    error = "a query or fragment is not supported (set amqp.heartbeat and "
            "the other amqp.* keys instead)";
    return std::nullopt;
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    auto path = rest.substr(slash + 1);
    if (path.find('/') != std::string_view::npos) {
      error = "the vhost is one path segment: write a '/' in it as %2f";
      return std::nullopt;
    }
    auto vhost = decode(path);
    if (!vhost) {
      error = "bad percent escape in the vhost";
      return std::nullopt;
    }
    out.vhost = std::move(*vhost);
  }
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    auto user = decode(userinfo.substr(0, colon));
    if (!user || has_any(userinfo, "@[]")) {
      error = "bad user name";
      return std::nullopt;
    }
    out.user = std::move(*user);
    if (colon != std::string_view::npos) {
      auto password = decode(userinfo.substr(colon + 1));
      if (!password) {
        error = "bad percent escape in the password";
        return std::nullopt;
      }
      out.password = std::move(*password);
    }
  }
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  bool bracketed = !authority.empty() && authority.front() == '[';
  if (bracketed) {
    auto close = authority.find(']');
    if (close == std::string_view::npos || close == 1) {
      error = "bad IPv6 address";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      error = "bad IPv6 address";
      return std::nullopt;
    }
    if (!after.empty()) {
      has_port = true;
      port = after.substr(1);
    }
  } else {
    auto colon = host.find(':');
    if (colon != std::string_view::npos) {
      has_port = true;
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    if (has_any(host, "[]")) {
      error = "bad host";
      return std::nullopt;
    }
  }
  if (!host.empty() || bracketed) {
    auto decoded = decode(host);
    if (!decoded || decoded->empty() || has_any(*decoded, "/@ ")) {
      error = "bad host";
      return std::nullopt;
    }
    out.host = std::move(*decoded);
  }
  if (has_port) {
    unsigned value = 0;
    bool ok = !port.empty() && port.size() <= 5;
    for (auto c : port) {
      if (c < '0' || c > '9') {
        ok = false;
        break;
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || value == 0 || value > 65535) {
      error = "expected a port in 1..65535";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(value);
  }
  for (auto* part : {&out.user, &out.password, &out.host, &out.vhost})
    if (!clean_text(*part)) {
      error = "a part decodes to a NUL or to bytes that are not UTF-8";
      return std::nullopt;
    }
  return out;
}

std::string to_url(const amqp_url& x) {
  std::string out = x.tls ? "amqps://" : "amqp://";
  out += encode(x.user) + ":" + encode(x.password) + "@";
  // An IPv6 address keeps its brackets; whatever else the host holds is
  // escaped inside them.
  out += x.host.find(':') != std::string::npos ? "[" + encode(x.host) + "]"
                                               : encode(x.host);
  out += ":" + std::to_string(x.port) + "/" + encode(x.vhost);
  return out;
}

std::string describe_login(const amqp_url& x) {
  return "user " + x.user + ", vhost '" + x.vhost + "'";
}

} // namespace booking
