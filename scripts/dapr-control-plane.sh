#!/usr/bin/env bash
# Prints the folder that holds Dapr's placement and scheduler 1.17.5, which
# Dapr Workflow needs beside daprd (the workflow style: make run
# STYLE=workflow and its end-to-end tests):
#   1. $DAPR_CONTROL_PLANE, when set (a folder with placement and scheduler);
#   2. a build from the Go module proxy (tools/dapr-control-plane), cached in
#      ${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin/dapr-1.17.5-control-plane-go1.27.3-<key>
#      (about 5 minutes the first time on 2 cores, less once daprd's modules
#      are downloaded). The name says the Go that built them and a hash of
#      tools/dapr-control-plane, whose go.mod pins dependencies newer than
#      Dapr's own where those have known vulnerabilities: a change of either
#      builds them again.
# With --built it skips 1: the vulnerability check (scripts/govulncheck.sh)
# scans the binaries this repository builds.
# The scheduler needs github.com/diagridio/go-etcd-cron v0.12.3 in place of
# v0.12.4, which the proxy refuses. The checksum database does not know
# v0.12.3, so the build skips it for that one module (GONOSUMDB); go.sum in
# tools/dapr-control-plane pins the hash it was first built with.
# Progress and errors go to stderr; stdout carries only the folder.
set -euo pipefail
# Go 1.27.3, whose standard library fixes 1.26.8's known vulnerabilities
# (the Makefile says more); exported here too for runs by hand.
export GOTOOLCHAIN=go1.27.3

version=1.17.5
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin
say() { printf 'dapr-control-plane.sh: %s\n' "$*" >&2; }

if [[ -n "${DAPR_CONTROL_PLANE:-}" && ${1:-} != --built ]]; then
	if [[ ! -x "$DAPR_CONTROL_PLANE/placement" || ! -x "$DAPR_CONTROL_PLANE/scheduler" ]]; then
		say "DAPR_CONTROL_PLANE=$DAPR_CONTROL_PLANE holds no executable placement and scheduler"
		exit 1
	fi
	echo "$DAPR_CONTROL_PLANE"
	exit 0
fi

key=$(cd "$root/tools/dapr-control-plane" && cat go.mod go.sum | sha256sum | cut -c1-12)
dir=$cache/dapr-$version-control-plane-$GOTOOLCHAIN-$key
if [[ -x $dir/placement && -x $dir/scheduler ]]; then
	echo "$dir"
	exit 0
fi
if ! command -v go >/dev/null; then
	say "no Dapr placement and scheduler $version found and no Go toolchain to build them; install Go 1.26 or later (the build takes Go 1.27.3 from the module proxy) or set DAPR_CONTROL_PLANE"
	exit 1
fi
mkdir -p "$cache"
exec 9>"$cache/.dapr-control-plane-$version.lock"
flock 9
if [[ -x $dir/placement && -x $dir/scheduler ]]; then
	echo "$dir"
	exit 0
fi
say "building Dapr placement and scheduler $version from the Go module proxy, a few minutes, cached afterwards in $dir"
tmp=$(mktemp -d "$cache/.dapr-control-plane-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
(
	cd "$root/tools/dapr-control-plane"
	export GOWORK=off CGO_ENABLED=0 GONOSUMDB=github.com/diagridio/go-etcd-cron
	for cmd in placement scheduler; do
		go build -ldflags "-X github.com/dapr/dapr/pkg/buildinfo.version=$version" -o "$tmp/$cmd" "github.com/dapr/dapr/cmd/$cmd"
	done
)
mv "$tmp" "$dir"
trap - EXIT
say "built Dapr placement and scheduler $version in $((SECONDS - start))s"
echo "$dir"
