#!/usr/bin/env bash
# Builds the project with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer into ./build-asan, then runs the unit, sim, cli
# and http tests there, and each libFuzzer target of fuzz/ for
# FUZZ_SECONDS (default 60) on its seed corpus. The first report stops its
# test, and the test fails. Arguments are passed to ctest, e.g.
# `deploy/sanitize.sh -R http.errors`.
#
# Reports that are truly inside library headers we do not write (CAF's,
# RapidJSON's) are suppressed in deploy/sanitizers/, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
build="build-asan"
# Debug with -O1: line numbers that hold, at a speed the tests' timeouts
# allow. Clang, because gcc takes three times as long to compile our
# sources with UndefinedBehaviorSanitizer. Only what the tests below run.
#
# Hidden visibility, because Debian's CAF is built with gcc: a static that
# both gcc and clang instantiate from CAF's headers (the meta data of a
# config option) is initialized at compile time by gcc and at first use by
# clang, and the program's copy, still empty, would replace the library's.
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DCMAKE_CXX_VISIBILITY_PRESET=hidden \
  -DBOOKING_SANITIZE=address,undefined -DBOOKING_FUZZ=ON \
  -DBOOKING_FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
cmake --build "$build" -j "${JOBS:-2}" --target unit_tests http_tests \
  sim_tests booking-server booking-sim http_request_fuzz codec_fuzz \
  options_fuzz amqp_url_fuzz
supp="$PWD/deploy/sanitizers"
# The symbolizer names the functions in reports, and suppressions by
# function name need it (llvm-14 ships it under this path only).
symbolizer="external_symbolizer_path=/usr/lib/llvm-14/bin/llvm-symbolizer"
export ASAN_OPTIONS="$symbolizer:detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export LSAN_OPTIONS="$symbolizer:suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="$symbolizer:halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp:print_suppressions=0"
ctest --test-dir "$build" --output-on-failure -L 'unit|sim|cli|http|fuzz' "$@"
