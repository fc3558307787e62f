#!/usr/bin/env bash
# Builds Ory Hydra from the Go module proxy and caches the binary by version,
# so a second run does not rebuild. Prints the binary's path.
#
# `go install` refuses Hydra's go.mod (it has replace directives), so: download
# the module, copy it out of the read-only module cache, drop the replace of
# hydra-client-go/v2 that points at the nested internal/httpclient module (the
# zip leaves it out; the published v2 module satisfies it), keep the pop/v6 one,
# and build with the sqlite tags from Hydra's own Makefile (cgo on).
set -euo pipefail
version="${HYDRA_VERSION:-v2.3.0}"
cache="${DCRCTL_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dcrctl-test}"
bin="$cache/hydra-$version/hydra"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"
exec 9>"$cache/hydra.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
dir=$(go mod download -json "github.com/ory/hydra/v2@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "build-hydra: go mod download gave no module folder" >&2; exit 1; }
src=$(mktemp -d "$cache/hydra-src.XXXXXX")
trap 'rm -rf "$src"' EXIT
cp -r "$dir/." "$src/"
chmod -R u+w "$src"
cd "$src"
go mod edit -dropreplace=github.com/ory/hydra-client-go/v2
echo "build-hydra: building Hydra $version (about 2-3 minutes cold)" >&2
CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath -tags sqlite,sqlite_omit_load_extension -o "$src/hydra.bin" .
mkdir -p "$(dirname "$bin")"
mv "$src/hydra.bin" "$bin"
echo "$bin"
