#!/bin/bash
# provision-server.sh - configure the lab server: one protected and one unprotected address.
# Env: IF (default eth0), ROUTE ("default", or a CIDR on a VM whose default route is Vagrant's NAT).
set -euo pipefail
. "$(dirname "$0")/addresses.sh"
IF=${IF:-eth0}
ROUTE=${ROUTE:-default}
ip link set lo up
ip link set "$IF" up
ip addr replace "$SERVER_IP/24" dev "$IF"
ip addr replace "$SERVER_IP_UNPROTECTED/24" dev "$IF"
ip -6 addr replace "$SERVER_IP6/64" dev "$IF" nodad
ip -6 addr replace "$SERVER_IP6_UNPROTECTED/64" dev "$IF" nodad
if [ "$ROUTE" = default ]; then
  ip route replace default via "$ROUTER_SERVER_IP" dev "$IF"
  ip -6 route replace default via "$ROUTER_SERVER_IP6" dev "$IF"
else
  ip route replace "$ROUTE" via "$ROUTER_SERVER_IP" dev "$IF"
  ip -6 route replace "$CLIENT_NET6" via "$ROUTER_SERVER_IP6" dev "$IF"
fi
