#!/usr/bin/env bash
# Validates docker-compose.yml with the real Docker Compose CLI:
# `docker-compose config --quiet` loads, interpolates and checks the file
# against the Compose specification as `docker compose up` would, and needs
# no container engine. The structure (a sidecar per service, app ids, ports)
# is checked by test/compose_test.go.
#
#   scripts/validate-compose.sh [FILE]   FILE defaults to the repository's docker-compose.yml
#
# The CLI is Compose 5.6.0, built from the Go module proxy by tools/compose on
# first use (about 2 to 5 minutes on 2 cores) and cached in
# ${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin/docker-compose-5.6.0;
# DOCKER_COMPOSE=/path/to/docker-compose uses another one instead.
# Progress and errors go to stderr.
set -euo pipefail
# Go 1.27.3, whose standard library fixes 1.26.8's known vulnerabilities
# (the Makefile says more); exported here too for runs by hand.
export GOTOOLCHAIN=go1.27.3

version=5.6.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
file=${1:-$root/docker-compose.yml}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin
say() { printf 'validate-compose.sh: %s\n' "$*" >&2; }

# reports_version BINARY: does BINARY say it is Compose $version?
reports_version() { [[ "$("$1" version --short 2>/dev/null || true)" == "$version" ]]; }

# compose_binary prints the path of the Compose CLI to use, building it
# when it is not cached yet.
compose_binary() {
	if [[ -n "${DOCKER_COMPOSE:-}" ]]; then
		if [[ ! -x "$DOCKER_COMPOSE" ]]; then
			say "DOCKER_COMPOSE=$DOCKER_COMPOSE is not an executable file; unset it to use or build Compose $version"
			return 1
		fi
		echo "$DOCKER_COMPOSE"
		return 0
	fi
	local cached=$cache/docker-compose-$version
	if [[ -x $cached ]] && reports_version "$cached"; then
		echo "$cached"
		return 0
	fi
	if ! command -v go >/dev/null; then
		say "no Compose $version cached and no Go toolchain to build it; install Go 1.26 or later (the build takes Go 1.27.3 from the module proxy) or set DOCKER_COMPOSE"
		return 1
	fi
	mkdir -p "$cache"
	# One build at a time (parallel make, CI), and the binary appears whole
	# or not at all: built in a temporary directory, then renamed.
	exec 9>"$cache/.docker-compose-$version.lock"
	flock 9
	if [[ -x $cached ]] && reports_version "$cached"; then
		echo "$cached"
		return 0
	fi
	say "building Docker Compose $version from the Go module proxy, about 2 to 5 minutes, cached afterwards in $cached"
	local start=$SECONDS
	build_dir=$(mktemp -d "$cache/.docker-compose-build.XXXXXX")
	trap 'rm -rf "$build_dir"' EXIT
	(
		cd "$root/tools/compose"
		GOWORK=off CGO_ENABLED=0 go build -trimpath \
			-ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=v$version" \
			-o "$build_dir/docker-compose" github.com/docker/compose/v5/cmd
	)
	if ! reports_version "$build_dir/docker-compose"; then
		say "the build in tools/compose did not produce a docker-compose that reports version $version"
		return 1
	fi
	mv "$build_dir/docker-compose" "$cached"
	say "built Docker Compose $version in $((SECONDS - start))s"
	echo "$cached"
}

compose=$(compose_binary)
# The file takes the tokens from the environment and refuses to load
# without them (${VAR:?...}); check it with made-up ones, as a user who
# exported them would load it, and check that it does refuse without them.
if env -u APP_API_TOKEN -u DAPR_API_TOKEN "$compose" -f "$file" config --quiet 2>/dev/null; then
	say "$file loads without APP_API_TOKEN and DAPR_API_TOKEN; it must refuse"
	exit 1
fi
export APP_API_TOKEN=validate-app-token-0123456789 DAPR_API_TOKEN=validate-dapr-token-0123456789
# The file decides what is checked, not COMPOSE_* settings of the caller.
if ! env -u COMPOSE_FILE -u COMPOSE_PROFILES -u COMPOSE_PROJECT_NAME -u COMPOSE_ENV_FILES \
	"$compose" -f "$file" config --quiet; then
	say "$file is not a valid Compose file (see above)"
	exit 1
fi
say "$file: valid for Docker Compose $version"
# The other styles: override files on top of it (deploy/compose/), when no
# file was named.
if (($# == 0)); then
	for style in "$root"/deploy/compose/*.yml; do
		if ! env -u COMPOSE_FILE -u COMPOSE_PROFILES -u COMPOSE_PROJECT_NAME -u COMPOSE_ENV_FILES \
			"$compose" -f "$file" -f "$style" config --quiet; then
			say "$file with $style is not a valid Compose project (see above)"
			exit 1
		fi
		say "$file with ${style#"$root"/}: valid for Docker Compose $version"
	done
fi
