#!/usr/bin/env bash
# Runs one fuzz target for a while: run.sh BINARY SECONDS SEED_CORPUS.
# New inputs go to a scratch corpus (the seeds in the repository stay as
# they are), which is removed afterwards; a crash fails the run and its
# input is printed in base64 first.
set -euo pipefail
binary="$1"
seconds="$2"
seeds="$3"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$scratch/crashes"
status=0
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=70000 -print_final_stats=1 \
  -artifact_prefix="$scratch/crashes/" "$scratch/corpus" "$seeds" || status=$?
if [[ $status -ne 0 ]]; then
  for f in "$scratch"/crashes/*; do
    [[ -e "$f" ]] || continue
    echo "crashing input (base64) $(basename "$f"):"
    base64 -w0 "$f"
    echo
  done
fi
exit $status
