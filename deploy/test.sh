#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest.
# Arguments are passed to ctest, e.g. `deploy/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh --tests
bash deploy/build.sh
ctest --test-dir build --output-on-failure "$@"
