package main

import (
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/rs/zerolog"
)

// servePprof serves Go's runtime profiles (net/http/pprof) on addr until
// the process ends, so that make bench, or anyone chasing where the service
// spends its time, can read them. It runs only when PPROF_ADDR is set, on a
// listener of its own, never on the service's port.
func servePprof(logger zerolog.Logger, addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	logger.Info().Str("addr", addr).Msg("serving profiles")
	if err := srv.ListenAndServe(); err != nil {
		logger.Error().Err(err).Str("addr", addr).Msg("profiles not served")
	}
}
