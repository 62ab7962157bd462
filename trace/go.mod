module github.com/ride-choreography/trace

go 1.26.0

require github.com/google/go-cmp v0.7.0
