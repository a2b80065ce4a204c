#!/usr/bin/env bash
# Pin k8s.io/kubernetes (and etcd at the version it pins) in tools/kube/go.mod
# and rewrite the k8s.io/* staging `replace` lines from that release's go.mod.
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, apiserver, ...)
# at v0.0.0 and maps them to ./staging/src/... with `replace`; replace lines in
# a dependency are ignored, so a consumer must map each of them to the
# published v0.<minor>.<patch> tag itself. This script does that.
#
# usage: tools/kube/sync-replaces.sh v1.37.2      # then: go mod tidy; tools/build.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

kver=${1:?usage: $0 vMAJOR.MINOR.PATCH (a k8s.io/kubernetes release)}
[[ $kver =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "not a release version: $kver" >&2; exit 1; }
sver="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

modfile=$(go mod download -json "k8s.io/kubernetes@$kver" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[[ -f $modfile ]] || { echo "could not download k8s.io/kubernetes@$kver" >&2; exit 1; }

# Drop every k8s.io/* replace we wrote before (the set changes between releases).
for m in $(go mod edit -json | awk '/^\t"/{r = /"Replace":/} r && /"Path": "k8s.io\//{gsub(/[",]/,"",$2); print $2}' | sort -u); do
  go mod edit -dropreplace="$m"
done

# Every `k8s.io/X => ./staging/src/k8s.io/X` line upstream becomes `k8s.io/X => k8s.io/X vSVER`.
mods=$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$modfile" | sort -u)
# etcd: build the server at the version the release pins (its go.mod requires
# go.etcd.io/etcd/server/v3 indirectly, through the apiserver's etcd tests/tools).
etcdver=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' "$modfile")
go mod edit -require="k8s.io/kubernetes@$kver" ${etcdver:+-require="go.etcd.io/etcd/server/v3@$etcdver"}
{
  echo
  echo "// Written by sync-replaces.sh from k8s.io/kubernetes@$kver's go.mod."
  echo "replace ("
  for m in $mods; do printf '\t%s => %s %s\n' "$m" "$m" "$sver"; done
  echo ")"
} >> go.mod
go mod edit -fmt
echo "k8s.io/kubernetes $kver: $(wc -w <<<"$mods") staging modules -> $sver, etcd server ${etcdver:-unchanged}; now run: go mod tidy" >&2
