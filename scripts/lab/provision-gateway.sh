#!/bin/bash
# provision-gateway.sh - make the gateway a plain transparent bridge: br0 joins EXT_IF (router side)
# and INT_IF (server side). Interception is added later (portcullis, or iptables/bridge.sh up).
# Env: EXT_IF (default ext0), INT_IF (default int0), BR (default br0),
#      BR_IP (default $GATEWAY_IP/24; empty = stealth bridge without an address),
#      ROUTE (default "default": default route via the router over br0; a CIDR routes only that, for a VM
#      whose default route is Vagrant's NAT). The gateway needs a route back to the clients through
#      br0: intercepted connections answer from there (see docs/BRIDGE.md, rp_filter).
set -euo pipefail
. "$(dirname "$0")/addresses.sh"
EXT_IF=${EXT_IF:-ext0}
INT_IF=${INT_IF:-int0}
BR=${BR:-br0}
BR_IP=${BR_IP-$GATEWAY_IP/24}
ROUTE=${ROUTE:-default}
ip link set lo up
ip link show "$BR" >/dev/null 2>&1 || ip link add "$BR" type bridge stp_state 0 forward_delay 0
ip link set "$EXT_IF" master "$BR"
ip link set "$INT_IF" master "$BR"
# ports carry no addresses of their own; IPv6 autoconf on them would only add noise
sysctl -qw "net.ipv6.conf.$EXT_IF.disable_ipv6=1" "net.ipv6.conf.$INT_IF.disable_ipv6=1"
ip link set "$EXT_IF" up
ip link set "$INT_IF" up
ip link set "$BR" up
# pin br0's MAC: otherwise it follows the lowest port MAC and changes when ports change
ip link set dev "$BR" address "$(cat "/sys/class/net/$BR/address")"
# a pure L2 bridge until interception is installed (br_netfilter is built in and defaults to 1 per netns)
sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0
# never route: protected flows are delivered locally or bridged, nothing is L3-forwarded
sysctl -qw net.ipv4.ip_forward=0
if [ -n "$BR_IP" ]; then
  ip addr replace "$BR_IP" dev "$BR"
  ip -6 addr replace "$GATEWAY_IP6/64" dev "$BR" nodad
  if [ "$ROUTE" = default ]; then
    ip route replace default via "$ROUTER_SERVER_IP" dev "$BR"
    ip -6 route replace default via "$ROUTER_SERVER_IP6" dev "$BR"
  else
    ip route replace "$ROUTE" via "$ROUTER_SERVER_IP" dev "$BR"
    ip -6 route replace "$CLIENT_NET6" via "$ROUTER_SERVER_IP6" dev "$BR"
  fi
else
  # stealth: no address, an on-link route to the server network and a default route via the router
  ip route replace "$SERVER_NET" dev "$BR"
  ip route replace default via "$ROUTER_SERVER_IP" dev "$BR"
fi
