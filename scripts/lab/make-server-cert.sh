#!/bin/bash
# make-server-cert.sh DIR - a self-signed certificate for the lab server (both server addresses as SANs),
# generated at lab start, never committed. Writes DIR/server.crt and DIR/server.key.
set -euo pipefail
. "$(dirname "$0")/addresses.sh"
DIR=${1:?usage: make-server-cert.sh DIR}
mkdir -p "$DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
  -subj "/CN=portcullis-lab-server" \
  -addext "subjectAltName=DNS:server.lab,IP:$SERVER_IP,IP:$SERVER_IP_UNPROTECTED,IP:$SERVER_IP6,IP:$SERVER_IP6_UNPROTECTED" \
  -keyout "$DIR/server.key" -out "$DIR/server.crt" 2>/dev/null
