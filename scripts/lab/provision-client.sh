#!/bin/bash
# provision-client.sh - configure the lab client (inside its netns, or on the Vagrant VM).
# Env: IF (data interface, default eth0), ROUTE (what to route via the router: "default" in the netns
# lab, a CIDR - the server network - on a VM whose default route is Vagrant's NAT).
set -euo pipefail
. "$(dirname "$0")/addresses.sh"
IF=${IF:-eth0}
ROUTE=${ROUTE:-default}
ip link set lo up
ip link set "$IF" up
ip addr replace "$CLIENT_IP/24" dev "$IF"
ip -6 addr replace "$CLIENT_IP6/64" dev "$IF" nodad
if [ "$ROUTE" = default ]; then
  ip route replace default via "$ROUTER_CLIENT_IP" dev "$IF"
  ip -6 route replace default via "$ROUTER_CLIENT_IP6" dev "$IF"
else
  ip route replace "$ROUTE" via "$ROUTER_CLIENT_IP" dev "$IF"
  ip -6 route replace "$SERVER_NET6" via "$ROUTER_CLIENT_IP6" dev "$IF"
fi
