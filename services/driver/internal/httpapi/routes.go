package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// addRoutes lists every route the service serves.
func addRoutes(r *mux.Router, logger zerolog.Logger, subscriber Subscriber, drivers DriverLister, deadLetters DeadLetters, readiness *Readiness) {
	r.Handle("/drivers", handleListDrivers(logger, drivers)).Methods(http.MethodGet)
	r.Handle("/dead-letters", handleListDeadLetters(logger, deadLetters)).Methods(http.MethodGet)
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReadyz(logger, readiness)).Methods(http.MethodGet)

	// Dapr's programmatic subscription protocol: daprd asks for the
	// subscriptions, then delivers each topic's events to its route.
	r.Handle("/dapr/subscribe", subscriber.Subscriptions()).Methods(http.MethodGet)
	r.Handle("/events/trip-created", subscriber.TripCreated()).Methods(http.MethodPost)
	r.Handle("/events/dead-letters", subscriber.DeadLetter()).Methods(http.MethodPost)

	r.NotFoundHandler = handleNotFound(logger)
	r.MethodNotAllowedHandler = handleMethodNotAllowed(logger)
}
