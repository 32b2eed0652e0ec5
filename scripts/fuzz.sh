#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded time each, one at a
# time, because go test fuzzes one target per run. A failing input is saved
# by go test under the package's testdata/fuzz/FuzzName/, where it becomes
# part of the seed corpus that plain `go test` runs: commit it as the
# regression test once the bug is fixed.
#
# Usage: scripts/fuzz.sh            (FUZZ_TIME=20s per target by default)
#        FUZZ_TIME=2m scripts/fuzz.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

fuzz_time="${FUZZ_TIME:-20s}"
failed=()
count=0

# Each line is "path/to/file_test.go:func FuzzName(".
while IFS= read -r match; do
  file="${match%%:*}"
  name="${match#*func }"
  name="${name%%(*}"
  package="./$(dirname "$file")"
  count=$((count + 1))

  echo "== $name in $package for $fuzz_time"
  if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzz_time" "$package"; then
    failed+=("$name in $package")
  fi
done < <(grep -rE --include='*_test.go' --exclude-dir='.bin' --exclude-dir='testdata' -o '^func Fuzz[A-Za-z0-9_]*\(' . | sed 's|^\./||' | sort)

if [ "$count" -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing found failures in ${#failed[@]} of $count targets:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  echo "the failing inputs are under each package's testdata/fuzz/" >&2
  exit 1
fi
echo "fuzzed $count targets for $fuzz_time each, no failures"
