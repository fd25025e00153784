#!/bin/bash
# bypass.sh - turn interception off and on again while the bridge keeps forwarding everything.
#
#   bypass.sh on     [-c FILE] [FLAGS]   empty the protected sets: nothing is intercepted (nor dropped
#                                        with failure: closed); the rules stay, flows keep bridging
#   bypass.sh off    [-c FILE] [FLAGS]   re-fill the sets from the configuration / flags
#   bypass.sh status [-c FILE] [FLAGS]   ON when every protected set is empty
#
# FLAGS as for bridge.sh (--servers, --ports, --table …). A `portcullis reload` re-fills the sets too.
set -euo pipefail
# the renderer (src/platform/render-cli.ts) is the source of truth for the rules
render() { node "$(dirname "$0")/../scripts/render-bridge-rules.mjs" "$@"; }

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
CMD=$1; shift
eval "$(render vars "$@")"
FAMILIES="inet"; [ "$DESIGN" = A ] && FAMILIES="bridge inet"

sets_of() { nft list table "$1" "$TABLE" 2>/dev/null | awk '$1 == "set" { print $2 }'; }
installed() { nft list table inet "$TABLE" >/dev/null 2>&1 || { echo "bypass: interception is not installed (table inet $TABLE); run bridge.sh up" >&2; exit 1; }; }

case "$CMD" in
on)
  installed
  batch=""
  for f in $FAMILIES; do for s in $(sets_of "$f"); do batch+="flush set $f $TABLE $s"$'\n'; done; done
  printf '%s' "$batch" | nft -f -
  echo "bypass: ON (sets of table $TABLE emptied; the bridge forwards everything)"
  ;;
off)
  installed
  render elements "$@" | nft -f -
  echo "bypass: OFF (interception restored)"
  ;;
status)
  installed
  total=0
  for f in $FAMILIES; do for s in $(sets_of "$f"); do
    n=$(nft list set "$f" "$TABLE" "$s" | awk '/elements = /{f=1} f' | grep -o ' \. [0-9]*' | wc -l || true)
    echo "   $f $TABLE $s: $n elements"; total=$((total + n))
  done; done
  if [ "$total" = 0 ]; then echo "bypass: ON"; else echo "bypass: OFF"; fi
  ;;
*) usage ;;
esac
