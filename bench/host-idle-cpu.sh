#!/usr/bin/env bash
# Measures the CPU time that a running vega-host process uses while its
# listeners wait on empty queues, from /proc/PID/stat (utime + stime).
#
# Usage: bench/host-idle-cpu.sh VEGA_HOST_BINARY CONFIG [SECONDS]
#
# The script starts `VEGA_HOST_BINARY run -config CONFIG`, waits 3 seconds
# for the listeners to start, samples the host's CPU time over SECONDS
# (default 10) and prints it as a percentage of one core. Only the host
# process counts, not its plugin processes. Send nothing to the queues
# while it runs.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 VEGA_HOST_BINARY CONFIG [SECONDS]: missing arguments" >&2
  exit 2
fi

binary="$1"
config="$2"
seconds="${3:-10}"
ticks_per_second="$(getconf CLK_TCK)"

"$binary" run -config "$config" >/dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT

sleep 3
if ! kill -0 "$pid" 2>/dev/null; then
  echo "$0: vega-host exited during startup; run it by hand to see why" >&2
  exit 1
fi

# Fields 14 and 15 of /proc/PID/stat are utime and stime in clock ticks.
# The command name in field 2 contains no spaces for vega-host.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$pid/stat"
}

before="$(cpu_ticks)"
sleep "$seconds"
after="$(cpu_ticks)"

awk -v ticks="$((after - before))" -v hz="$ticks_per_second" -v s="$seconds" \
  'BEGIN { printf "host CPU while idle: %.2f%% of one core (%d ticks of 1/%d s in %d s)\n", 100 * ticks / hz / s, ticks, hz, s }'
