#!/usr/bin/env bash
# Prints the path of a daprd (the Dapr sidecar) of version 1.17.5 or a later
# 1.17 patch, the runtime this project pins (1.17.0 to 1.17.4 have
# GO-2026-5242, a service invocation ACL bypass), with the NATS JetStream
# pub/sub (make test-brokers):
#   1. $DAPRD, when set;
#   2. ~/.dapr/bin/daprd, when `dapr init` installed 1.17.5 or later there;
#   3. a build from the Go module proxy, cached in
#      ${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin/daprd-1.17.5-jetstream-sqlite-go1.27.3-<key>
#      (built by tools/daprd on first use, about 5 minutes on 2 cores): Dapr's
#      stable components plus pubsub.jetstream and the SQLite name resolver
#      (each e2e system resolves its own app ids), see tools/daprd/main.go.
#      The name says the Go that built it (a daprd built with Go 1.26.8
#      carries that standard library's vulnerabilities) and a hash of
#      tools/daprd (its go.mod pins dependencies newer than Dapr's own where
#      those have known vulnerabilities), so a change of either builds a new
#      daprd instead of using one built before it.
# With --built it skips 1 and 2: the vulnerability check (scripts/govulncheck.sh)
# scans the daprd this repository builds, whatever is installed.
# Progress and errors go to stderr; stdout carries only the path.
set -euo pipefail
# Go 1.27.3, whose standard library fixes 1.26.8's known vulnerabilities
# (the Makefile says more); exported here too for runs by hand.
export GOTOOLCHAIN=go1.27.3

version=1.17.5
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin
say() { printf 'daprd.sh: %s\n' "$*" >&2; }

# reports_version BINARY: does BINARY say it is daprd 1.17.5 or a later 1.17?
reports_version() {
	local v
	v=$("$1" --version 2>/dev/null || true)
	[[ $v =~ ^1\.17\.([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 5))
}

built_only=false
if [[ ${1:-} == --built ]]; then
	built_only=true
fi

if [[ -n "${DAPRD:-}" ]] && ! $built_only; then
	if [[ ! -x "$DAPRD" ]]; then
		say "DAPRD=$DAPRD is not an executable file; unset DAPRD to use or build daprd $version"
		exit 1
	fi
	reports_version "$DAPRD" || say "warning: DAPRD=$DAPRD does not report version 1.17.5 or a later 1.17; using it anyway"
	echo "$DAPRD"
	exit 0
fi

installed=$HOME/.dapr/bin/daprd
if ! $built_only && [[ -x $installed ]] && reports_version "$installed"; then
	echo "$installed"
	exit 0
fi

key=$(cd "$root/tools/daprd" && cat go.mod go.sum main.go | sha256sum | cut -c1-12)
cached=$cache/daprd-$version-jetstream-sqlite-$GOTOOLCHAIN-$key
if [[ -x $cached ]] && reports_version "$cached"; then
	echo "$cached"
	exit 0
fi

if ! command -v go >/dev/null; then
	say "no daprd $version found and no Go toolchain to build one; install Go 1.26 or later (the build takes Go 1.27.3 from the module proxy) or set DAPRD"
	exit 1
fi
mkdir -p "$cache"
# One build at a time (parallel make, CI), and the binary appears whole or
# not at all: built in a temporary directory, then renamed.
exec 9>"$cache/.daprd-$version.lock"
flock 9
if [[ -x $cached ]] && reports_version "$cached"; then
	echo "$cached"
	exit 0
fi
say "building daprd $version from the Go module proxy, about 5 minutes, cached afterwards in $cached"
tmp=$(mktemp -d "$cache/.daprd-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
(
	cd "$root/tools/daprd"
	# Static, like Dapr's own release builds, and no C compiler needed.
	GOWORK=off CGO_ENABLED=0 go build -tags stablecomponents \
		-ldflags "-X github.com/dapr/dapr/pkg/buildinfo.version=$version" \
		-o "$tmp/daprd" .
)
if ! reports_version "$tmp/daprd"; then
	say "the build in tools/daprd did not produce a daprd that reports version $version"
	exit 1
fi
mv "$tmp/daprd" "$cached"
say "built daprd $version in $((SECONDS - start))s"
echo "$cached"
