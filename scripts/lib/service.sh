# Shared parts of the scripts that run a local service in the background
# with a pid file (scripts/mailpit.sh, scripts/moto.sh). The sourcing
# script defines pid_file, stop_timeout_seconds and running_pid, which
# prints the service's pid when it runs.

# process_args prints the command line of process $1, one space between
# arguments.
process_args() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# stop_service stops the service named $1: SIGTERM, then SIGKILL when it
# has not exited after stop_timeout_seconds.
stop_service() {
  local name="$1" pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    echo "$name is not running (no live process in $pid_file)"
    return 0
  fi

  kill "$pid"
  local deadline=$((SECONDS + stop_timeout_seconds))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "$name pid $pid did not exit within ${stop_timeout_seconds}s of SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done

  rm -f "$pid_file"
  echo "$name stopped (pid $pid)"
}

# print_status prints whether the service named $1 runs, and exits 3 when
# it does not.
print_status() {
  local name="$1" pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    echo "$name is not running"
    exit 3
  fi

  echo "$name is running with pid $pid: $(process_args "$pid")"
}
