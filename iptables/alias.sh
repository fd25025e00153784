#!/usr/bin/env bash
# Adds, removes and shows the gateway's alias addresses (gateway.aliases in the configuration) with
# `ip addr … label`. Idempotent: `up` skips addresses already present, `down` removes only the
# configured addresses that are present (never anything else on the device).
#
# Usage: iptables/alias.sh up|down|status [--dry-run] [-c FILE]
#   -c FILE     configuration (default: $PORTCULLIS_CONFIG or config/portcullis.yaml)
#   --dry-run   print the `ip` commands instead of running them
# Exit codes: 0 ok (status: every alias present), 1 failure (status: some alias missing), 2 usage error.
#
# The aliases are read by the daemon's own loader (`portcullis aliases --json`), so this script sees
# exactly what the daemon validates. Set PORTCULLIS_CLI to the command that runs the CLI to override
# the choice below (dist/ when built, else the TypeScript sources through tsx).
set -euo pipefail

usage() {
  sed -n '6,9p' "$0" | sed 's/^# \{0,1\}//'
}

die_usage() {
  echo "alias.sh: $1; see iptables/alias.sh --help" >&2
  exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
action=""
dry_run=0
config="${PORTCULLIS_CONFIG:-config/portcullis.yaml}"

while [ $# -gt 0 ]; do
  case "$1" in
    up|down|status)
      [ -z "$action" ] || die_usage "only one action may be given (got $action and $1)"
      action=$1 ;;
    --dry-run) dry_run=1 ;;
    -c|--config)
      [ $# -ge 2 ] || die_usage "$1 needs a file name"
      config=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument $1" ;;
  esac
  shift
done
[ -n "$action" ] || die_usage "missing action (up, down or status)"

if [ -n "${PORTCULLIS_CLI:-}" ]; then
  read -r -a cli <<<"$PORTCULLIS_CLI"
elif [ -f "$here/dist/src/cli/main.js" ]; then
  cli=(node "$here/dist/src/cli/main.js")
else
  cli=(node --import tsx "$here/src/cli/main.ts")
fi

# One line per alias: name device address prefixLength family label ("-" when no label fits).
config_abs=$(realpath -m -- "$config")
# From the repository: `--import tsx` resolves tsx against the working directory.
if ! json=$(cd "$here" && "${cli[@]}" aliases --json -c "$config_abs"); then
  echo "alias.sh: cannot read the aliases from $config (errors above)" >&2
  exit 1
fi
lines=$(printf '%s' "$json" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    for (const a of JSON.parse(s)) console.log([a.name, a.device, a.address, a.prefixLength, a.family, a.label ?? "-"].join(" "));
  });')

present() { # device address → 0 when the address is on the device
  ip -o addr show dev "$1" 2>/dev/null | awk '{print $4}' | grep -qxF "$2/$3"
}

run() {
  if [ "$dry_run" = 1 ]; then
    echo "$*"
  else
    echo "+ $*"
    "$@"
  fi
}

# Removing a primary IPv4 address makes the kernel drop the secondaries of its subnet with it (unless
# promote_secondaries is set), so `down` walks the list backwards: the later aliases, which are the
# secondaries when several share a subnet, go first.
if [ "$action" = down ]; then
  lines=$(printf '%s\n' "$lines" | tac)
fi

missing=0
while read -r name device address prefix family label; do
  [ -n "$name" ] || continue
  if ! ip link show dev "$device" >/dev/null 2>&1; then
    echo "alias.sh: alias $name: device $device does not exist on this host" >&2
    exit 1
  fi
  case "$action" in
    up)
      if present "$device" "$address" "$prefix"; then
        echo "alias $name: $address/$prefix already on $device"
      else
        cmd=(ip addr add "$address/$prefix" dev "$device")
        [ "$label" = "-" ] || cmd+=(label "$label")
        run "${cmd[@]}"
      fi ;;
    down)
      if present "$device" "$address" "$prefix"; then
        run ip addr del "$address/$prefix" dev "$device"
      else
        echo "alias $name: $address/$prefix not on $device (nothing to remove)"
      fi ;;
    status)
      if present "$device" "$address" "$prefix"; then
        echo "alias $name: $address/$prefix on $device: present"
      else
        echo "alias $name: $address/$prefix on $device: MISSING"
        missing=1
      fi ;;
  esac
done <<<"$lines"

exit "$missing"
