#!/usr/bin/env bash
# Sets up a checkout to run `castellan up`: Node 24 LTS (into .tools/node when the machine's Node is
# older), a nats-server 2.11 or newer (the one on PATH, else built from its Go module into
# .tools/bin), npm ci and the build. Safe to run again.
#
#   tools/setup.sh && export PATH="$PWD/.tools/node/bin:$PATH"
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

node_dir="$(tools/node.sh)"
if [ -n "$node_dir" ]; then export PATH="$node_dir:$PATH"; fi
echo "setup: node $(node --version)"

# castellan up takes a recent nats-server from PATH first; build one only when there is none.
recent_nats_on_path() {
  local version
  version="$(nats-server --version 2>/dev/null | sed -n 's/.*v\([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p')" || return 1
  [ -n "$version" ] || return 1
  set -- $version
  [ "$1" -gt 2 ] || { [ "$1" -eq 2 ] && [ "$2" -ge 11 ]; }
}
if recent_nats_on_path; then
  echo "setup: $(nats-server --version) from PATH"
elif command -v go >/dev/null; then
  tools/build.sh nats-server
else
  echo "setup: no nats-server 2.11+ on PATH and no Go to build one: install either, then run this again" >&2
  exit 1
fi

npm ci --no-audit --no-fund
npm run build
if [ -n "$node_dir" ]; then
  echo "setup: done. Node 24 is in .tools/node: run export PATH=\"$node_dir:\$PATH\" in your shell"
else
  echo "setup: done"
fi
