#!/bin/bash
# bridge.sh - install, remove or show Portcullis' bridge interception (nftables + policy routing), the
# same rules the daemon applies in bridge mode. Run on the gateway as root.
#
#   bridge.sh up     [--dry-run] [-c FILE] [FLAGS]   install (atomic; re-running replaces the old generation)
#   bridge.sh down   [--dry-run] [-c FILE] [FLAGS]   remove everything (idempotent), restore saved sysctls
#   bridge.sh status            [-c FILE] [FLAGS]   rules with counters, ip rules, routes, sysctls
#
# -c FILE takes the bridge section and the protected servers/ports from a Portcullis configuration.
# FLAGS (override or replace it): --servers 10.20.0.10,fd00:20::10 --ports 80,443 --bridge br0
#   --bridge-ports ext0,int0 --mac MAC --design B|A --failure open|closed --mark 0x1 --route-table 100 --table portcullis
#
# Saving and restoring: do NOT save `nft list ruleset` output and feed it back; nft 1.0.6 lists some
# statements lossily (see docs/BRIDGE.md). The renderer is the source of truth: re-run `bridge.sh up`
# with the same configuration at boot (the daemon does this itself when it starts in bridge mode).
set -euo pipefail
# the renderer (src/platform/render-cli.ts) is the source of truth for the rules
render() { node "$(dirname "$0")/../scripts/render-bridge-rules.mjs" "$@"; }
STATE_DIR=${PORTCULLIS_STATE_DIR:-/run/portcullis}
export PORTCULLIS_SYSCTL_SAVE=$STATE_DIR/bridge.sysctl

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
CMD=$1; shift
DRY_RUN=0
ARGS=()
for a in "$@"; do
  if [ "$a" = --dry-run ]; then DRY_RUN=1; else ARGS+=("$a"); fi
done

case "$CMD" in
up|down)
  script=$(render "script-$CMD" "${ARGS[@]}")
  if [ "$DRY_RUN" = 1 ]; then echo "$script"; exit 0; fi
  bash -c "$script"
  ;;
status)
  eval "$(render vars "${ARGS[@]}")"
  echo "== nftables (table $TABLE, with counters)"
  nft list table inet "$TABLE" 2>/dev/null || echo "   table inet $TABLE: not installed"
  nft list table bridge "$TABLE" 2>/dev/null || echo "   table bridge $TABLE: not installed"
  echo "== ip rules for fwmark $MARK"
  rules=$({ ip -4 rule show; ip -6 rule show; } | grep -E "fwmark $MARK\b|lookup $ROUTE_TABLE\b" || true)
  echo "${rules:-   none}"
  echo "== routes in table $ROUTE_TABLE"
  routes=$({ ip -4 route show table "$ROUTE_TABLE" || true; ip -6 route show table "$ROUTE_TABLE" || true; } 2>/dev/null)
  echo "${routes:-   none}"
  echo "== sysctls"
  sysctl net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.conf.all.rp_filter 2>&1 | sed 's/^/   /'
  ;;
*) usage ;;
esac
