#!/usr/bin/env bash
# The serverless flow on this machine: the stack's buckets, queues and table (read from
# infra/template.yaml) on moto_server or LocalStack, the three functions under `cargo lambda watch`,
# and dit-local-bridge polling the queues like Lambda's event source mappings. No Docker needed.
#
#   scripts/local-cloud.sh up [--organisations FILE] [--no-reload] [--max-batching-window SECONDS]
#   scripts/local-cloud.sh drop [--storage-class CLASS] FILE...   (uploaded in business order)
#   scripts/local-cloud.sh send FILE...          (.json: one message, .jsonl: one per line)
#   scripts/local-cloud.sh tick --date YYYY-MM-DD  (every daily job, with Scheduler's payload)
#   scripts/local-cloud.sh wait [--timeout SECONDS]  (until the queues are drained)
#   scripts/local-cloud.sh status [--verbose]    (processes, what ran, queue depths, objects)
#   scripts/local-cloud.sh pull inbound|outbound DIR   (download a bucket)
#   scripts/local-cloud.sh depth QUEUE           (messages on a queue, e.g. InboundDeadLetterQueue)
#   scripts/local-cloud.sh retention             (lifecycle rules, queue retention, table TTL)
#   scripts/local-cloud.sh logs                  (the log files)
#   scripts/local-cloud.sh down                  (stops everything `up` started, by PID)
#
# Environment: AWS_ENDPOINT_URL (use that emulator, e.g. LocalStack on http://localhost:4566,
# instead of starting moto_server), DIT_LOCAL_CLOUD_DIR (state, logs and PID files; default
# .local-cloud), DIT_VENV (a virtualenv that already holds moto, boto3, PyYAML and cargo-lambda,
# used as it is: scripts/test.sh passes its own so nothing is installed twice; unset, `up` makes
# .venv and installs scripts/local-cloud-requirements.txt into it, once per change of that list),
# MOTO_SERVER, CARGO_TARGET_DIR.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

state="${DIT_LOCAL_CLOUD_DIR:-$root/.local-cloud}"
venv="${DIT_VENV:-$root/.venv}"
requirements="$root/scripts/local-cloud-requirements.txt"
say() { printf 'local-cloud: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# The virtualenv `up` needs, on a fresh clone too: made and filled from the pinned list unless
# DIT_VENV names one already filled. A copy of the list in the venv records what was installed,
# so a second `up` starts without pip.
ensure_venv() {
  [ -z "${DIT_VENV:-}" ] || return 0
  local installed="$venv/.dit-local-cloud-requirements.txt"
  if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$installed"; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found: the local cloud needs Python 3 with venv and pip"
  say "installing $(grep -c '^[^#]' "$requirements") Python tools (scripts/local-cloud-requirements.txt) into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" \
    || die "pip install -r $requirements failed"
  cp "$requirements" "$installed"
}
[ "${1:-}" = up ] && ensure_venv
if [ -d "$venv/bin" ]; then
  PATH="$venv/bin:$PATH"
fi
export PATH
python="python3"
[ -x "$venv/bin/python" ] && python="$venv/bin/python"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bridge="$target_dir/debug/dit-local-bridge"
export AWS_REGION="${AWS_REGION:-eu-west-2}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"

helper() { "$python" "$root/scripts/local_cloud.py" --state "$state" "$@"; }
need_up() { [ -f "$state/stack.json" ] || die "not up (no $state/stack.json): run scripts/local-cloud.sh up"; }

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() { # PORT PID WHAT LOG
  local port="$1" pid="$2" what="$3" log="$4" tries=0
  until "$python" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; die "$what exited at start (log: $log)"; }
    tries=$((tries + 1))
    [ "$tries" -lt 300 ] || die "$what did not answer on port $port within 30 s (log: $log)"
    sleep 0.1
  done
}

# Starts a command in its own session (so its process group is its PID) and records the PID.
start() { # NAME LOG COMMAND...
  local name="$1" log="$2"
  shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  echo "$!" >"$state/pids/$name.pid"
  echo "$!"
}

