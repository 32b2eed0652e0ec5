#!/usr/bin/env bash
# Builds every listener plugin under plugins/ into bin/NAME at the
# repository root, where NAME is the plugin's folder, and the host into
# bin/vega-host when cmd/vega-host exists.
#
# Usage: scripts/build-plugins.sh
#
# A folder under plugins/ without Go files is skipped with a note. A folder
# whose package is not main fails the build, because the host can only
# start a program.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v go >/dev/null; then
  echo "build-plugins.sh: go not found in PATH" >&2
  exit 1
fi

mkdir -p bin
built=()

for dir in plugins/*/; do
  [[ -d "$dir" ]] || continue
  name="$(basename "$dir")"

  if ! compgen -G "plugins/$name/*.go" >/dev/null; then
    echo "skipping plugins/$name: no Go files"
    continue
  fi

  package="$(go list -f '{{.Name}}' "./plugins/$name")"
  if [[ "$package" != "main" ]]; then
    echo "build-plugins.sh: plugins/$name is package $package; a plugin must be package main with a main function that calls pluginapi.Serve" >&2
    exit 1
  fi

  go build -o "bin/$name" "./plugins/$name"
  echo "built bin/$name"
  built+=("bin/$name")
done

if [[ -d cmd/vega-host ]]; then
  go build -o bin/vega-host ./cmd/vega-host
  echo "built bin/vega-host"
  built+=("bin/vega-host")
fi

if ((${#built[@]} == 0)); then
  echo "build-plugins.sh: nothing to build: no Go folders under plugins/ and no cmd/vega-host" >&2
  exit 1
fi
echo "${#built[@]} binaries in $root/bin"
