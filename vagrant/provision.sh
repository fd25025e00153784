#!/bin/bash
# provision.sh ROLE DATA_MAC... - Vagrant provisioning of one lab VM. Installs what the role needs,
# finds the data NICs by the MACs the Vagrantfile gave them (guests name NICs differently per box and
# provider), then runs the SAME scripts/lab/provision-ROLE.sh as the netns lab. The VM keeps Vagrant's
# NAT NIC as its default route (management), so only the lab networks are routed through the router.
set -euo pipefail
ROLE=${1:?usage: provision.sh client|router|gateway|server MAC...}; shift
LAB=/portcullis/scripts/lab
. "$LAB/addresses.sh"

if_by_mac() {
  local want=${1,,} dev
  want=$(echo "$want" | sed 's/../&:/g; s/:$//')
  for dev in /sys/class/net/*; do
    [ "$(cat "$dev/address")" = "$want" ] && { basename "$dev"; return 0; }
  done
  echo "provision: no NIC with MAC $want" >&2; return 1
}

export DEBIAN_FRONTEND=noninteractive
PKGS="iproute2 curl python3 openssl"
case "$ROLE" in
  # Portcullis itself needs Node >= 20.18.1 (Debian 12 ships 18): see vagrant/README.md
  gateway) PKGS="$PKGS nftables tcpdump" ;;
  server) PKGS="$PKGS nodejs" ;;
esac
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PKGS >/dev/null

case "$ROLE" in
client)
  IF=$(if_by_mac "$1") ROUTE=$SERVER_NET "$LAB/provision-client.sh" ;;
router)
  IF_CLIENT=$(if_by_mac "$1") IF_SERVER=$(if_by_mac "$2") "$LAB/provision-router.sh" ;;
gateway)
  # the data NICs carry other hosts' frames: the Vagrantfile sets them promiscuous (VirtualBox allow-all)
  EXT_IF=$(if_by_mac "$1") INT_IF=$(if_by_mac "$2") ROUTE=$CLIENT_NET "$LAB/provision-gateway.sh"
  # names the bridge configuration of Portcullis expects (config/examples/bridge.yaml: ports [ext0, int0])
  echo "provision: gateway bridge br0 = $(if_by_mac "$1") (router side) + $(if_by_mac "$2") (server side)" ;;
server)
  IF=$(if_by_mac "$1") ROUTE=$CLIENT_NET "$LAB/provision-server.sh"
  install -d /etc/portcullis-lab
  [ -f /etc/portcullis-lab/server.crt ] || "$LAB/make-server-cert.sh" /etc/portcullis-lab
  cat >/etc/systemd/system/portcullis-lab-server.service <<UNIT
[Unit]
Description=Portcullis lab test server (reports the peer it saw)
After=network-online.target

[Service]
Environment=LAB_CERT_DIR=/etc/portcullis-lab
ExecStart=/usr/bin/node $LAB/server.mjs
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now portcullis-lab-server.service ;;
*) echo "provision: unknown role $ROLE" >&2; exit 2 ;;
esac
echo "provision: $ROLE done"
