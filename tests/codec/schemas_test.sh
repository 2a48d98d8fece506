#!/usr/bin/env bash
# Encodes one message of every type with the engine's codec and checks
# their `data` against deploy/schemas/ (python3-jsonschema, Draft 2020-12).
# Usage: schemas_test.sh SCHEMA_SAMPLES_BINARY
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$(mktemp -d "${TMPDIR:-/tmp}/schemas.XXXXXX")"
trap 'rm -rf "$dir"' EXIT
"$1" "$dir"
python3 "$root/tests/codec/check_schemas.py" "$root/deploy/schemas" "$dir"
