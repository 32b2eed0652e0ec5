# Shared parts of the scripts that run a local service in the background
# with a pid file (scripts/mailpit.sh, scripts/moto.sh). The sourcing
# script defines fail, pid_file, stop_timeout_seconds and
# is_service_process, which succeeds when process $1 is the service.

# check_port fails unless $2, named $1 in the message, is a TCP port.
check_port() {
  local name="$1" value="$2"
  if [[ ! "$value" =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
    fail "invalid $name \"$value\": expected a TCP port from 1 to 65535"
  fi
}

# port_in_use succeeds when something accepts TCP connections on
# 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# running_pid prints the pid from the pid file when that process is alive
# and is the service. It removes a pid file that names no such process.
running_pid() {
  if [[ ! -f "$pid_file" ]]; then
    return 0
  fi

  local pid
  pid="$(<"$pid_file")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && is_service_process "$pid"; then
    echo "$pid"
    return 0
  fi

  rm -f "$pid_file"
}

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
