package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
)

// Where daprd delivers the events of each subscription.
const (
	routeTripCreated = "/events/" + app.TopicTripCreated
	routeDeadLetters = "/events/dead-letters"
)

// addRoutes lists every route the service serves.
func addRoutes(r *mux.Router, logger zerolog.Logger, pubsubName string, assigner Assigner, drivers DriverLister, deadLetters DeadLetters, readiness *Readiness) {
	r.Handle("/drivers", handleListDrivers(logger, drivers)).Methods(http.MethodGet)
	r.Handle("/dead-letters", handleListDeadLetters(logger, deadLetters)).Methods(http.MethodGet)
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReadyz(logger, readiness)).Methods(http.MethodGet)

	// Dapr's programmatic subscription protocol.
	r.Handle("/dapr/subscribe", handleSubscribe(pubsubName)).Methods(http.MethodGet)
	r.Handle(routeTripCreated, handleTripCreated(logger, assigner)).Methods(http.MethodPost)
	r.Handle(routeDeadLetters, handleDeadLetter(logger, deadLetters)).Methods(http.MethodPost)

	r.NotFoundHandler = handleNotFound(logger)
	r.MethodNotAllowedHandler = handleMethodNotAllowed(logger)
}
