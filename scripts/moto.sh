#!/usr/bin/env bash
# Starts, stops and checks a local moto_server: a server that speaks the
# Amazon SQS API, for local runs of the sqs driver. It listens on 127.0.0.1
# only. moto_server comes with the Python package moto; this script does
# not install it.
#
# Usage: scripts/moto.sh start|stop|status
#
#   start    start moto_server in the background and wait until it
#            responds; does nothing when it is already running
#   stop     stop the moto_server that start started
#   status   print whether it runs; exits 3 when it does not
#
# Environment:
#   MOTO_PORT  port on 127.0.0.1 (default 5000)
#
# The pid is kept in .run/moto.pid and the output in .run/moto.log. A driver
# block for it:
#
#   driver "sqs" {
#     region            = "us-east-1"
#     endpoint_url      = "http://127.0.0.1:5000"
#     access_key_id     = "test"
#     secret_access_key = "test"
#   }
set -euo pipefail

# Seconds that start waits for the server to respond and that stop waits
# for the process to exit before it sends SIGKILL.
readonly start_timeout_seconds=20
readonly stop_timeout_seconds=10

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
# shellcheck source=lib/service.sh
source "$root/scripts/lib/service.sh"
readonly run_dir="$root/.run"
readonly pid_file="$run_dir/moto.pid"
readonly log_file="$run_dir/moto.log"

port="${MOTO_PORT:-5000}"

fail() {
  echo "moto.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: scripts/moto.sh start|stop|status" >&2
  exit 2
}

require_moto() {
  if ! command -v moto_server >/dev/null; then
    fail "moto_server not found in PATH; it comes with the Python package moto (pip install 'moto[server]'), which this script does not install"
  fi
}

# is_service_process succeeds when process $1 runs moto_server. moto_server
# is a Python script, so the process name is python's and the check reads
# the command line instead.
is_service_process() {
  [[ "$(process_args "$1")" == *moto_server* ]]
}

# server_responds succeeds when moto's own API responds on port $1.
server_responds() {
  curl --silent --fail --max-time 2 --output /dev/null "http://127.0.0.1:$1/moto-api/"
}

show_log_tail() {
  if [[ -s "$log_file" ]]; then
    echo "last lines of $log_file:" >&2
    tail -n 20 "$log_file" | sed 's/^/  /' >&2
  fi
}

cmd_start() {
  check_port MOTO_PORT "$port"
  require_moto
  if ! command -v curl >/dev/null; then
    fail "curl not found in PATH; start uses it to wait for the server (Debian: apt-get install curl)"
  fi

  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    echo "moto_server is already running with pid $pid: $(process_args "$pid")"
    echo "run scripts/moto.sh stop first to start it on another port"
    return 0
  fi

  if port_in_use "$port"; then
    fail "port 127.0.0.1:$port is already in use; stop that process or set MOTO_PORT"
  fi

  mkdir -p "$run_dir"
  # moto_server may be a shim (pyenv) that execs Python, so $! stays the
  # server's pid.
  # setsid keeps a terminal's Ctrl-C, meant for a host, away from it.
  setsid nohup moto_server -H 127.0.0.1 -p "$port" </dev/null >"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"

  local deadline=$((SECONDS + start_timeout_seconds))
  until server_responds "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      echo "moto.sh: moto_server exited during startup" >&2
      show_log_tail
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      echo "moto.sh: moto_server on 127.0.0.1:$port did not respond within ${start_timeout_seconds}s; stopped pid $pid" >&2
      show_log_tail
      exit 1
    fi
    sleep 0.2
  done

  echo "moto_server started with pid $pid: endpoint_url http://127.0.0.1:$port"
  echo "log: $log_file"
}

cmd_stop() {
  stop_service moto_server
}

cmd_status() {
  print_status moto_server
}

if (($# != 1)); then
  usage
fi

case "$1" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) usage ;;
esac