# The children of PID, from /proc (no procps needed): in /proc/<pid>/stat, after the command
# name in parentheses, come the state and the parent's PID.
children_of() {
  local parent="$1" stat line fields
  for stat in /proc/[0-9]*/stat; do
    read -r line <"$stat" 2>/dev/null || continue
    read -r -a fields <<<"${line##*) }"
    if [ "${fields[1]:-}" = "$parent" ]; then
      stat="${stat#/proc/}"
      echo "${stat%/stat}"
    fi
  done
}

# Every descendant of PID (children, then theirs).
descendants() {
  local child
  for child in $(children_of "$1"); do
    echo "$child"
    descendants "$child"
  done
}

alive() { kill -0 "$1" 2>/dev/null; }

cmd_up() {
  local organisations="events/files/organisations.toml" reload=1 bridge_options=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --organisations) organisations="$2"; shift 2 ;;
      --no-reload) reload=0; shift ;;
      --max-batching-window) bridge_options+=(--max-batching-window "$2"); shift 2 ;;
      *) die "up: unknown option $1" ;;
    esac
  done
  [ -f "$organisations" ] || die "no organisations config $organisations"
  if [ -d "$state/pids" ] && [ -n "$(ls -A "$state/pids" 2>/dev/null)" ]; then
    die "already up ($state/pids holds PID files): run scripts/local-cloud.sh down first"
  fi
  command -v cargo-lambda >/dev/null || die "cargo-lambda not found in $venv or on PATH (DIT_VENV must hold what scripts/local-cloud-requirements.txt lists)"
  rm -rf "$state"
  mkdir -p "$state/pids" "$state/logs"

  # Build first (one build per binary, the way `cargo lambda watch` runs them), so that no
  # invocation waits for the compiler and a build error stops here.
  say "building the functions and the bridge (debug, $target_dir)"
  for binary in inbound-file trust-messages scheduled-jobs dit-local-bridge; do
    cargo build --quiet --bin "$binary" || die "cargo build --bin $binary failed"
  done

  local endpoint="${AWS_ENDPOINT_URL:-}"
  if [ -z "$endpoint" ]; then
    local moto="${MOTO_SERVER:-}"
    [ -n "$moto" ] || moto="$(command -v moto_server || true)"
    [ -n "$moto" ] || die "moto_server not found in $venv or on PATH: set AWS_ENDPOINT_URL (LocalStack) or unset DIT_VENV so that up installs it"
    local port pid
    port="$(free_port)"
    pid="$(start moto "$state/logs/moto.log" "$moto" -H 127.0.0.1 -p "$port")"
    wait_for_port "$port" "$pid" moto_server "$state/logs/moto.log"
    endpoint="http://127.0.0.1:$port"
    say "moto_server on $endpoint (PID $pid)"
  else
    say "using the emulator at $endpoint"
  fi
  echo "$endpoint" >"$state/endpoint"

  say "creating the stack from infra/template.yaml"
  helper stack --endpoint "$endpoint" --region "$AWS_REGION" --organisations "$organisations" >"$state/stack-summary.json" \
    || die "creating the stack failed"
  cat "$state/stack-summary.json"

  local invoke_port watch_pid
  invoke_port="$(free_port)"
  echo "$invoke_port" >"$state/invoke-port"
  local watch_args=(lambda watch --invoke-address 127.0.0.1 --invoke-port "$invoke_port" --env-file "$state/functions.env")
  [ "$reload" = 1 ] || watch_args+=(--ignore-changes)
  watch_pid="$(start watch "$state/logs/functions.log" cargo "${watch_args[@]}")"
  wait_for_port "$invoke_port" "$watch_pid" "cargo lambda watch" "$state/logs/functions.log"
  say "cargo lambda watch on 127.0.0.1:$invoke_port (PID $watch_pid), function logs in $state/logs/functions.log"

  local bridge_pid
  bridge_pid="$(start bridge "$state/logs/bridge.log" "$bridge" run --stack "$state/stack.json" \
    --invoke-port "$invoke_port" --runs "$state/runs.jsonl" "${bridge_options[@]}")"
  sleep 0.5
  alive "$bridge_pid" || { cat "$state/logs/bridge.log" >&2; die "dit-local-bridge exited at start"; }
  say "dit-local-bridge polling the queues (PID $bridge_pid), log in $state/logs/bridge.log"
  say "up: drop files with 'scripts/local-cloud.sh drop FILE...', stop with 'scripts/local-cloud.sh down'"
}

