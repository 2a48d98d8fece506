#!/usr/bin/env bash
# Builds the project with ThreadSanitizer into ./build-tsan and runs the
# tests that use real threads there: integration.stress, config.wiring (a
# real actor system) and the http suites; WITH_BROKER=1 adds the amqp.*
# suites, each in its own throwaway RabbitMQ node. The first report stops
# its test, and the test fails. Arguments are passed to ctest, e.g.
# `deploy/tsan.sh -R integration.stress`.
#
# Debian's libcaf_core is not instrumented, and ThreadSanitizer cannot see
# the synchronization inside it: every message between actors would be a
# report. So CAF 0.17.6 is built here with ThreadSanitizer first, from the
# upstream tarball of Debian's source package actor-framework (the .orig,
# checked against the signed package index), into build-tsan/caf; that
# build is kept and skipped on later runs. CAF's source stays out of the
# repository.
#
# Reports that are truly inside code we do not write are suppressed in
# deploy/sanitizers/tsan.supp, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
build="build-tsan"
caf_upstream="0.17.6"
caf_cache="$PWD/$build/caf-src"
caf_src="$caf_cache/actor-framework-$caf_upstream"
caf_build="$PWD/$build/caf-build"
caf="$PWD/$build/caf"

deb_src_file=/etc/apt/sources.list.d/booking-deb-src.sources
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

# -- CAF's source --------------------------------------------------------------

# A deb-src entry for the machine's own Debian mirror: the URIs, suites,
# components and key of its deb822 entry for this release, read at run
# time; Debian's defaults when there is no such entry (a one-line
# sources.list, say).
deb_src_entry() {
  local codename entry f
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    [ "$f" = "$deb_src_file" ] && continue
    entry=$(awk -v codename="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; suites = ""; comps = ""; keep = ""; field = ""; off = 0
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^#/) continue
          if (line ~ /^[ \t]/) {
            # A continuation line (an inline key, say) of the last field.
            if (field != "") keep = keep "\n" line
            continue
          }
          field = ""
          name = tolower(substr(line, 1, index(line, ":") - 1))
          value = substr(line, index(line, ":") + 1)
          gsub(/^[ \t]+|[ \t]+$/, "", value)
          if (name == "types") types = " " value " "
          if (name == "suites") suites = " " value " "
          if (name == "components") comps = " " value " "
          if (name == "enabled" && tolower(value) == "no") off = 1
          if (name == "uris" || name == "suites" || name == "components" ||
              name == "signed-by") {
            field = name
            keep = keep (keep == "" ? "" : "\n") line
          }
        }
        if (!off && types ~ / deb / && suites ~ (" " codename " ") &&
            comps ~ / main /) {
          print "Types: deb-src"
          print keep
          exit
        }
      }' "$f")
    if [ -n "$entry" ]; then
      printf '%s\n' "$entry"
      return
    fi
  done
  printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" \
    "Suites: $codename $codename-updates" "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
}

# The source version of the CAF that Debian installed; its upstream part
# must be the one the project is written for.
caf_version=$(dpkg-query -W -f='${source:Version}' libcaf-dev)
if [ "${caf_version%-*}" != "$caf_upstream" ]; then
  echo "tsan: Debian's CAF is $caf_version, not $caf_upstream" >&2
  exit 1
fi

sources=$(apt-cache showsrc actor-framework 2>/dev/null || true)
if ! grep -qx "Version: $caf_version" <<<"$sources"; then
  entry=$(deb_src_entry)
  if ! printf '%s\n' "$entry" | cmp -s - "$deb_src_file"; then
    echo "tsan: adding $deb_src_file"
    printf '%s\n' "$entry" | $SUDO tee "$deb_src_file" >/dev/null
  fi
  $SUDO apt-get update
fi

# Only the .orig tarball is used. Debian's patches add an include to
# libcaf_io, fix an overflow of stream slot ids and build with C++14: the
# project uses neither the I/O module nor streams, and C++14 is set below.
# apt fetches the .dsc and the .debian tarball too and fails if a mirror
# lacks one of them, so its status is not what counts: the .orig must be
# there with the hash that the signed package index gives for it.
if [ ! -f "$caf_src/CMakeLists.txt" ]; then
  mkdir -p "$caf_cache"
  dl=$(mktemp -d "$caf_cache/download.XXXXXX")
  trap 'rm -rf "$dl"' EXIT
  (cd "$dl" && apt-get source --print-uris "actor-framework=$caf_version") \
    >"$dl/uris"
  orig=$(awk -v up="actor-framework_$caf_upstream.orig.tar." \
    'index($2, up) == 1 { print $2, $4 }' "$dl/uris")
  if [ -z "$orig" ]; then
    echo "tsan: no .orig tarball for actor-framework $caf_version" >&2
    exit 1
  fi
  read -r orig_name orig_hash <<<"$orig"
  case $orig_hash in
    SHA256:*) sum=sha256sum ;;
    SHA512:*) sum=sha512sum ;;
    *)
      echo "tsan: no SHA-2 hash for $orig_name ($orig_hash)" >&2
      exit 1
      ;;
  esac
  (cd "$dl" && apt-get source --download-only \
    "actor-framework=$caf_version") || true
  echo "${orig_hash#*:}  $dl/$orig_name" | "$sum" --check --quiet
  rm -rf "$caf_src"
  mkdir -p "$caf_src"
  tar -xf "$dl/$orig_name" -C "$caf_src" --strip-components=1
  rm -rf "$dl"
  trap - EXIT
