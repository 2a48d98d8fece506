#!/usr/bin/env bash
# Installs every Debian package the project needs to build, run, test and
# benchmark. Idempotent: packages already present are skipped, and the package
# index is refreshed at most once per run.
#
# `--tests` adds what only the tests need: a headless browser and its driver
# for the console's tests (the server itself needs none of them).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git clang-format
  clang-14 libclang-rt-14-dev llvm-14
  libcaf-dev
  libboost1.81-dev
  rapidjson-dev
  libjemalloc-dev
  librabbitmq-dev libssl-dev openssl
  libsqlite3-dev sqlite3
  rabbitmq-server
  wrk curl procps python3 python3-jsonschema
)
if [ "${1:-}" = "--tests" ]; then
  packages+=(chromium chromium-driver python3-selenium)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update
# RabbitMQ's package starts a system node on install; policy-rc.d keeps that
# from happening, since tests and the quick start run their own nodes.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
