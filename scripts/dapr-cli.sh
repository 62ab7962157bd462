#!/usr/bin/env bash
# Prints the path of a Dapr CLI of version 1.12, which `make run` uses for
# `dapr run -f .`:
#   1. $DAPR_CLI, when set;
#   2. `dapr` on the PATH, when it is CLI 1.12.x;
#   3. a build from the Go module proxy, cached in
#      ${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin/dapr-1.12.0-go1.27.3
#      (built by tools/dapr-cli on first use, about 3 minutes on 2 cores),
#      named after the Go that built it: one built with Go 1.26.8 carries
#      that standard library's known vulnerabilities.
# The CLI's own dependencies have known vulnerabilities that no served CLI
# fixes; it is a local development tool only (README, "Supply chain").
# v1.12.0 is the newest CLI release the Go module proxy here serves whole.
# Progress and errors go to stderr; stdout carries only the path.
set -euo pipefail
# Go 1.27.3, whose standard library fixes 1.26.8's known vulnerabilities
# (the Makefile says more); exported here too for runs by hand.
export GOTOOLCHAIN=go1.27.3

version=1.12.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin
say() { printf 'dapr-cli.sh: %s\n' "$*" >&2; }

# reports_version BINARY: does BINARY say it is the Dapr CLI 1.12.x?
# The whole answer is read before matching it: grep -q stops reading at the
# first line, and under pipefail the CLI's SIGPIPE on the next one would
# fail the check now and then (as it did tofu's in validate-terraform.sh).
reports_version() { grep -q '^CLI version: 1\.12\.' <<<"$("$1" --version 2>/dev/null)"; }

if [[ -n "${DAPR_CLI:-}" ]]; then
	if [[ ! -x "$DAPR_CLI" ]]; then
		say "DAPR_CLI=$DAPR_CLI is not an executable file; unset DAPR_CLI to use or build the Dapr CLI $version"
		exit 1
	fi
	echo "$DAPR_CLI"
	exit 0
fi

if installed=$(command -v dapr) && reports_version "$installed"; then
	echo "$installed"
	exit 0
fi

cached=$cache/dapr-$version-$GOTOOLCHAIN
if [[ -x $cached ]] && reports_version "$cached"; then
	echo "$cached"
	exit 0
fi

if ! command -v go >/dev/null; then
	say "no Dapr CLI $version found and no Go toolchain to build one; install Go 1.26 or later (the build takes Go 1.27.3 from the module proxy) or set DAPR_CLI"
	exit 1
fi
mkdir -p "$cache"
exec 9>"$cache/.dapr-$version.lock"
flock 9
if [[ -x $cached ]] && reports_version "$cached"; then
	echo "$cached"
	exit 0
fi
say "building the Dapr CLI $version from the Go module proxy, about 3 minutes, cached afterwards in $cached"
tmp=$(mktemp -d "$cache/.dapr-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
(
	cd "$root/tools/dapr-cli"
	# Static, like Dapr's own release builds, and no C compiler needed.
	GOWORK=off CGO_ENABLED=0 go build -ldflags "-X main.version=$version -X main.apiVersion=1.0" \
		-o "$tmp/dapr" github.com/dapr/cli
)
if ! reports_version "$tmp/dapr"; then
	say "the build in tools/dapr-cli did not produce a CLI that reports version $version"
	exit 1
fi
mv "$tmp/dapr" "$cached"
say "built the Dapr CLI $version in $((SECONDS - start))s"
echo "$cached"
