#!/usr/bin/env bash
# Runs the chaos suite on 10,000 messages. The suite runs the real
# vega-host binary on the embedded SQLite queue and kills its plugin with
# SIGKILL every 500 ms. It kills the host with SIGKILL three times
# and restarts it, then lets the queue drain and stops the host with
# SIGTERM. It prints one summary line and exits with status 1 when a
# message was lost or another check failed. Extra arguments go to the
# suite, which lists them with -h. With -v it prints each step.
#
# Usage: scripts/chaos.sh [-v] [flags]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

exec go run ./testing/chaos -messages 10000 "$@"
