#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs booking-server with
# the default config (config/booking.ini) until Ctrl-C. Arguments are passed
# to booking-server, e.g. `deploy/start.sh --demo 200`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
exec ./build/config/booking-server "$@"
