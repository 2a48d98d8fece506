#define CAF_SUITE bridges.amqp_url
#include "bridges/amqp_url.hpp"

#include <caf/test/unit_test.hpp>

// The broker URL as RabbitMQ's URI spec reads it (see amqp_url.hpp).

using namespace booking;

namespace {

amqp_url parsed(const std::string& text) {
  std::string error;
  auto url = parse_amqp_url(text, error);
  if (!url)
    CAF_FAIL(text << ": " << error);
  return *url;
}

std::string refused(const std::string& text) {
  std::string error;
  auto url = parse_amqp_url(text, error);
  CAF_CHECK(!url);
  return error;
}

} // namespace

CAF_TEST(the vhost forms) {
  CAF_CHECK_EQUAL(parsed("amqp://h:5672").vhost, "/");
  CAF_CHECK_EQUAL(parsed("amqp://h:5672/").vhost, "");
  CAF_CHECK_EQUAL(parsed("amqp://h:5672/%2f").vhost, "/");
  CAF_CHECK_EQUAL(parsed("amqp://h:5672/%2F").vhost, "/");
  CAF_CHECK_EQUAL(parsed("amqp://h:5672/other").vhost, "other");
  CAF_CHECK_EQUAL(parsed("amqp://h/a%2fb").vhost, "a/b");
}

CAF_TEST(the defaults and the parts) {
  auto x = parsed("amqp://");
  CAF_CHECK_EQUAL(x.host, "localhost");
  CAF_CHECK_EQUAL(x.port, 5672);
  CAF_CHECK_EQUAL(x.user, "guest");
  CAF_CHECK_EQUAL(x.password, "guest");
  CAF_CHECK(!x.tls);
  auto s = parsed("amqps://broker.example.org");
  CAF_CHECK(s.tls);
  CAF_CHECK_EQUAL(s.port, 5671);
  auto full = parsed("amqp://us%40er:p%3Ass@127.0.0.1:15672/v");
  CAF_CHECK_EQUAL(full.user, "us@er");
  CAF_CHECK_EQUAL(full.password, "p:ss");
  CAF_CHECK_EQUAL(full.host, "127.0.0.1");
  CAF_CHECK_EQUAL(full.port, 15672);
  auto only_user = parsed("amqp://ann@h");
  CAF_CHECK_EQUAL(only_user.user, "ann");
  CAF_CHECK_EQUAL(only_user.password, "guest");
  auto v6 = parsed("amqp://[::1]:5673/%2f");
  CAF_CHECK_EQUAL(v6.host, "::1");
  CAF_CHECK_EQUAL(v6.port, 5673);
  CAF_CHECK_EQUAL(describe_login(parsed("amqp://h/")), "user guest, vhost ''");
}

CAF_TEST(what is refused says why and never shows the password) {
  CAF_CHECK_EQUAL(refused("http://h"), "expected an amqp:// or amqps:// URL");
  CAF_CHECK_EQUAL(refused("amqp://h/a/b"),
                  "the vhost is one path segment: write a '/' in it as %2f");
  CAF_CHECK_EQUAL(refused("amqp://h:0"), "expected a port in 1..65535");
  CAF_CHECK_EQUAL(refused("amqp://h:65536"), "expected a port in 1..65535");
  CAF_CHECK_EQUAL(refused("amqp://h:5x"), "expected a port in 1..65535");
  CAF_CHECK_EQUAL(refused("amqp://h:"), "expected a port in 1..65535");
  CAF_CHECK_EQUAL(refused("amqp://h/%zz"), "bad percent escape in the vhost");
  CAF_CHECK_EQUAL(refused("amqp://h/%2"), "bad percent escape in the vhost");
  CAF_CHECK(refused("amqp://h/?heartbeat=5").find("query")
            != std::string::npos);
  CAF_CHECK_EQUAL(refused("amqp://[::1/"), "bad IPv6 address");
  CAF_CHECK_EQUAL(refused("amqp://h/v%00x"),
                  "a part decodes to a NUL or to bytes that are not UTF-8");
  CAF_CHECK_EQUAL(refused("amqp://u%FF@h/"),
                  "a part decodes to a NUL or to bytes that are not UTF-8");
  CAF_CHECK_EQUAL(parsed("amqp://h/v%C3%A9").vhost, "v\xC3\xA9");
  auto e = refused("amqp://u:s3cr%zzet@h");
  CAF_CHECK_EQUAL(e, "bad percent escape in the password");
  CAF_CHECK(e.find("s3cr") == std::string::npos);
}

CAF_TEST(a url written back reads the same) {
  for (auto text : {"amqp://", "amqp://h/", "amqps://u%40x:p%2Fw@[::1]:1/%2f",
                    "amqp://a:b@h:9/v%20h"}) {
    auto x = parsed(text);
    auto y = parsed(to_url(x));
    CAF_CHECK_EQUAL(y.tls, x.tls);
    CAF_CHECK_EQUAL(y.user, x.user);
    CAF_CHECK_EQUAL(y.password, x.password);
    CAF_CHECK_EQUAL(y.host, x.host);
    CAF_CHECK_EQUAL(y.port, x.port);
    CAF_CHECK_EQUAL(y.vhost, x.vhost);
  }
}
