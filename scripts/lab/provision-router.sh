#!/bin/bash
# provision-router.sh - configure the lab router: client side and server side, forwarding on.
# Env: IF_CLIENT (default eth0), IF_SERVER (default eth1).
set -euo pipefail
. "$(dirname "$0")/addresses.sh"
IF_CLIENT=${IF_CLIENT:-eth0}
IF_SERVER=${IF_SERVER:-eth1}
ip link set lo up
ip link set "$IF_CLIENT" up
ip link set "$IF_SERVER" up
ip addr replace "$ROUTER_CLIENT_IP/24" dev "$IF_CLIENT"
ip addr replace "$ROUTER_SERVER_IP/24" dev "$IF_SERVER"
ip -6 addr replace "$ROUTER_CLIENT_IP6/64" dev "$IF_CLIENT" nodad
ip -6 addr replace "$ROUTER_SERVER_IP6/64" dev "$IF_SERVER" nodad
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=1
