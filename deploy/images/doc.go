// Package images holds the tests of the services' container images: each
// services/<name>/Dockerfile passes BuildKit's Dockerfile linter (the rules
// behind `docker build --check`) with no warning, and keeps the rules this
// project's deployments rely on (static binary built with GOWORK=off, a
// distroless runtime image run as a non-root user, the service's port, a
// build context that holds what the build copies).
//
// It is a module of its own, outside go.work, so that BuildKit's
// dependencies reach no service; run it with
//
//	cd deploy/images && GOWORK=off go test -count=1 ./...
//
// (-count=1: Go's test cache does not notice changes to the files it
// reads outside the module; scripts/validate-images.sh does this.)
package images
