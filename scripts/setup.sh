#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (with Node.js >= 20.18.1) to run and test Portcullis:
# Debian packages, npm dependencies (native addons build from source), and the TypeScript build.
# Idempotent. Run as root (or with sudo available). Usage: ./scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need_node() {
  if ! command -v node >/dev/null; then
    echo "setup: Node.js is not installed; install Node.js 20 (>= 20.18.1) first" >&2; exit 1
  fi
  local v; v=$(node -p 'process.versions.node')
  node -e 'const [a,b,c]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&(b>18||(b===18&&c>=1)))?0:1)' \
    || { echo "setup: Node.js $v is too old; Portcullis needs >= 20.18.1" >&2; exit 1; }
}
need_node

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# Runtime: modsecurity-crs (the OWASP CRS rules), nftables/iptables/iproute2 (bridge and alias modes),
# libpcap/libnetfilter-queue (sniff mode and NFQUEUE). Build: a C++ toolchain for re2 and the other addons.
# Tests: openssl (certificates generated at test time), tcpdump, util-linux (setpriv), vagrant (`vagrant validate`).
PKGS=(build-essential python3 ca-certificates openssl curl
      modsecurity-crs nftables iptables iproute2 ethtool util-linux
      libpcap-dev libnetfilter-queue-dev tcpdump vagrant)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# node-gyp needs Node's headers; NodeSource's deb ships them in /usr/include/node, and this machine is offline
# for nodejs.org, so point node-gyp there instead of downloading.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

echo "setup: npm ci"
npm ci --no-audit --no-fund
echo "setup: build"
npm run build
echo "setup: done. Start the demo with: npm start"
