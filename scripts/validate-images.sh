#!/usr/bin/env bash
# Checks the services' Dockerfiles without a container engine: the test in
# deploy/images runs BuildKit's Dockerfile linter (the rules behind
# `docker build --check`, experimental ones included) on each
# services/*/Dockerfile, with an offline stand-in for the registry, and
# checks the rules the deployments rely on (static GOWORK=off build,
# distroless runtime as a numeric non-root user, the service's port, a
# HEALTHCHECK the binary answers, COPY sources present and not ignored).
#
# deploy/images is a module of its own, outside go.work (BuildKit's
# dependencies stay away from the services), so it runs with GOWORK=off.
# Extra arguments go to `go test` (e.g. -v). Always -count=1: the test reads
# files outside its module (services/*/Dockerfile, .dockerignore,
# docs/conventions.md), and Go's test cache does not notice when they change
# (measured: a broken Dockerfile passed from the cache). go vet and
# staticcheck run in `make lint`.
set -euo pipefail
# Go 1.27.3, whose standard library fixes 1.26.8's known vulnerabilities
# (the Makefile says more); exported here too for runs by hand.
export GOTOOLCHAIN=go1.27.3

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root/deploy/images"
GOWORK=off go test -count=1 "$@" ./...
