#!/usr/bin/env bash
# Installs, starts, stops and checks a local mailpit: an SMTP server that
# stores every mail it receives and serves them through an HTTP API. The
# email listener sends to it in local runs.
#
# Usage: scripts/mailpit.sh install|start|stop|status
#
#   install  go install mailpit into .bin/ at the repository root, unless
#            the pinned version is already there
#   start    install if needed, then start mailpit in the background on
#            127.0.0.1 and wait until its HTTP API responds; does nothing
#            when it is already running
#   stop     stop the mailpit that start started
#   status   print whether it runs; exits 3 when it does not
#
# Environment:
#   MAILPIT_SMTP_PORT  SMTP port on 127.0.0.1 (default 1025)
#   MAILPIT_HTTP_PORT  HTTP API port on 127.0.0.1 (default 8025)
#
# The pid is kept in .run/mailpit.pid and the output in .run/mailpit.log.
set -euo pipefail

readonly mailpit_module=github.com/axllent/mailpit
readonly mailpit_version=v1.33.1

# Seconds that start waits for the HTTP API and that stop waits for the
# process to exit before it sends SIGKILL.
readonly start_timeout_seconds=20
readonly stop_timeout_seconds=10

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly root
# shellcheck source=lib/service.sh
source "$root/scripts/lib/service.sh"
readonly bin_dir="$root/.bin"
readonly binary="$bin_dir/mailpit"
readonly run_dir="$root/.run"
readonly pid_file="$run_dir/mailpit.pid"
readonly log_file="$run_dir/mailpit.log"

smtp_port="${MAILPIT_SMTP_PORT:-1025}"
http_port="${MAILPIT_HTTP_PORT:-8025}"

fail() {
  echo "mailpit.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: scripts/mailpit.sh install|start|stop|status" >&2
  exit 2
}

# installed_version prints the module version recorded in the binary, or
# nothing when the binary is missing or was not built by go install.
installed_version() {
  if [[ ! -x "$binary" ]]; then
    return 0
  fi
  go version -m "$binary" 2>/dev/null | awk '$1 == "mod" && $2 == "'"$mailpit_module"'" { print $3 }'
}

cmd_install() {
  local current
  current="$(installed_version)"
  if [[ "$current" == "$mailpit_version" ]]; then
    echo "mailpit $mailpit_version is already installed at $binary"
    return 0
  fi

  if ! command -v go >/dev/null; then
    fail "go not found in PATH; mailpit is installed with go install"
  fi
  if [[ -n "$current" ]]; then
    echo "replacing mailpit $current at $binary with $mailpit_version"
  fi

  echo "installing $mailpit_module@$mailpit_version into $bin_dir (about a minute on a cold module cache)"
  mkdir -p "$bin_dir"
  if ! GOBIN="$bin_dir" go install "$mailpit_module@$mailpit_version"; then
    fail "go install $mailpit_module@$mailpit_version failed; see the go output above"
  fi
  echo "installed $binary"
}

# is_service_process succeeds when process $1 is mailpit.
is_service_process() {
  [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "mailpit" ]]
}

api_responds() {
  curl --silent --fail --max-time 2 --output /dev/null "http://127.0.0.1:$1/api/v1/messages"
}

show_log_tail() {
  if [[ -s "$log_file" ]]; then
    echo "last lines of $log_file:" >&2
    tail -n 20 "$log_file" | sed 's/^/  /' >&2
  fi
}

cmd_start() {
  check_port MAILPIT_SMTP_PORT "$smtp_port"
  check_port MAILPIT_HTTP_PORT "$http_port"
  if ! command -v curl >/dev/null; then
    fail "curl not found in PATH; start uses it to wait for the HTTP API (Debian: apt-get install curl)"
  fi

  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    echo "mailpit is already running with pid $pid: $(process_args "$pid")"
    echo "run scripts/mailpit.sh stop first to start it with other ports"
    return 0
  fi

  if [[ "$(installed_version)" != "$mailpit_version" ]]; then
    cmd_install
  fi

  if port_in_use "$smtp_port"; then
    fail "SMTP port 127.0.0.1:$smtp_port is already in use; stop that process or set MAILPIT_SMTP_PORT"
  fi
  if port_in_use "$http_port"; then
    fail "HTTP port 127.0.0.1:$http_port is already in use; stop that process or set MAILPIT_HTTP_PORT"
  fi

  # Mailpit reads settings from MP_ variables, which would override the
  # flags below; MP_SMTP_RELAY_HOST, for one, would relay mails elsewhere.
  local variable
  for variable in $(compgen -e -X '!MP_*'); do
    unset "$variable"
  done

  mkdir -p "$run_dir"
  # setsid puts mailpit in a session of its own, so the Ctrl-C that stops
  # a host started next to it (scripts/start.sh) does not stop mailpit.
  setsid nohup "$binary" \
    --smtp "127.0.0.1:$smtp_port" \
    --listen "127.0.0.1:$http_port" \
    --disable-version-check \
    --smtp-disable-rdns \
    --max 0 \
    </dev/null >"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"

  local deadline=$((SECONDS + start_timeout_seconds))
  until api_responds "$http_port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      echo "mailpit.sh: mailpit exited during startup" >&2
      show_log_tail
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      echo "mailpit.sh: mailpit's HTTP API on 127.0.0.1:$http_port did not respond within ${start_timeout_seconds}s; stopped pid $pid" >&2
      show_log_tail
      exit 1
    fi
    sleep 0.2
  done

  echo "mailpit started with pid $pid: SMTP 127.0.0.1:$smtp_port, HTTP API http://127.0.0.1:$http_port/api/v1/messages"
  echo "log: $log_file"
}

cmd_stop() {
  stop_service mailpit
}

cmd_status() {
  print_status mailpit
}

if (($# != 1)); then
  usage
fi

case "$1" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) usage ;;
esac
