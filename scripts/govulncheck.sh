#!/usr/bin/env bash
# The vulnerability check of make lint (and so of CI), make vuln alone:
#   scripts/govulncheck.sh MODULE...
# runs govulncheck v1.9.0
#   - in source mode over each MODULE (the Makefile passes the services, the
#     coordinators, the backlog exporter, trace and the end-to-end module),
#     tests included, with the build tags make lint vets (brokers,bench), as
#     images build them (GOWORK=off): the vulnerable code their code calls;
#   - in binary mode over the Dapr binaries the project runs: daprd
#     (scripts/daprd.sh --built) and placement and scheduler
#     (scripts/dapr-control-plane.sh --built), built here from the Go module
#     proxy: the vulnerable code linked into them;
# then tools/vulncheck judges the reports: any vulnerability reached fails
# the check, except those tools/vulncheck/allowlist names for that target
# with the reason it cannot reach users (findings with no fixed version
# served; README "Supply chain"). It prints a summary on stdout.
#
# govulncheck's online database (vuln.go.dev) is not reachable here. The Go
# module proxy serves golang.org/x/vulndb, whose cmd/indexdb turns its
# data/osv into the database govulncheck reads with -db file://DIR: built
# once and cached in ${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/vulndb-<version>
# (under a minute once the module is downloaded). govulncheck itself is built
# from tools/vulncheck (which pins it) with the Go it checks with, and cached
# in .../bin/govulncheck-<version>-<go>: built with an older Go it cannot
# load a newer standard library. A newer database: a newer vulndb_version
# below (`go list -m -versions golang.org/x/vulndb`), then mend what it finds.
# Progress and errors go to stderr.
set -euo pipefail

# Go 1.27.3 (see the Makefile): the standard library's findings are judged
# for the Go the modules build with.
export GOTOOLCHAIN=go1.27.3

govulncheck_version=1.9.0
vulndb_version=v0.0.0-20261105234957-e22db6528018
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography
say() { printf 'govulncheck.sh: %s\n' "$*" >&2; }

if (($# == 0)); then
	say "usage: scripts/govulncheck.sh MODULE... (make vuln passes every module)"
	exit 2
fi
if ! command -v go >/dev/null; then
	say "no Go toolchain; install Go 1.26 or later (the check takes Go $GOTOOLCHAIN from the module proxy)"
	exit 1
fi
go_version=$(go env GOVERSION)
mkdir -p "$cache/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One build of each at a time (parallel make, CI); each appears whole or
# not at all: built in a temporary directory, then renamed.
exec 9>"$cache/.govulncheck.lock"
flock 9

govulncheck=$cache/bin/govulncheck-$govulncheck_version-$go_version
if [[ ! -x $govulncheck ]]; then
	say "building govulncheck $govulncheck_version with $go_version, cached afterwards in $govulncheck"
	start=$SECONDS
	(cd "$root/tools/vulncheck" && GOWORK=off CGO_ENABLED=0 go build -o "$work/govulncheck" golang.org/x/vuln/cmd/govulncheck)
	mv "$work/govulncheck" "$govulncheck"
	say "built govulncheck in $((SECONDS - start))s"
fi
# Read the whole answer before matching it: grep -q would stop reading at
# the match, and under pipefail the scanner's SIGPIPE fails the check.
if ! grep -q "^Scanner: govulncheck@v$govulncheck_version\$" <<<"$("$govulncheck" -version)"; then
	say "$govulncheck does not say it is govulncheck v$govulncheck_version; delete it to build it again"
	exit 1
fi

db=$cache/vulndb-$vulndb_version
if [[ ! -f $db/index/db.json ]]; then
	say "building the vulnerability database from golang.org/x/vulndb@$vulndb_version, cached afterwards in $db"
	start=$SECONDS
	# go mod download -json prints where the module's files are.
	src=$(cd "$work" && GOWORK=off go mod download -json "golang.org/x/vulndb@$vulndb_version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	if [[ -z $src || ! -d $src/data/osv ]]; then
		say "go mod download golang.org/x/vulndb@$vulndb_version gave no folder with data/osv"
		exit 1
	fi
	(cd "$src" && GOWORK=off go run ./cmd/indexdb -vulns data/osv -out "$work/vulndb")
	rm -rf "$db"
	mv "$work/vulndb" "$db"
	say "built the database ($(find "$db/ID" -name '*.json' | wc -l) vulnerabilities) in $((SECONDS - start))s"
fi
flock -u 9

# The Dapr binaries: built on first use (minutes), then cached.
daprd=$("$root/scripts/daprd.sh" --built)
controlplane=$("$root/scripts/dapr-control-plane.sh" --built)

# The judge, first held to its own tests.
(cd "$root/tools/vulncheck" && GOWORK=off go test -count=1 -timeout 2m . >&2 && GOWORK=off go build -o "$work/vulncheck" .)

reports=()
start=$SECONDS
i=0
for m in "$@"; do
	i=$((i + 1))
	say "$m (source, $go_version)"
	(cd "$root/$m" && GOWORK=off "$govulncheck" -db "file://$db" -format json -test -tags brokers,bench ./... >"$work/$i.json")
	reports+=("$m=$work/$i.json")
done
for bin in "daprd=$daprd" "placement=$controlplane/placement" "scheduler=$controlplane/scheduler"; do
	i=$((i + 1))
	say "${bin%%=*} (binary ${bin#*=})"
	"$govulncheck" -db "file://$db" -format json -mode binary "${bin#*=}" >"$work/$i.json"
	reports+=("${bin%%=*}=$work/$i.json")
done
say "scanned ${#reports[@]} targets in $((SECONDS - start))s"

"$work/vulncheck" -allow "$root/tools/vulncheck/allowlist" "${reports[@]}"
