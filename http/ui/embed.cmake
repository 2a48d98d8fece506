# Writes OUT, a C++ file that holds the console's files (FILES, a list of
# paths) as string literals, so that the server serves them from its own
# binary: nothing to install beside it, nothing fetched from elsewhere.
#
#   cmake -DOUT=ui_assets.cpp -DFILES="a.html;b.js" -P embed.cmake
set(content "// Generated at build time from http/ui/ by embed.cmake.\n")
string(APPEND content "#include \"http/console.hpp\"\n\nnamespace booking {\n\n")
string(APPEND content "const std::vector<console_file>& console_files() {\n")
string(APPEND content "  static const std::vector<console_file> files{\n")
foreach(path IN LISTS FILES)
  get_filename_component(name "${path}" NAME)
  get_filename_component(ext "${path}" LAST_EXT)
  if(ext STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  else()
    message(FATAL_ERROR "${path}: no media type for ${ext}")
  endif()
  file(READ "${path}" text)
  string(FIND "${text}" ")console_file\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${path} holds the literal's delimiter")
  endif()
  string(APPEND content "    {\"${name}\", \"${type}\",\n     R\"console_file(${text})console_file\"},\n")
endforeach()
string(APPEND content "  };\n  return files;\n}\n\n} // namespace booking\n")
file(WRITE "${OUT}.tmp" "${content}")
# Rewritten only when it changed, so an unchanged console compiles nothing.
configure_file("${OUT}.tmp" "${OUT}" COPYONLY)
