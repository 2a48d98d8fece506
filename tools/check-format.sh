#!/usr/bin/env bash
# Fails if a C++ source of the project is not formatted with .clang-format.
# With --fix, formats them in place instead.
set -u
cd "$(dirname "$0")/.." || exit 2
mode=(--dry-run -Werror)
[ "${1:-}" = "--fix" ] && mode=(-i)
files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find actors bench config tests -name '*.[ch]pp')
[ -n "$files" ] || { echo "no sources found"; exit 2; }
# shellcheck disable=SC2086
clang-format "${mode[@]}" $files
rc=$?
[ "$rc" = 0 ] && echo "format: $(echo "$files" | wc -l) files ok"
exit $rc
