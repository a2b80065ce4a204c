#!/usr/bin/env bash
# Smoke test of the tools in .tools/bin: start etcd and kube-apiserver on
# loopback ports with throw-away certificates, wait for /readyz, run
#   kubectl get ns; kubectl create namespace smoke
# and stop everything. Prints how long each step took.
#
#   tools/build.sh kube-apiserver etcd && tools/smoke-control-plane.sh
#
# KEEP=1 leaves the working directory (certs, kubeconfig, logs) in place.
set -euo pipefail

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo_dir/.tools/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/castellan-cp.XXXXXX")
pids=()
cleanup() {
  local i t=$(date +%s%3N)
  # apiserver first, then etcd (an apiserver whose etcd is gone takes ~10 s to stop).
  for (( i = ${#pids[@]} - 1; i >= 0; i-- )); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  echo "smoke: stopped in $(( $(date +%s%3N) - t )) ms"
  if [[ ${KEEP:-0} == 1 ]]; then echo "smoke: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Three free loopback ports (etcd client, etcd peer, apiserver).
read -r etcd_port peer_port api_port < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')

now_ms() { date +%s%3N; }

# --- certificates -----------------------------------------------------------
cd "$work"
openssl_quiet() { openssl "$@" 2>/dev/null; }
openssl_quiet req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=castellan-test-ca" -keyout ca.key -out ca.crt
issue() { # name subject extensions
  openssl_quiet req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "$2" -keyout "$1.key" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl_quiet x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 2 -extfile "$1.ext" -out "$1.crt"
}
issue apiserver "/CN=kube-apiserver" \
  "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature"
issue admin "/O=system:masters/CN=castellan-admin" \
  "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
openssl_quiet genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
openssl_quiet pkey -in sa.key -pubout -out sa.pub

# --- etcd -------------------------------------------------------------------
t0=$(now_ms)
"$bin/etcd" \
  --name smoke \
  --data-dir "$work/etcd-data" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "smoke=http://127.0.0.1:$peer_port" \
  --unsafe-no-fsync \
  --log-level warn \
  >"$work/etcd.log" 2>&1 &
pids+=($!)
until curl -fsS "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1; do
  kill -0 "${pids[0]}" 2>/dev/null || { echo "smoke: etcd exited"; cat "$work/etcd.log"; exit 1; }
  (( $(now_ms) - t0 < 30000 )) || { echo "smoke: etcd not healthy after 30 s"; tail -20 "$work/etcd.log"; exit 1; }
  sleep 0.1
done
echo "smoke: etcd healthy on 127.0.0.1:$etcd_port after $(( $(now_ms) - t0 )) ms"

# --- kube-apiserver ---------------------------------------------------------
t0=$(now_ms)
"$bin/kube-apiserver" \
  --bind-address 127.0.0.1 \
  --advertise-address 127.0.0.1 \
  --secure-port "$api_port" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --tls-cert-file "$work/apiserver.crt" \
  --tls-private-key-file "$work/apiserver.key" \
  --client-ca-file "$work/ca.crt" \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$work/sa.pub" \
  --service-account-signing-key-file "$work/sa.key" \
  --service-cluster-ip-range 10.0.0.0/24 \
  --authorization-mode RBAC \
  --endpoint-reconciler-type none \
  >"$work/apiserver.log" 2>&1 &
pids+=($!)
api="https://127.0.0.1:$api_port"
curl_api() { curl -fsS --cacert "$work/ca.crt" --cert "$work/admin.crt" --key "$work/admin.key" "$@"; }
until [[ $(curl_api "$api/readyz" 2>/dev/null) == ok ]]; do
  kill -0 "${pids[1]}" 2>/dev/null || { echo "smoke: kube-apiserver exited"; tail -40 "$work/apiserver.log"; exit 1; }
  (( $(now_ms) - t0 < 120000 )) || { echo "smoke: /readyz not ok after 120 s"; curl_api "$api/readyz?verbose" || true; tail -40 "$work/apiserver.log"; exit 1; }
  sleep 0.1
done
echo "smoke: kube-apiserver /readyz ok on $api after $(( $(now_ms) - t0 )) ms"

# --- kubectl ----------------------------------------------------------------
cat > "$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: smoke
  cluster:
    server: $api
    certificate-authority: $work/ca.crt
users:
- name: admin
  user:
    client-certificate: $work/admin.crt
    client-key: $work/admin.key
contexts:
- name: smoke
  context: {cluster: smoke, user: admin}
current-context: smoke
EOF
export KUBECONFIG="$work/kubeconfig"
kubectl=kubectl
[[ -x $bin/kubectl ]] && kubectl="$bin/kubectl"   # tools/build.sh kubectl: same release as the server
"$kubectl" get ns
"$kubectl" create namespace smoke
"$kubectl" get ns smoke -o name
"$kubectl" auth whoami 2>/dev/null || true
echo "smoke: ok"
