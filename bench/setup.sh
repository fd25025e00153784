#!/usr/bin/env bash
# Installs what the benchmarks need from Debian: wrk, nginx, the ModSecurity v3 nginx module and
# the OWASP CRS. The benchmarks start their own nginx instances (private config and prefix, loopback
# high ports), so the distro's nginx service is stopped and disabled: it would hold port 80 and
# compete for the CPU being measured. Idempotent. Run as root (or with sudo).
# Usage: bench/setup.sh
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

PKGS=(wrk nginx libnginx-mod-http-modsecurity modsecurity-crs)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/setup: installing ${missing[*]}"
  # Keep the nginx package from starting its service during installation (it would bind port 80,
  # and fail the install if something else holds it): policy-rc.d exit 101 = "action forbidden".
  # Only when no policy-rc.d exists, and removed again on exit.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Stop and disable the distro service whatever the init system (systemd, sysvinit, or none in a container).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx.service >/dev/null 2>&1 || true
else
  if [ -x /etc/init.d/nginx ]; then $SUDO /etc/init.d/nginx stop >/dev/null 2>&1 || true; fi
  if command -v update-rc.d >/dev/null; then $SUDO update-rc.d nginx disable >/dev/null 2>&1 || true; fi
fi
# A distro nginx started by hand (its pid file in /run) is stopped too; our own instances use private pid files.
if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
  $SUDO nginx -s quit 2>/dev/null || $SUDO kill "$(cat /run/nginx.pid)" || true
fi

for f in /usr/lib/nginx/modules/ngx_http_modsecurity_module.so /etc/nginx/modsecurity.conf \
         /etc/modsecurity/crs/crs-setup.conf /usr/share/modsecurity-crs/rules; do
  [ -e "$f" ] || { echo "bench/setup: $f is missing after installation" >&2; exit 1; }
done
echo "bench/setup: $(wrk --version 2>&1 | head -1 | sed 's/ Copyright.*//'), $(nginx -v 2>&1), ModSecurity module and CRS present"
echo "bench/setup: run the proxy benchmark with: npm run bench -- proxy"
