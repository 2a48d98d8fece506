#!/usr/bin/env bash
# Starts, stops and inspects a project-local RabbitMQ node that keeps
# everything (config, data, logs, Erlang cookie) in one directory and listens
# on 127.0.0.1 only. It never touches the system-wide node, its cookie, its
# config in /etc/rabbitmq or its logs.
#
#   broker.sh start  DIR PORT [NODENAME]  start (or find running) a node, wait for AMQP
#   broker.sh stop   DIR [NODENAME]       stop it and wait until it is gone
#   broker.sh status DIR [NODENAME]       exit 0 if it answers AMQP, 3 if not
#   broker.sh ctl    DIR [TOOL] ARGS...   run rabbitmqctl (or TOOL: rabbitmq-diagnostics,
#                                         rabbitmq-queues, rabbitmq-plugins) against it
#
# NODENAME defaults to booking-PORT@localhost. The AMQP URL is
# amqp://guest:guest@127.0.0.1:PORT/%2f (guest may only log in from loopback).
#
# Environment:
#   BROKER_START_TIMEOUT  seconds to wait for AMQP (default 60) and for stop
#   BROKER_DEFINITIONS    a definitions file to import once the node is up
#                         (rabbitmqctl import_definitions; copied into DIR)
#   BROKER_TLS_PORT       also listen for amqps:// on 127.0.0.1:BROKER_TLS_PORT,
#   BROKER_TLS_DIR        with BROKER_TLS_DIR's ca.pem, server.pem and server.key
#                         (copied into DIR/tls); clients must show a certificate
#                         signed by ca.pem
#   BROKER_USER           user to run the node as when started by root
#                         (default rabbitmq; falls back to root if that user
#                         cannot reach DIR, e.g. a checkout under /root)
#   RABBITMQ_SBIN         directory of the real rabbitmq-server/rabbitmqctl
#                         scripts (found from PATH by default)
#
# Why not the distribution's `rabbitmq-server` / `rabbitmqctl` wrappers: the
# Debian wrapper runs the tools through `su rabbitmq` from /var/lib/rabbitmq,
# which resets HOME and so always uses the system node's Erlang cookie (and
# writes its startup log under /var/log/rabbitmq). This script calls the real
# scripts behind the wrapper as the same user, with HOME=DIR.
#
# Erlang distribution: each node gets its own epmd on a private port bound to
# 127.0.0.1 (ERL_EPMD_PORT, recorded in DIR/broker.env), its distribution
# listener and the CLI's are bound to 127.0.0.1, and `stop` kills that epmd,
# so a stopped node leaves no process behind. Plain `rabbitmqctl` without the
# environment of this script cannot see the node; use `broker.sh ctl`.
set -euo pipefail

prog=broker.sh
die() {
  echo "$prog: $*" >&2
  exit 1
}
usage() {
  sed -n '7,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

timeout_s=${BROKER_START_TIMEOUT:-60}

# --- helpers ----------------------------------------------------------------

# Absolute path of $1 (which need not exist yet).
abspath() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "${1#./}" ;;
  esac
}

# The directory holding the real rabbitmq-server script. Distribution
# packages put a wrapper on PATH (Debian: a symlink to rabbitmq-script-wrapper)
# whose directory holds symlinks to the real scripts; a generic install puts
# the real scripts on PATH directly.
find_sbin() {
  if [ -n "${RABBITMQ_SBIN:-}" ]; then
    [ -x "$RABBITMQ_SBIN/rabbitmq-server" ] || die "RABBITMQ_SBIN=$RABBITMQ_SBIN has no rabbitmq-server"
    printf '%s\n' "$RABBITMQ_SBIN"
    return
  fi
  local onpath resolved dir real
  onpath=$(command -v rabbitmq-server || true)
  [ -n "$onpath" ] || onpath=$(PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v rabbitmq-server || true)
  [ -n "$onpath" ] || die "rabbitmq-server not found (install the rabbitmq-server package, or set RABBITMQ_SBIN)"
  resolved=$(readlink -f "$onpath")
  dir=$(dirname "$resolved")
  real=$(readlink -f "$dir/rabbitmq-server" 2>/dev/null || true)
  if [ -n "$real" ] && [ "$real" != "$resolved" ] && [ -x "$real" ]; then
    dirname "$real" # packaging wrapper: its directory links to the real scripts
  else
    printf '%s\n' "$dir"
  fi
}

