#!/usr/bin/env bash
# Runs the whole test suite with the race detector. Tests start their own
# SMTP sink (installed into .bin/ on first use) and build the plugins they
# run, so nothing needs to be running beforehand.
#
# Usage: scripts/test.sh [go test flags]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/mailpit.sh install
go vet ./...
go test -race -count=1 -timeout 20m "$@" ./...
