// The operations console (`GET /ui`): plain HTML, CSS and JavaScript from
// `http/ui/`, compiled into the server by `http/ui/embed.cmake`. The page
// reads the JSON API and `/metrics` like any other client.

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/api.hpp"

namespace booking {

/// One file of the console.
struct console_file {
  std::string_view name;
  std::string_view media_type;
  std::string_view body;
};

/// Every file of the console, as built into this binary.
const std::vector<console_file>& console_files();

/// GET /ui (`name` empty: the page) and /ui/{name}: the file, or 404.
void serve_console(api_handler& api, const exchange_ptr& ex,
                   const std::string& name);

} // namespace booking
