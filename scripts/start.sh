#!/usr/bin/env bash
# Builds the host and every plugin, starts the local SMTP sink and runs the
# listeners of listeners.hcl on the embedded queue until Ctrl-C.
#
# Usage: scripts/start.sh [-config FILE]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

config="listeners.hcl"
if [[ ${1:-} == "-config" && -n ${2:-} ]]; then
  config="$2"
fi

scripts/build-plugins.sh
scripts/mailpit.sh start

echo
echo "Send a message from another terminal (the example email listener reads queue \"emails\"):"
echo "  bin/vega-host send -config $config -queue emails '{\"to\": \"you@example.com\", \"subject\": \"Hello\", \"text\": \"It works\"}'"
echo "Read what arrived:"
echo "  curl -s http://127.0.0.1:${MAILPIT_HTTP_PORT:-8025}/api/v1/messages"
echo

# The SMTP sink keeps running after the host stops, so the mail stays
# readable; scripts/mailpit.sh stop ends it.
exec bin/vega-host run -config "$config"
