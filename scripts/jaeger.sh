#!/usr/bin/env bash
# Prints the path of a Jaeger v2 binary (the trace backend of make run and
# of the end-to-end tracing test), version 1.76.0:
#   1. $JAEGER, when set;
#   2. a build from the Go module proxy, cached in
#      ${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin/jaeger-1.76.0
#      (built by tools/jaeger on first use, about 6 minutes on 2 cores and
#      1.3 GB of modules; then instant).
# Run it with: "$(scripts/jaeger.sh)" --config tools/jaeger/config.yaml
# (OTLP in on 127.0.0.1:4317, the query API on 127.0.0.1:16686).
# The Go module carries no UI assets: its web UI is a placeholder, and
# make trace TRIP=<id> reads a trace from the query API instead.
# Progress and errors go to stderr; stdout carries only the path.
set -euo pipefail
# Go 1.27.3, whose standard library fixes 1.26.8's known vulnerabilities
# (the Makefile says more); exported here too for runs by hand.
export GOTOOLCHAIN=go1.27.3

version=1.76.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin
say() { printf 'jaeger.sh: %s\n' "$*" >&2; }

if [[ -n "${JAEGER:-}" ]]; then
	if [[ ! -x "$JAEGER" ]]; then
		say "JAEGER=$JAEGER is not an executable file; unset JAEGER to use or build Jaeger $version"
		exit 1
	fi
	echo "$JAEGER"
	exit 0
fi

cached=$cache/jaeger-$version
if [[ -x $cached ]]; then
	echo "$cached"
	exit 0
fi

if ! command -v go >/dev/null; then
	say "no Jaeger $version found and no Go toolchain to build one; install Go 1.26 or later (the build takes Go 1.27.3 from the module proxy) or set JAEGER"
	exit 1
fi
mkdir -p "$cache"
# One build at a time (parallel make, CI), and the binary appears whole or
# not at all: built in a temporary directory, then renamed.
exec 9>"$cache/.jaeger-$version.lock"
flock 9
if [[ -x $cached ]]; then
	echo "$cached"
	exit 0
fi
say "building Jaeger $version from the Go module proxy, about 6 minutes, cached afterwards in $cached"
tmp=$(mktemp -d "$cache/.jaeger-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
(
	cd "$root/tools/jaeger"
	GOWORK=off CGO_ENABLED=0 go build -o "$tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
)
mv "$tmp/jaeger" "$cached"
say "built Jaeger $version in $((SECONDS - start))s"
echo "$cached"