fi

# -- CAF with ThreadSanitizer --------------------------------------------------

# libcaf_core only, shared, as Debian's: the I/O module, the OpenSSL
# module, tools, examples, unit tests, OpenCL and Python are off. The
# installed headers are the same as Debian's (caf/test/ included), and so
# is caf/detail/build_config.hpp (log level QUIET, memory management and
# exceptions on, runtime checks off), which are CAF's defaults.
#
# C++14, as Debian builds it (CAF's own default would be C++11). Clang 14,
# the compiler of our sources, with -g -O1 as ours: a static that CAF's
# headers define is then compiled the same way on both sides. libc++ stays
# off (CAF would pick it for clang when it is installed): the project uses
# libstdc++. No compiler check, because it runs a program built with the
# flags, and that is not what we test.
caf_flags="-std=c++14 -fsanitize=thread -fno-omit-frame-pointer"
caf_stamp="clang++-14 $caf_flags -g -O1 $caf_version"
if [ ! -f "$caf/lib/libcaf_core.so.$caf_upstream" ] ||
  [ ! -f "$caf/include/caf/all.hpp" ] ||
  [ "$(cat "$caf/build-stamp" 2>/dev/null)" != "$caf_stamp" ]; then
  rm -rf "$caf_build" "$caf"
  cmake -S "$caf_src" -B "$caf_build" -Wno-dev -Wno-deprecated \
    -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
    -DCMAKE_CXX_FLAGS="$caf_flags" \
    -DCMAKE_INSTALL_PREFIX="$caf" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_INSTALL_INCLUDEDIR=include \
    -DCAF_NO_IO=ON -DCAF_NO_OPENSSL=ON -DCAF_NO_OPENCL=ON \
    -DCAF_NO_PYTHON=ON -DCAF_NO_TOOLS=ON -DCAF_NO_EXAMPLES=ON \
    -DCAF_NO_UNIT_TESTS=ON -DCAF_NO_AUTO_LIBCPP=ON \
    -DCAF_NO_COMPILER_CHECK=ON -DCAF_NO_SUMMARY=ON
  cmake --build "$caf_build" -j "${JOBS:-2}" --target libcaf_core_shared
  cmake --install "$caf_build"
  echo "$caf_stamp" >"$caf/build-stamp"
fi

# -- The project with ThreadSanitizer ------------------------------------------

# CAF from build-tsan/caf, named outright so that no cached or system path
# wins. CMake links the library by its full path and so puts its directory
# in the binaries' run path: they load this CAF, not Debian's (checked
# below). The same flags as deploy/sanitize.sh, without hidden visibility:
# it is there because Debian's CAF is built with gcc, and this one is built
# with clang like our sources.
tests=(unit_tests integration_tests http_tests)
select='integration\.stress|config\.wiring|http\..+'
if [ "${WITH_BROKER:-0}" = 1 ]; then
  tests+=(bridges_it)
  select="$select|amqp\.(events|intake|resilience|quorum|login)"
fi
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DBOOKING_SANITIZE=thread \
  -DCAF_INCLUDE_DIR="$caf/include" \
  -DCAF_CORE_LIBRARY="$caf/lib/libcaf_core.so"
cmake --build "$build" -j "${JOBS:-2}" --target "${tests[@]}"
for t in "${tests[@]}"; do
  loaded=$(ldd "$build/tests/$t" |
    awk '$1 ~ /^libcaf_core\./ && $3 ~ /^\// { print $3 }')
  if [ "$(readlink -f "${loaded:-none}")" != \
    "$(readlink -f "$caf/lib/libcaf_core.so")" ]; then
    echo "tsan: $t loads CAF from ${loaded:-nowhere}, not from $caf/lib" >&2
    exit 1
  fi
done

supp="$PWD/deploy/sanitizers"
# The symbolizer names the functions in reports, and suppressions by
# function name need it (llvm-14 ships it under this path only).
# history_size: more of each thread's past accesses kept, so that a report
# shows both stacks. second_deadlock_stack: both stacks of a lock-order
# inversion.
symbolizer="external_symbolizer_path=/usr/lib/llvm-14/bin/llvm-symbolizer"
export TSAN_OPTIONS="$symbolizer:halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$supp/tsan.supp:print_suppressions=0"
# ThreadSanitizer of LLVM 14 puts its shadow memory at fixed addresses and
# stops at start ("unexpected memory mapping") when the kernel randomizes
# more than 28 bits of mmap addresses (vm.mmap_rnd_bits, readable by root
# only). So the tests run without address randomization wherever the
# machine lets a process turn it off.
run=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  run=(setarch "$(uname -m)" -R)
fi
"${run[@]}" ctest --test-dir "$build" --output-on-failure \
  -R "^($select)\$" "$@"
