#!/bin/bash
# nfqueue.sh - send traffic to the Portcullis NFQUEUE reader (gateway.nfqueue) for inline verdicts.
#
#   nfqueue.sh up     [FLAGS]   install the rules (idempotent: an existing install is replaced)
#   nfqueue.sh down   [FLAGS]   remove them (traffic flows as if Portcullis were not there)
#   nfqueue.sh status [FLAGS]   show the rules with their packet counters, and the queue's state
#
# FLAGS:
#   --queue N          queue number, as gateway.nfqueue.queue (default 0)
#   --chain CHAIN      built-in chain to hook: FORWARD (a routing/bridging gateway, default), INPUT, OUTPUT
#   --ports P[,P…]     TCP ports to queue, both directions (default: all TCP)
#   --iptables CMD     iptables binary: iptables (default), iptables-nft or iptables-legacy
#   --dry-run          print the commands instead of running them
#
# Rules use `-j NFQUEUE --queue-num N --queue-bypass`: while no reader is bound (daemon stopped,
# reader restarting) the kernel accepts the packets (fail-open). The nft `queue` statement is not
# used: kernels without CONFIG_NFT_QUEUE (like ours) reject it, while the iptables target works
# through nft_compat. Save these rules with iptables-save, never from `nft list ruleset`.
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
CMD=$1; shift
QUEUE=0; HOOK=FORWARD; PORTS=""; IPT=iptables; DRY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --queue) QUEUE=${2:?--queue needs a number}; shift 2 ;;
    --chain) HOOK=${2:?--chain needs a chain}; shift 2 ;;
    --ports) PORTS=${2:?--ports needs a list}; shift 2 ;;
    --iptables) IPT=${2:?--iptables needs a command}; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) usage ;;
    *) echo "nfqueue.sh: unknown option $1" >&2; usage ;;
  esac
done
[[ "$QUEUE" =~ ^[0-9]+$ ]] && [ "$QUEUE" -le 65535 ] || { echo "nfqueue.sh: --queue must be 0-65535 (got $QUEUE)" >&2; exit 2; }
case "$HOOK" in FORWARD|INPUT|OUTPUT) ;; *) echo "nfqueue.sh: --chain must be FORWARD, INPUT or OUTPUT (got $HOOK)" >&2; exit 2 ;; esac
if [ -n "$PORTS" ]; then
  IFS=',' read -r -a PORT_LIST <<< "$PORTS"
  for p in "${PORT_LIST[@]}"; do
    [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || { echo "nfqueue.sh: bad port '$p' in --ports" >&2; exit 2; }
  done
fi
CHAIN="PORTCULLIS_NFQ$QUEUE"

run() {
  if [ "$DRY" = 1 ]; then echo "$*"; else "$@"; fi
}
installed() { "$IPT" -n -L "$CHAIN" >/dev/null 2>&1; }

remove() {
  if [ "$DRY" = 1 ] || installed; then
    while [ "$DRY" = 0 ] && "$IPT" -C "$HOOK" -j "$CHAIN" 2>/dev/null; do "$IPT" -D "$HOOK" -j "$CHAIN"; done
    [ "$DRY" = 1 ] && echo "$IPT -D $HOOK -j $CHAIN"
    run "$IPT" -F "$CHAIN"
    run "$IPT" -X "$CHAIN"
  fi
}

case "$CMD" in
up)
  remove
  run "$IPT" -N "$CHAIN"
  target=(-j NFQUEUE --queue-num "$QUEUE" --queue-bypass)
  if [ -z "$PORTS" ]; then
    run "$IPT" -A "$CHAIN" -p tcp "${target[@]}"
  else
    # multiport takes at most 15 ports per rule
    for ((i = 0; i < ${#PORT_LIST[@]}; i += 15)); do
      group=$(IFS=','; echo "${PORT_LIST[*]:i:15}")
      run "$IPT" -A "$CHAIN" -p tcp -m multiport --dports "$group" "${target[@]}"
      run "$IPT" -A "$CHAIN" -p tcp -m multiport --sports "$group" "${target[@]}"
    done
  fi
  run "$IPT" -I "$HOOK" 1 -j "$CHAIN"
  [ "$DRY" = 1 ] || echo "nfqueue: UP (queue $QUEUE on $HOOK${PORTS:+, ports $PORTS}, fail-open with --queue-bypass)"
  ;;
down)
  remove
  [ "$DRY" = 1 ] || echo "nfqueue: DOWN"
  ;;
status)
  if [ "$DRY" = 1 ]; then echo "$IPT -n -v -L $CHAIN"; exit 0; fi
  if ! installed; then echo "nfqueue: DOWN (no chain $CHAIN)"; exit 3; fi
  "$IPT" -n -v -L "$CHAIN"
  line=$(awk -v q="$QUEUE" '$1 == q' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || true)
  if [ -n "$line" ]; then
    read -r _ portid waiting _ _ qdropped udropped _ <<< "$line"
    echo "reader: bound (netlink port $portid), waiting $waiting, queue-full drops $qdropped, overrun drops $udropped"
  else
    echo "reader: NOT bound (packets bypass the queue)"
  fi
  echo "nfqueue: UP"
  ;;
*) usage ;;
esac
