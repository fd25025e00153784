# addresses.sh - the lab's topology and addresses, shared by the netns lab (up.sh) and the Vagrant lab
# (vagrant/Vagrantfile provisions with the same provision-*.sh scripts). Source it.
#
#   client 10.10.0.2 ── router 10.10.0.1 | 10.20.0.1 ── [ext0  gateway: br0 (10.20.0.254)  int0] ── server 10.20.0.10 (protected)
#                                                                                                     + 10.20.0.11 (unprotected)
# IPv6 mirrors it: fd00:10::/64 on the client side, fd00:20::/64 behind the router.
CLIENT_IP=10.10.0.2
CLIENT_IP6=fd00:10::2
ROUTER_CLIENT_IP=10.10.0.1
ROUTER_CLIENT_IP6=fd00:10::1
ROUTER_SERVER_IP=10.20.0.1
ROUTER_SERVER_IP6=fd00:20::1
GATEWAY_IP=10.20.0.254
GATEWAY_IP6=fd00:20::254
SERVER_IP=10.20.0.10
SERVER_IP6=fd00:20::10
SERVER_IP_UNPROTECTED=10.20.0.11
SERVER_IP6_UNPROTECTED=fd00:20::11
CLIENT_NET=10.10.0.0/24
CLIENT_NET6=fd00:10::/64
SERVER_NET=10.20.0.0/24
SERVER_NET6=fd00:20::/64
