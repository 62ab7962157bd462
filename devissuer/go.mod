module github.com/ride-choreography/devissuer

go 1.26.0

toolchain go1.27.3

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/rs/zerolog v1.35.1
)

require (
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
