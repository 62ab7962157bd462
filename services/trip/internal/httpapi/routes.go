package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// addRoutes is the whole HTTP surface of the trip service.
func addRoutes(r *mux.Router, logger zerolog.Logger, trips Trips, deadLetters DeadLetters, subscriber Subscriber, ready ReadyFunc) {
	// Trip API
	r.Handle("/trips", handleCreateTrip(logger, trips)).Methods(http.MethodPost)
	r.Handle("/trips/{id}", handleGetTrip(logger, trips)).Methods(http.MethodGet)

	// Events the service dropped, forwarded to its dead-letter topic
	r.Handle("/dead-letters", handleDeadLetters(logger, deadLetters)).Methods(http.MethodGet)

	// Health
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReadyz(logger, ready)).Methods(http.MethodGet)

	// Dapr subscription protocol: the sidecar reads the subscriptions, then
	// POSTs each event to its route.
	r.Handle("/dapr/subscribe", subscriber.Subscriptions()).Methods(http.MethodGet)
	r.Handle("/events/trip-created", subscriber.TripCreated()).Methods(http.MethodPost)
	r.Handle("/events/driver-assigned", subscriber.DriverAssigned()).Methods(http.MethodPost)
	r.Handle("/events/driver-not-found", subscriber.DriverNotFound()).Methods(http.MethodPost)
	r.Handle("/events/dead-letters", subscriber.DeadLetter()).Methods(http.MethodPost)
}
