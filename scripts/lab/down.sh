#!/bin/bash
# down.sh - remove the lab of LAB_PREFIX: processes recorded in its run dir (by PID, never by name),
# its namespaces, any of its veths left in the root namespace, and the run dir. Safe to run twice.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

if [ -d "$LAB_RUN_DIR" ]; then
  for f in "$LAB_RUN_DIR"/*.pid; do
    [ -e "$f" ] || continue
    stop_bg "$(basename "$f" .pid)"
  done
fi
for ns in $LAB_NAMESPACES; do
  ip netns del "$ns" 2>/dev/null || true
done
# veths of a half-built lab, still in the root namespace under their prefixed names
for dev in cr0 rc0 rg0 gr0 gs0 sg0; do
  ip link del "$LAB_PREFIX-$dev" 2>/dev/null || true
done
rm -rf "$LAB_RUN_DIR"
log "down"