cmd_drop() {
  need_up
  local options=()
  if [ "${1:-}" = "--storage-class" ]; then
    options=(--storage-class "$2")
    shift 2
  fi
  [ $# -gt 0 ] || die "drop: name the files to drop"
  local file
  for file in "$@"; do [ -f "$file" ] || die "drop: no file $file"; done
  # One upload at a time in business order, as `dit process` takes a folder: a notification is
  # queued as its upload returns, so the queue holds them in this order.
  local ordered=()
  while IFS= read -r file; do ordered+=("$file"); done < <("$bridge" order "$@")
  helper drop "${options[@]}" "${ordered[@]}"
}

cmd_send() {
  need_up
  [ $# -gt 0 ] || die "send: name the message files (.json or .jsonl)"
  helper send "$@"
}

cmd_tick() {
  need_up
  [ "${1:-}" = "--date" ] && [ -n "${2:-}" ] || die "tick: --date YYYY-MM-DD"
  local date="$2" function payload status=0
  while IFS=$'\t' read -r function payload; do
    say "$function: $payload"
    "$bridge" invoke --function "$function" --payload "$payload" \
      --invoke-port "$(cat "$state/invoke-port")" --runs "$state/runs.jsonl" || status=1
  done < <(helper payloads --date "$date" | "$python" -c '
import json, sys
for line in sys.stdin:
    item = json.loads(line)
    print(item["function"] + "\t" + json.dumps(item["payload"]))')
  return "$status"
}

cmd_status() {
  need_up
  local name pid
  echo "processes:"
  for pidfile in "$state"/pids/*.pid; do
    [ -e "$pidfile" ] || { echo "  none (down)"; break; }
    name="$(basename "$pidfile" .pid)"
    pid="$(cat "$pidfile")"
    if alive "$pid"; then echo "  $name PID $pid running"; else echo "  $name PID $pid NOT RUNNING"; fi
  done
  echo "what ran (from $state/runs.jsonl):"
  "$bridge" tally --runs "$state/runs.jsonl"
  echo "queues and buckets:"
  helper status "$@"
}

cmd_down() {
  [ -d "$state/pids" ] || { say "nothing to stop (no $state/pids)"; return 0; }
  local pidfile pid all=() stopped=0
  for pidfile in "$state"/pids/*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    # The function processes of `cargo lambda watch` live in process groups of their own.
    all+=("$pid" $(descendants "$pid"))
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  local tries=0 left
  while :; do
    left=()
    for pid in "${all[@]}"; do alive "$pid" && left+=("$pid"); done
    [ "${#left[@]}" -gt 0 ] || break
    tries=$((tries + 1))
    if [ "$tries" -eq 50 ]; then
      say "still running after 5 s, killing: ${left[*]}"
      for pid in "${left[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
    fi
    [ "$tries" -lt 100 ] || die "could not stop: ${left[*]}"
    sleep 0.1
  done
  for pidfile in "$state"/pids/*.pid; do
    [ -e "$pidfile" ] || continue
    rm -f "$pidfile"
    stopped=$((stopped + 1))
  done
  say "down: stopped $stopped service(s), ${#all[@]} process(es) in all; state and logs kept in $state"
}

cmd_logs() {
  need_up
  ls -l "$state/logs"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  up) cmd_up "$@" ;;
  drop) cmd_drop "$@" ;;
  send) cmd_send "$@" ;;
  tick) cmd_tick "$@" ;;
  wait) need_up; helper wait "$@" ;;
  status) cmd_status "$@" ;;
  pull)
    need_up
    [ $# -eq 2 ] || die "pull inbound|outbound DIR"
    case "$1" in inbound) helper pull InboundBucket "$2" ;; outbound) helper pull OutboundBucket "$2" ;; *) die "pull inbound|outbound DIR" ;; esac ;;
  retention) need_up; helper retention ;;
  depth) need_up; [ $# -eq 1 ] || die "depth QUEUE (a logical id of the template)"; helper depth "$1" ;;
  logs) cmd_logs ;;
  descendants) [ $# -eq 1 ] || die "descendants PID"; descendants "$1" ;;
  down) cmd_down ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; [ -z "$command" ] || exit 2 ;;
esac
