#!/usr/bin/env bash
# Installs the project's packages (see install-deps.sh) and builds it into
# ./build. Used by start.sh and test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
cmake --build build -j "${JOBS:-2}"
