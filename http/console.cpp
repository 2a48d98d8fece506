#include "http/console.hpp"

#include <boost/beast/http/field.hpp>

namespace booking {

namespace http = boost::beast::http;

void serve_console(api_handler& api, const exchange_ptr& ex,
                   const std::string& name) {
  auto wanted = name.empty() ? std::string_view{"index.html"}
                             : std::string_view{name};
  for (auto& f : console_files()) {
    if (f.name != wanted)
      continue;
    http_response res{http::status::ok, ex->version};
    res.set(http::field::content_type, f.media_type);
    // Always checked again, so an upgraded server's page is the one used.
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'");
    res.body() = std::string{f.body};
    return api.finish(ex, std::move(res));
  }
  api.reply(ex, make_problem(404, "not-found", "No such file."));
}

} // namespace booking
