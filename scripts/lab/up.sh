#!/bin/bash
# up.sh - build the netns lab: four namespaces with the Vagrant lab's topology and addresses.
#
#   $P-client  eth0 10.10.0.2/24 ── $P-router eth0 10.10.0.1 | eth1 10.20.0.1 ── ext0 [$P-gw br0 10.20.0.254] int0 ── $P-server eth0 10.20.0.10 + .11
#
# Env: LAB_PREFIX (default pc; names everything so labs can run side by side),
#      BR_IP (default 10.20.0.254/24; empty = stealth bridge), START_SERVER (default 1).
# The gateway starts as a plain bridge: interception is installed separately (portcullis, iptables/bridge.sh).
# Fails (and cleans up) when any part is missing; down.sh removes everything.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
START_SERVER=${START_SERVER:-1}

for ns in $LAB_NAMESPACES; do
  ip netns list | awk '{print $1}' | grep -qx "$ns" && die "namespace $ns exists already: run LAB_PREFIX=$LAB_PREFIX $LAB_DIR/down.sh first"
done
up_done=0
cleanup_on_failure() { [ "$up_done" = 1 ] || { log "up failed, cleaning up"; "$LAB_DIR/down.sh" >/dev/null 2>&1 || true; }; }
trap cleanup_on_failure EXIT
mkdir -p "$LAB_RUN_DIR"

for ns in $LAB_NAMESPACES; do ip netns add "$ns"; done

# veth pairs are created in the root namespace under prefixed names (unique per lab), then moved and
# renamed to the names the topology uses
ip link add "$LAB_PREFIX-cr0" type veth peer name "$LAB_PREFIX-rc0"
ip link add "$LAB_PREFIX-rg0" type veth peer name "$LAB_PREFIX-gr0"
ip link add "$LAB_PREFIX-gs0" type veth peer name "$LAB_PREFIX-sg0"
ip link set "$LAB_PREFIX-cr0" netns "$NS_CLIENT" name eth0
ip link set "$LAB_PREFIX-rc0" netns "$NS_ROUTER" name eth0
ip link set "$LAB_PREFIX-rg0" netns "$NS_ROUTER" name eth1
ip link set "$LAB_PREFIX-gr0" netns "$NS_GW" name ext0
ip link set "$LAB_PREFIX-gs0" netns "$NS_GW" name int0
ip link set "$LAB_PREFIX-sg0" netns "$NS_SERVER" name eth0

in_ns "$NS_CLIENT" env IF=eth0 "$LAB_DIR/provision-client.sh"
in_ns "$NS_ROUTER" env IF_CLIENT=eth0 IF_SERVER=eth1 "$LAB_DIR/provision-router.sh"
in_ns "$NS_GW" env EXT_IF=ext0 INT_IF=int0 BR=br0 BR_IP="${BR_IP-$GATEWAY_IP/24}" "$LAB_DIR/provision-gateway.sh"
in_ns "$NS_SERVER" env IF=eth0 "$LAB_DIR/provision-server.sh"

if [ "$START_SERVER" = 1 ]; then
  "$LAB_DIR/make-server-cert.sh" "$LAB_RUN_DIR/certs"
  start_bg server "$NS_SERVER" env LAB_CERT_DIR="$LAB_RUN_DIR/certs" node "$LAB_DIR/server.mjs"
  for port in 80 8080 443; do wait_listen "$NS_SERVER" "$port"; done
fi

# readiness: the client reaches both server addresses through router and bridge
for i in $(seq 1 50); do
  in_ns "$NS_CLIENT" "$LAB_DIR/icmp-echo.py" "$SERVER_IP" 0.2 >/dev/null && break
  [ "$i" = 50 ] && die "the client cannot reach $SERVER_IP through the bridge"
done
# and over IPv6 (neighbour discovery on three links can lag behind IPv4 on a busy machine)
if [ "$START_SERVER" = 1 ]; then
  for i in $(seq 1 50); do
    in_ns "$NS_CLIENT" curl -s -o /dev/null -m 0.5 "http://[$SERVER_IP6]:8080/" && break
    [ "$i" = 50 ] && die "the client cannot reach [$SERVER_IP6]:8080 through the bridge"
  done
fi
up_done=1
log "up: namespaces $LAB_NAMESPACES, run dir $LAB_RUN_DIR"
