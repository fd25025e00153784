# render-bridge-rules.sh - sourced by bridge.sh and bypass.sh: `render ARGS…` runs the rule renderer
# (src/platform/render-cli.ts), from the build in dist/ when there is one, else from source via tsx.
PORTCULLIS_REPO=${PORTCULLIS_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
render() {
  if [ -f "$PORTCULLIS_REPO/dist/src/platform/render-cli.js" ]; then
    node "$PORTCULLIS_REPO/dist/src/platform/render-cli.js" "$@"
  else
    (cd "$PORTCULLIS_REPO" && node --import tsx src/platform/render-cli.ts "$@")
  fi
}
