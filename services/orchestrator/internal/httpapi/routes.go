package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// addRoutes is the whole HTTP surface of the orchestrator.
func addRoutes(r *mux.Router, logger zerolog.Logger, d Deps) {
	// Trip API: for riders with a bearer token (fromRider), each seeing
	// only their own trips
	r.Handle("/trips", fromRider(logger, d.Auth, limitOrders(logger, d.OrderLimit, handleCreateTrip(logger, d.Trips)))).Methods(http.MethodPost)
	r.Handle("/trips/{id}", fromRider(logger, d.Auth, handleGetTrip(logger, d.Trips))).Methods(http.MethodGet)

	// Health, and what the service counted, for Prometheus
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReadyz(logger, d.Readiness)).Methods(http.MethodGet)
	r.Handle("/metrics", d.Metrics).Methods(http.MethodGet)
}