# Is a TCP port in use (any state, any address)? Reads /proc/net/tcp{,6} when
# present, otherwise tries to connect.
port_in_use() {
  local port=$1
  if [ -r /proc/net/tcp ]; then
    local hex
    hex=$(printf ':%04X' "$port")
    awk -v p="$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# Is something listening on TCP PORT (IPv4 or IPv6)?
port_listening() {
  local port=$1
  if [ -r /proc/net/tcp ]; then
    local hex
    hex=$(printf ':%04X' "$port")
    awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# A free port from [lo, hi), avoiding the ports given after hi.
free_port() {
  local lo=$1 hi=$2 p i avoid
  shift 2
  for ((i = 0; i < 200; i++)); do
    p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
    for avoid in "$@"; do [ "$p" = "$avoid" ] && continue 2; done
    port_in_use "$p" || {
      echo "$p"
      return 0
    }
  done
  return 1
}

# Does 127.0.0.1:PORT speak AMQP 0-9-1? Sends the protocol header and expects
# a method frame (connection.start) back.
amqp_probe() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'AMQP\000\000\011\001' >&3
    IFS= read -r -d '' -N 1 -t 3 -u 3 b || exit 1
    [ "$b" = $'\001' ]
  ) 2>/dev/null
}

now_ms() { date +%s%3N; }
elapsed() { local d=$(($(now_ms) - $1)); printf '%d.%03ds' $((d / 1000)) $((d % 1000)); }

# Is PID a live process (not a zombie waiting to be reaped)?
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# --- node state -------------------------------------------------------------

# Loads DIR/broker.env (written by start) into NODE, PORT, DIST_PORT,
# EPMD_PORT, RUN_AS, LAUNCH_PID.
load_state() {
  local f=$DIR/broker.env
  [ -f "$f" ] || return 1
  NODE='' PORT='' DIST_PORT='' EPMD_PORT='' RUN_AS='' LAUNCH_PID=''
  # shellcheck disable=SC1090
  . "$f"
  [ -n "$NODE" ] && [ -n "$PORT" ] && [ -n "$EPMD_PORT" ]
}

save_state() {
  local tmp=$DIR/broker.env.tmp
  {
    echo "# written by $prog start; read by stop/status/ctl"
    printf 'NODE=%q\nPORT=%q\nDIST_PORT=%q\nEPMD_PORT=%q\nRUN_AS=%q\nLAUNCH_PID=%q\n' \
      "$NODE" "$PORT" "$DIST_PORT" "$EPMD_PORT" "$RUN_AS" "${LAUNCH_PID:-}"
  } >"$tmp"
  mv -f "$tmp" "$DIR/broker.env"
}

