#!/bin/sh
# Assembles the runtime tree of the Castellan image: what goes to /app, the image's WORKDIR, where
# the manifests run `node services/<name>/dist/main.js` and the reconciler its evaluators.
#
#   deploy/image/assemble.sh <built checkout> <dest>
#
# <built checkout> has run `npm ci && npm run build`. <dest> gets the root package.json and lock,
# for each runtime workspace (proto, packages/*, services/*) its package.json and dist/ (and the
# CLI's bin/), and production dependencies only, installed by `npm ci --omit=dev` from the lock, so
# that node_modules/@castellan/* link to the workspaces next to them. Nothing of test/, bench/,
# docs/, examples/ or a devDependency. The Containerfile runs this script; so does
# test/deploy/image.test.ts, which starts every entry point from the result.
set -eu

if [ "$#" -ne 2 ]; then
  echo "usage: $0 <built checkout> <dest>" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
dest=$2

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
if [ -n "$(ls -A "$dest")" ]; then
  echo "$0: $dest is not empty" >&2
  exit 2
fi

cp "$src/package.json" "$src/package-lock.json" "$dest/"

# The runtime workspaces: every directory of proto, packages/* and services/* with a package.json.
runtime=$(cd "$src" && ls -d proto packages/*/ services/*/ | sed 's:/$::')
for workspace in $runtime; do
  [ -f "$src/$workspace/package.json" ] || continue
  if [ ! -d "$src/$workspace/dist" ]; then
    echo "$0: $src/$workspace/dist is missing: run \`npm run build\` first" >&2
    exit 1
  fi
  mkdir -p "$dest/$workspace"
  cp "$src/$workspace/package.json" "$dest/$workspace/"
  cp -R "$src/$workspace/dist" "$dest/$workspace/"
  if [ -d "$src/$workspace/bin" ]; then cp -R "$src/$workspace/bin" "$dest/$workspace/"; fi
done

# The other workspaces (test policies, examples) are in the lock, so npm ci needs their
# package.json; they are removed once it is done.
others=$(cd "$dest" && node -e '
  const { workspaces } = JSON.parse(require("fs").readFileSync("package.json", "utf8"));
  for (const w of workspaces) if (!/^(proto|packages\/\*|services\/\*)$/.test(w)) console.log(w);
')
for workspace in $others; do
  mkdir -p "$dest/$workspace"
  cp "$src/$workspace/package.json" "$dest/$workspace/"
done

# --ignore-scripts: no lifecycle script runs (cbor-x's optional native extract ships prebuilt).
# --prefer-offline: from the npm cache when it has the packages.
(cd "$dest" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)

for workspace in $others; do
  name=$(cd "$dest" && node -p "require('./$workspace/package.json').name")
  rm -rf "${dest:?}/$workspace" "$dest/node_modules/$name"
done
# Empty parents of the removed workspaces (test/).
for workspace in $others; do
  parent=$(dirname "$workspace")
  if [ "$parent" != . ] && [ -d "$dest/$parent" ] && [ -z "$(ls -A "$dest/$parent")" ]; then
    rmdir "$dest/$parent"
  fi
done
rm -f "$dest/node_modules/.package-lock.json"
