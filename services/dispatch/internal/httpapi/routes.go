package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// addRoutes is the whole HTTP surface of the dispatch service.
func addRoutes(r *mux.Router, logger zerolog.Logger, d Deps) {
	// The dispatchers' page: signing in puts a dispatcher's token in an
	// HTTP-only cookie, which the page and its stream then carry
	// (fromDispatcher); the page's scripts and styles hold no data.
	r.Handle("/", fromDispatcher(logger, d.Auth, handlePage(logger))).Methods(http.MethodGet)
	r.Handle("/signin", handleSignInForm()).Methods(http.MethodGet)
	r.Handle("/signin", handleSignIn(logger, d.Auth, d.SecureCookie)).Methods(http.MethodPost)
	r.Handle("/signout", handleSignOut(d.SecureCookie)).Methods(http.MethodPost)
	r.Handle("/static/{file}", handleStatic(logger)).Methods(http.MethodGet)

	// The board, for dispatchers (a session cookie or a bearer token)
	r.Handle("/board", fromDispatcher(logger, d.Auth, handleBoard(logger, d.Board))).Methods(http.MethodGet)
	r.Handle("/board/stream", fromDispatcher(logger, d.Auth, handleBoardStream(logger, d.Board, newStreamSlots(d.MaxStreamsPerDispatcher), d.Readiness.Stopping(), d.PollInterval))).Methods(http.MethodGet)

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
}
