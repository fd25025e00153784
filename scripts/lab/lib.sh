# lib.sh - helpers of the netns lab (source it). Everything is named after LAB_PREFIX so two labs can
# run side by side: namespaces $LAB_PREFIX-client|router|gw|server, root-namespace veth names
# $LAB_PREFIX-xy (renamed to eth0/ext0/… once moved), run dir with pid and log files.
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
# shellcheck source=addresses.sh
. "$LAB_DIR/addresses.sh"

LAB_PREFIX=${LAB_PREFIX:-pc}
# veth names are limited to 15 characters: prefix (≤ 10) + "-" + 2 letters + 1 digit
if ! [[ $LAB_PREFIX =~ ^[a-z][a-z0-9]{0,9}$ ]]; then
  echo "LAB_PREFIX must be 1-10 characters [a-z0-9], starting with a letter (got '$LAB_PREFIX')" >&2
  exit 2
fi
LAB_RUN_DIR=${LAB_RUN_DIR:-/tmp/portcullis-lab-$LAB_PREFIX}
NS_CLIENT=$LAB_PREFIX-client
NS_ROUTER=$LAB_PREFIX-router
NS_GW=$LAB_PREFIX-gw
NS_SERVER=$LAB_PREFIX-server
LAB_NAMESPACES="$NS_CLIENT $NS_ROUTER $NS_GW $NS_SERVER"

log() { echo "lab[$LAB_PREFIX]: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# in NS CMD... : run CMD inside namespace NS
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# start_bg NAME NS CMD... : start CMD inside NS in the background; its own PID goes to NAME.pid
# (ip netns exec execs the command, so $! is the command itself, never a wrapper)
start_bg() {
  local name=$1 ns=$2; shift 2
  mkdir -p "$LAB_RUN_DIR"
  ip netns exec "$ns" "$@" >"$LAB_RUN_DIR/$name.log" 2>&1 &
  echo $! >"$LAB_RUN_DIR/$name.pid"
}

# stop_bg NAME : TERM the recorded PID, KILL it if it is still there after 3 s, forget it
stop_bg() {
  local f="$LAB_RUN_DIR/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

# wait_listen NS PORT [SECONDS] : until something listens on TCP PORT inside NS
wait_listen() {
  local ns=$1 port=$2 limit=${3:-10} i
  for i in $(seq 1 $((limit * 20))); do
    ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q . && return 0
    sleep 0.05
  done
  log "timeout: nothing listens on $ns:$port"; return 1
}