# Is PID alive and its command line contains WORD? Guards against pids in
# DIR/broker.env or DIR/rabbit.pid that were reused after a reboot.
pid_is() {
  pid_alive "$1" || return 1
  [ -r "/proc/$1/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# The OS pid of the node's Erlang VM (from its pid file), if alive.
node_pid() {
  local p
  p=$(cat "$DIR/rabbit.pid" 2>/dev/null || true)
  pid_is "$p" "-home $DIR " && echo "$p"
  return 0
}

# Is the launcher (rabbitmq-server script, leader of the node's session) alive?
launcher_alive() { pid_is "${LAUNCH_PID:-}" rabbitmq-server; }

# The command prefix that runs a program as the node's user with the node's
# environment (and nothing else from the caller's, so that stray RABBITMQ_*
# variables cannot leak in). Sets NODE_CMD.
node_cmd() {
  NODE_CMD=()
  [ "$RUN_AS" = "$(id -un)" ] ||
    NODE_CMD=(setpriv --reuid="$RUN_AS" --regid="$RUN_AS" --init-groups)
  NODE_CMD+=(
    env -i
    HOME="$DIR"
    PATH="$PATH"
    LANG=C.UTF-8 LC_ALL=C.UTF-8
    RABBITMQ_NODENAME="$NODE"
    RABBITMQ_USE_LONGNAME=false
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$PORT"
    RABBITMQ_DIST_PORT="$DIST_PORT"
    RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf"
    RABBITMQ_CONFIG_FILES="$DIR/conf.d/*.conf"
    RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/advanced.config"
    RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf"
    RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins"
    RABBITMQ_MNESIA_BASE="$DIR/mnesia"
    RABBITMQ_LOG_BASE="$DIR/log"
    RABBITMQ_LOGS="$DIR/log/rabbit.log"
    RABBITMQ_PID_FILE="$DIR/rabbit.pid"
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    RABBITMQ_CTL_DIST_PORT_MIN=0 RABBITMQ_CTL_DIST_PORT_MAX=0
    ERL_EPMD_PORT="$EPMD_PORT"
    ERL_EPMD_ADDRESS=127.0.0.1
    ERL_CRASH_DUMP="$DIR/log/erl_crash.dump"
  )
}

ctl() {
  local tool=rabbitmqctl
  case ${1:-} in
    rabbitmqctl | rabbitmq-diagnostics | rabbitmq-queues | rabbitmq-plugins | rabbitmq-upgrade | rabbitmq-streams)
      tool=$1
      shift
      ;;
  esac
  node_cmd
  (cd "$DIR" && exec "${NODE_CMD[@]}" "$SBIN/$tool" -n "$NODE" "$@")
}

# Kills the node's private epmd (it only ever serves this node).
stop_epmd() {
  [ -n "${EPMD_PORT:-}" ] || return 0
  port_listening "$EPMD_PORT" || return 0
  if command -v epmd >/dev/null; then
    ERL_EPMD_PORT=$EPMD_PORT epmd -kill >/dev/null 2>&1 || true
  fi
  local i
  for ((i = 0; i < 20; i++)); do
    port_listening "$EPMD_PORT" || return 0
    sleep 0.1
  done
  echo "$prog: warning: epmd on 127.0.0.1:$EPMD_PORT is still running" >&2
}

show_logs() {
  local f
  for f in "$DIR/log/startup.log" "$DIR/log/rabbit.log"; do
    [ -s "$f" ] || continue
    echo "--- last lines of $f" >&2
    tail -n 30 "$f" >&2
  done
}

check_node_name() {
  local want=${1:-}
  [ -n "$want" ] || return 0
  [[ $want == *@* ]] || want="$want@localhost"
  [ "$want" = "$NODE" ] || die "$DIR holds node $NODE, not $want"
}

# --- commands ---------------------------------------------------------------

cmd_start() {
  local want_port=$1 want_node=${2:-}
  if ! [[ $want_port =~ ^[0-9]+$ ]] || [ "$want_port" -lt 1 ] || [ "$want_port" -gt 65535 ]; then
    die "PORT must be 1..65535, got '$want_port'"
  fi
  [ -n "$want_node" ] || want_node="booking-$want_port@localhost"
  [[ $want_node == *@* ]] || want_node="$want_node@localhost"

  # Already running from this DIR?
  if load_state; then
    if pid_alive "$(node_pid)" || launcher_alive; then
      if [ "$PORT" != "$want_port" ] || [ "$NODE" != "$want_node" ]; then
        die "$DIR already runs node $NODE on port $PORT; stop it first"
      fi
      if wait_ready; then
        if [ -n "${BROKER_DEFINITIONS:-}" ]; then
          [ -r "$BROKER_DEFINITIONS" ] || die "BROKER_DEFINITIONS=$BROKER_DEFINITIONS is not readable"
          cp -f "$BROKER_DEFINITIONS" "$DIR/definitions.json"
          [ "$RUN_AS" = "$(id -un)" ] || chown "$RUN_AS:" "$DIR/definitions.json"
          import_definitions
        fi
        echo "$prog: $NODE already running, amqp://guest:guest@127.0.0.1:$PORT/%2f"
        return 0
      fi
      die "$NODE is running but does not answer AMQP on 127.0.0.1:$PORT"
    fi
    stop_epmd # left over from a node that died
  fi

  local t0
  t0=$(now_ms)
  NODE=$want_node
  PORT=$want_port
  port_listening "$PORT" && die "port $PORT is already in use"
  DIST_PORT=$((PORT + 20000))
  if [ "$DIST_PORT" -gt 65535 ] || port_listening "$DIST_PORT"; then
    DIST_PORT=$(free_port 20000 32768 "$PORT") || die "no free port for Erlang distribution"
  fi
  EPMD_PORT=$(free_port 20000 32768 "$PORT" "$DIST_PORT") || die "no free port for epmd"

  # Who runs the node: the caller, or (for root) the rabbitmq user, as the
  # distribution's service does.
  RUN_AS=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    local user=${BROKER_USER:-rabbitmq}
    if [ "$user" != root ] && id "$user" >/dev/null 2>&1; then
      local probe=$DIR
      while [ ! -e "$probe" ]; do probe=$(dirname "$probe"); done
      if setpriv --reuid="$user" --regid="$user" --init-groups test -x "$probe" 2>/dev/null; then
        RUN_AS=$user
      else
        echo "$prog: note: user $user cannot reach $DIR (a parent directory is private); running the node as root" >&2
      fi
    fi
  fi

  # Layout.
  mkdir -p "$DIR/mnesia" "$DIR/log" "$DIR/conf.d"
  if [ -n "${BROKER_DEFINITIONS:-}" ]; then
    [ -r "$BROKER_DEFINITIONS" ] || die "BROKER_DEFINITIONS=$BROKER_DEFINITIONS is not readable"
    cp -f "$BROKER_DEFINITIONS" "$DIR/definitions.json"
  fi
  cat >"$DIR/rabbitmq.conf" <<EOF
# Written by $prog for a local, throwaway node; rewritten at every start.
listeners.tcp.default = 127.0.0.1:$PORT
# Small disks (CI runners, containers) would otherwise block publishers.
disk_free_limit.absolute = 50MB
log.file.level = info
log.console = false
EOF
  if [ -n "${BROKER_TLS_PORT:-}" ]; then
    local f
    mkdir -p "$DIR/tls"
    for f in ca.pem server.pem server.key; do
      [ -r "${BROKER_TLS_DIR:-}/$f" ] || die "BROKER_TLS_DIR=${BROKER_TLS_DIR:-} has no readable $f"
      cp -f "$BROKER_TLS_DIR/$f" "$DIR/tls/$f"
    done
    cat >>"$DIR/rabbitmq.conf" <<EOF
listeners.ssl.default = 127.0.0.1:$BROKER_TLS_PORT
ssl_options.cacertfile = $DIR/tls/ca.pem
ssl_options.certfile = $DIR/tls/server.pem
ssl_options.keyfile = $DIR/tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
EOF
  fi
  echo '[].' >"$DIR/enabled_plugins" # no plugins, management included
  if [ ! -s "$DIR/.erlang.cookie" ]; then
    local cookie
    cookie=$(head -c 4096 /dev/urandom | LC_ALL=C tr -dc '[:upper:]' | cut -c 1-32)
    (umask 077 && printf '%s' "$cookie" >"$DIR/.erlang.cookie")
  fi
  chmod 400 "$DIR/.erlang.cookie"
  rm -f "$DIR/rabbit.pid"
  if [ "$RUN_AS" != "$(id -un)" ]; then
    chown -R "$RUN_AS:" "$DIR"
  fi
  : >"$DIR/log/startup.log"
  [ "$RUN_AS" = "$(id -un)" ] || chown "$RUN_AS:" "$DIR/log/startup.log"

  # Launch in its own session so that the caller's terminal signals (Ctrl-C)
  # and process group do not reach it.
  node_cmd
  (cd "$DIR" && exec "${NODE_CMD[@]}" setsid "$SBIN/rabbitmq-server") >>"$DIR/log/startup.log" 2>&1 </dev/null &
  LAUNCH_PID=$!
  save_state
  disown "$LAUNCH_PID" 2>/dev/null || true

  if ! wait_ready fresh; then
    show_logs
    kill_node
    exit 1
  fi
  import_definitions
  echo "$prog: $NODE up in $(elapsed "$t0"), amqp://guest:guest@127.0.0.1:$PORT/%2f"
}

# Imports BROKER_DEFINITIONS (copied to DIR/definitions.json) into the running
# node. Not `load_definitions` in rabbitmq.conf: a node that loads definitions
# at boot does not create the default guest user.
import_definitions() {
  [ -n "${BROKER_DEFINITIONS:-}" ] || return 0
  if ! ctl import_definitions "$DIR/definitions.json" >"$DIR/log/import.out" 2>&1; then
    cat "$DIR/log/import.out" >&2
    die "could not import $BROKER_DEFINITIONS into $NODE (the node keeps running)"
  fi
}

# Waits until the node answers AMQP; fails early if it dies. With `fresh`,
# LAUNCH_PID is the launcher this run has just forked: it is alive as long as
# the process is, even before it has exec'd rabbitmq-server (until then its
# command line is still this script's, which launcher_alive would not accept).
wait_ready() {
  local fresh=${1:-} deadline=$((SECONDS + timeout_s)) launcher
  while [ "$SECONDS" -lt "$deadline" ]; do
    amqp_probe "$PORT" && return 0
    if [ -n "$fresh" ]; then
      pid_alive "$LAUNCH_PID" && launcher=1 || launcher=''
    else
      launcher_alive && launcher=1 || launcher=''
    fi
    if [ -z "$launcher" ] && ! pid_alive "$(node_pid)"; then
      echo "$prog: error: node $NODE exited during startup (logs in $DIR/log)" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "$prog: error: node $NODE did not accept AMQP connections on 127.0.0.1:$PORT within ${timeout_s}s (logs in $DIR/log)" >&2
  return 1
}

# Last resort: TERM (RabbitMQ stops gracefully on it), then KILL, to the
# node's session (the launcher leads it, see cmd_start) and its VM.
kill_node() {
  local p sig i
  p=$(node_pid)
  for sig in TERM KILL; do
    launcher_alive && kill -"$sig" -- "-$LAUNCH_PID" 2>/dev/null
    pid_alive "$p" && kill -"$sig" "$p" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      pid_alive "$p" || launcher_alive || break 2
      sleep 0.1
    done
  done
  stop_epmd
}

cmd_stop() {
  if ! load_state; then
    echo "$prog: no node in $DIR"
    return 0
  fi
  check_node_name "${1:-}"
  local p t0
  t0=$(now_ms)
  p=$(node_pid)
  if ! pid_alive "$p" && ! launcher_alive; then
    stop_epmd
    echo "$prog: $NODE not running"
    return 0
  fi
  # `rabbitmqctl shutdown` returns once the node's OS process has exited.
  if ctl shutdown >/dev/null 2>"$DIR/log/stop.err"; then
    local deadline=$((SECONDS + timeout_s))
    while { pid_alive "$p" || launcher_alive; } && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.1
    done
  else
    echo "$prog: rabbitmqctl shutdown failed, sending TERM:" >&2
    tail -n 3 "$DIR/log/stop.err" >&2 || true
  fi
  pid_alive "$p" || launcher_alive && kill_node
  stop_epmd
  if pid_alive "$p" || launcher_alive; then
    die "$NODE did not stop"
  fi
  echo "$prog: $NODE stopped in $(elapsed "$t0")"
}

cmd_status() {
  if ! load_state; then
    echo "$prog: no node in $DIR"
    exit 3
  fi
  check_node_name "${1:-}"
  local p
  p=$(node_pid)
  if amqp_probe "$PORT"; then
    echo "$prog: $NODE running (pid ${p:-?}, user $RUN_AS), amqp://guest:guest@127.0.0.1:$PORT/%2f, epmd 127.0.0.1:$EPMD_PORT"
    return 0
  fi
  if pid_alive "$p" || launcher_alive; then
    echo "$prog: $NODE starting or stopping (pid ${p:-$LAUNCH_PID}), not answering AMQP on 127.0.0.1:$PORT"
  else
    echo "$prog: $NODE not running"
  fi
  exit 3
}

# --- main -------------------------------------------------------------------

[ $# -ge 2 ] || usage
cmd=$1
DIR=$(abspath "$2")
DIR=${DIR%/}
[[ $DIR != *[[:space:]]* ]] || die "DIR must not contain spaces (RabbitMQ's scripts split on them)"
shift 2
SBIN=$(find_sbin)
case $cmd in
  start)
    { [ $# -ge 1 ] && [ $# -le 2 ]; } || usage
    cmd_start "$@"
    ;;
  stop)
    [ $# -le 1 ] || usage
    cmd_stop "$@"
    ;;
  status)
    [ $# -le 1 ] || usage
    cmd_status "$@"
    ;;
  ctl)
    load_state || die "no node in $DIR"
    # A CLI call to a stopped node would start an epmd nobody stops.
    pid_alive "$(node_pid)" || die "$NODE is not running"
    ctl "$@"
    ;;
  *) usage ;;
esac
