#!/usr/bin/env bash
# Build the Go test tools (kube-apiserver, etcd, kube-controller-manager,
# kubectl, nats-server, helm, opa) from the pinned modules under tools/ into
# <repo>/.tools/bin.
#
#   tools/build.sh                      # all tools
#   tools/build.sh kube-apiserver etcd  # only these
#
# Binaries are cached per tool module in
#   ${CASTELLAN_TOOLS_CACHE:-$HOME/.cache/castellan-tools}/<module>-<key>/
# where <key> hashes that module's go.mod, go.sum and *.go files, this script
# and the Go version. A cache hit only links/copies the binary (well under a
# second); a miss runs `go build` (minutes for kube-apiserver on 2 cores).
# See tools/README.md.
set -euo pipefail

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$tools_dir/.." && pwd)
bin_dir="$repo_dir/.tools/bin"
cache_root="${CASTELLAN_TOOLS_CACHE:-$HOME/.cache/castellan-tools}"

all_tools=(kube-apiserver etcd kube-controller-manager kubectl nats-server helm opa)

# tool -> "module-dir|go package|module whose version is the tool's version"
spec() {
  case $1 in
    kube-apiserver) echo "kube|k8s.io/kubernetes/cmd/kube-apiserver|k8s.io/kubernetes" ;;
    etcd)           echo "kube|./cmd/etcd|go.etcd.io/etcd/server/v3" ;;
    kube-controller-manager) echo "kube|k8s.io/kubernetes/cmd/kube-controller-manager|k8s.io/kubernetes" ;;
    kubectl)        echo "kube|k8s.io/kubernetes/cmd/kubectl|k8s.io/kubernetes" ;;
    nats-server)    echo "nats|github.com/nats-io/nats-server/v2|github.com/nats-io/nats-server/v2" ;;
    helm)           echo "helm|helm.sh/helm/v4/cmd/helm|helm.sh/helm/v4" ;;
    opa)            echo "opa|github.com/open-policy-agent/opa|github.com/open-policy-agent/opa" ;;
    *) return 1 ;;
  esac
}

# The required version of module $2 in go.mod $1 (require lines only, not replace).
mod_version() {
  awk -v m="$2" '
    /^require[[:space:]]*\(/ { blk = 1; next }
    blk && /^\)/             { blk = 0; next }
    blk && $1 == m           { print $2; exit }
    /^require[[:space:]]/ && $2 == m { print $3; exit }
  ' "$1"
}

# Extra -ldflags that stamp the version into binaries that do not carry it in code.
version_ldflags() {
  local tool=$1 ver=$2
  case $tool in
    kube-apiserver | kube-controller-manager | kubectl)
      local mm=${ver#v}; local major=${mm%%.*}; mm=${mm#*.}; local minor=${mm%%.*} pkg
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        echo "-X $pkg.gitVersion=$ver -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor" \
             "-X $pkg.gitTreeState=clean"
      done ;;
    helm)
      echo "-X helm.sh/helm/v4/internal/version.version=$ver" \
           "-X helm.sh/helm/v4/internal/version.gitTreeState=clean" ;;
  esac
}

go_version=""
cache_key() {
  local mod_dir=$1
  if [[ -z $go_version ]]; then
    go_version=$(go env GOVERSION GOOS GOARCH | tr '\n' ' ')
  fi
  {
    echo "$go_version"
    cat "$tools_dir/build.sh"
    (cd "$mod_dir" && find . -name '*.go' -o -name go.mod -o -name go.sum | LC_ALL=C sort |
      while read -r f; do echo "== $f"; cat "$f"; done)
  } | sha256sum | cut -c1-16
}

# Link (or, across filesystems, copy) $1 to $2 unless it is already there.
install_bin() {
  local src=$1 dst=$2
  [[ $dst -ef $src ]] && return 0
  rm -f "$dst"
  ln "$src" "$dst" 2>/dev/null || cp "$src" "$dst"
}

if [[ $# -eq 0 ]]; then set -- "${all_tools[@]}"; fi
for t in "$@"; do
  spec "$t" >/dev/null || { echo "tools: unknown tool '$t' (known: ${all_tools[*]})" >&2; exit 2; }
done

mkdir -p "$bin_dir"
for tool in "$@"; do
  IFS='|' read -r mod pkg vermod <<<"$(spec "$tool")"
  mod_dir="$tools_dir/$mod"
  ver=$(mod_version "$mod_dir/go.mod" "$vermod")
  [[ -n $ver ]] || { echo "tools: $vermod not found in $mod_dir/go.mod" >&2; exit 1; }
  cache_dir="$cache_root/$mod-$(cache_key "$mod_dir")"
  cached="$cache_dir/$tool"

  if [[ -x $cached ]]; then
    install_bin "$cached" "$bin_dir/$tool"
    echo "tools: $tool $ver (cached)"
    continue
  fi

  echo "tools: building $tool $ver in $cache_dir ..." >&2
  mkdir -p "$cache_dir"
  tmp="$cache_dir/.$tool.tmp.$$"
  trap 'rm -f "$tmp"' EXIT
  start=$(date +%s)
  (cd "$mod_dir" &&
    CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false \
      -ldflags "-s -w $(version_ldflags "$tool" "$ver")" -o "$tmp" "$pkg")
  chmod 0555 "$tmp"
  mv -f "$tmp" "$cached"
  trap - EXIT
  install_bin "$cached" "$bin_dir/$tool"
  echo "tools: $tool $ver (built in $(( $(date +%s) - start )) s)"
done
