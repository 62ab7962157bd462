package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// addRoutes is the whole HTTP surface of the driver service.
func addRoutes(r *mux.Router, logger zerolog.Logger, d Deps) {
	// The driver pool, with each driver's state
	r.Handle("/drivers", handleListDrivers(logger, d.Drivers)).Methods(http.MethodGet)

	// Events the service dropped, forwarded to its dead-letter topic
	r.Handle("/dead-letters", handleDeadLetters(logger, d.DeadLetters)).Methods(http.MethodGet)

	// Health, and the metrics Prometheus scrapes
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReadyz(logger, d.Readiness)).Methods(http.MethodGet)
	r.Handle("/metrics", d.Metrics).Methods(http.MethodGet)

	// Dapr subscription protocol: the sidecar reads the subscriptions, then
	// POSTs each event to its route. Only the sidecar may (fromSidecar).
	r.Handle("/dapr/subscribe", fromSidecar(logger, d.SidecarToken, d.Subscriber.Subscriptions())).Methods(http.MethodGet)
	r.Handle("/events/trip-created", fromSidecar(logger, d.SidecarToken, d.Subscriber.TripCreated())).Methods(http.MethodPost)
	r.Handle("/events/dead-letters", fromSidecar(logger, d.SidecarToken, d.Subscriber.DeadLetter())).Methods(http.MethodPost)

	// Steps an orchestrator invokes through Dapr service invocation (the
	// orchestration and workflow styles): the same use case, called.
	r.Handle("/steps/assign-driver", fromSidecar(logger, d.SidecarToken, d.Steps.AssignDriver())).Methods(http.MethodPost)
}
