package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// addRoutes is the whole HTTP surface of the orchestrator.
func addRoutes(r *mux.Router, logger zerolog.Logger, d Deps) {
	// Trip API
	r.Handle("/trips", handleCreateTrip(logger, d.Trips)).Methods(http.MethodPost)
	r.Handle("/trips/{id}", handleGetTrip(logger, d.Trips)).Methods(http.MethodGet)

	// Health, and what the service counted, for Prometheus
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReadyz(logger, d.Readiness)).Methods(http.MethodGet)
	r.Handle("/metrics", d.Metrics).Methods(http.MethodGet)
}
