package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// addRoutes is the whole HTTP surface of the notification service.
func addRoutes(r *mux.Router, logger zerolog.Logger, d Deps) {
	// Riders' notifications: for riders with a bearer token (fromRider),
	// each reading only their own
	r.Handle("/riders/{riderId}/notifications", fromRider(logger, d.Auth, handleHistory(logger, d.Riders))).Methods(http.MethodGet)
	r.Handle("/riders/{riderId}/notifications/stream", fromRider(logger, d.Auth, handleStream(logger, d.Riders, d.Readiness.Stopping(), d.PollInterval, d.Heartbeat))).Methods(http.MethodGet)

	// Events the service dropped, forwarded to its dead-letter topic
	r.Handle("/dead-letters", handleDeadLetters(logger, d.DeadLetters)).Methods(http.MethodGet)

	// Health, and what the service counts (Prometheus)
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

	// Steps an orchestrator invokes through Dapr service invocation (the
	// orchestration and workflow styles): the same use cases, called.
	r.Handle("/steps/trip-received", fromSidecar(logger, d.SidecarToken, d.Steps.TripReceived())).Methods(http.MethodPost)
	r.Handle("/steps/driver-assigned", fromSidecar(logger, d.SidecarToken, d.Steps.DriverAssigned())).Methods(http.MethodPost)
	r.Handle("/steps/no-driver", fromSidecar(logger, d.SidecarToken, d.Steps.NoDriver())).Methods(http.MethodPost)
}
