#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy for the Kubernetes
# state store's tests, caching both by version so a second run does not
# rebuild. Prints the folder that holds kube-apiserver and etcd.
#
# k8s.io/kubernetes's go.mod replaces each k8s.io/X with ./staging/src/k8s.io/X,
# which the module zip lacks: each replace is pointed at the published
# k8s.io/X of the matching v0 version instead (see ../shared/REFERENCES.md).
# etcd is a three-line main over go.etcd.io/etcd/server/v3's etcdmain.
set -euo pipefail
kube="${KUBE_VERSION:-v1.37.2}"
staging="v0.${kube#v1.}"
etcd="${ETCD_VERSION:-v3.7.3}"
cache="${DCRCTL_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dcrctl-test}"
out="$cache/kube-$kube-etcd-$etcd"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; then echo "$out"; exit 0; fi
mkdir -p "$cache"
exec 9>"$cache/kube.lock"
flock 9
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; then echo "$out"; exit 0; fi
work=$(mktemp -d "$cache/kube-src.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

if [ ! -x "$out/etcd" ]; then
  echo "build-kube: building etcd $etcd (about 1 minute cold)" >&2
  mkdir -p "$work/etcd" && cd "$work/etcd"
  cat > main.go <<'GO'
// etcd for dcrctl's tests: the server's own main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go mod init dcrctl-test-etcd >/dev/null 2>&1
  GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$etcd" >/dev/null 2>&1
  GOFLAGS=-mod=mod go build -trimpath -o "$out/etcd" .
fi

if [ ! -x "$out/kube-apiserver" ]; then
  echo "build-kube: building kube-apiserver $kube (about 4-5 minutes cold, 2.5 GB memory)" >&2
  dir=$(go mod download -json "k8s.io/kubernetes@$kube" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "build-kube: go mod download gave no module folder" >&2; exit 1; }
  cp -r "$dir/." "$work/kubernetes/" 2>/dev/null || { mkdir -p "$work/kubernetes" && cp -r "$dir/." "$work/kubernetes/"; }
  chmod -R u+w "$work/kubernetes"
  cd "$work/kubernetes"
  rm -f go.work go.work.sum
  # Each staging replace points at the published module of the same name;
  # one that is not published at that version is unused: dropped.
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/.*#\1#p' go.mod); do
    if go mod download "$m@$staging" >/dev/null 2>&1; then
      go mod edit -dropreplace="$m" -replace="$m=$m@$staging"
    else
      go mod edit -dropreplace="$m" -droprequire="$m"
    fi
  done
  GOFLAGS=-mod=mod go build -trimpath -o "$out/kube-apiserver" ./cmd/kube-apiserver
fi
echo "$out"
