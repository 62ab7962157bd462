// Pinned govulncheck, and the gate that judges what it finds (main.go): the
// vulnerability check of make lint, run by scripts/govulncheck.sh.
// `go install golang.org/x/vuln/cmd/govulncheck@v1.9.0` would build the same
// version; a module pins its dependencies' hashes in go.sum as well.
module github.com/ride-choreography/tools/vulncheck

go 1.26.0

toolchain go1.27.3

tool golang.org/x/vuln/cmd/govulncheck

require github.com/google/go-cmp v0.7.0

require (
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/telemetry v0.0.0-20261010193011-f71dc92da45e // indirect
	golang.org/x/tools v0.52.0 // indirect
	golang.org/x/vuln v1.9.0 // indirect
)
