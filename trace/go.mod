module github.com/ride-choreography/trace

go 1.26.0

toolchain go1.27.3

require github.com/google/go-cmp v0.7.0
