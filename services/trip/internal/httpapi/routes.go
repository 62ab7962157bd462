package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// addRoutes is the whole HTTP surface of the trip service.
func addRoutes(r *mux.Router, logger zerolog.Logger, d Deps) {
	// Trip API: for riders with a bearer token (fromRider), each seeing
	// only their own trips
	r.Handle("/trips", fromRider(logger, d.Auth, limitOrders(logger, d.OrderLimit, handleCreateTrip(logger, d.Trips)))).Methods(http.MethodPost)
	r.Handle("/trips/{id}", fromRider(logger, d.Auth, handleGetTrip(logger, d.Trips))).Methods(http.MethodGet)

	// Events the service dropped, forwarded to its dead-letter topic
	r.Handle("/dead-letters", handleDeadLetters(logger, d.DeadLetters)).Methods(http.MethodGet)

	// Health, and what the service counted, for Prometheus
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReadyz(logger, d.Readiness)).Methods(http.MethodGet)
	r.Handle("/metrics", d.Metrics).Methods(http.MethodGet)

	// Dapr subscription protocol: the sidecar reads the subscriptions, then
	// POSTs each event to its route. Only the sidecar may (fromSidecar).
	r.Handle("/dapr/subscribe", fromSidecar(logger, d.SidecarToken, d.Subscriber.Subscriptions())).Methods(http.MethodGet)
	r.Handle("/events/trip-created", fromSidecar(logger, d.SidecarToken, d.Subscriber.TripCreated())).Methods(http.MethodPost)
	r.Handle("/events/driver-assigned", fromSidecar(logger, d.SidecarToken, d.Subscriber.DriverAssigned())).Methods(http.MethodPost)
	r.Handle("/events/driver-not-found", fromSidecar(logger, d.SidecarToken, d.Subscriber.DriverNotFound())).Methods(http.MethodPost)
	r.Handle("/events/dead-letters", fromSidecar(logger, d.SidecarToken, d.Subscriber.DeadLetter())).Methods(http.MethodPost)
}
