// Package httpapi is the notification service's HTTP surface: the riders'
// notification endpoints, the dead letters, health and readiness, and
// Dapr's programmatic subscription protocol, all on one gorilla/mux router.
package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/deadletter"
	"github.com/ride-choreography/services/notification/internal/notification"
)

// Events is what the subscriptions do with the events they accept.
type Events interface {
	TripReceived(ctx context.Context, riderID, tripID string) error
	DriverAssigned(ctx context.Context, riderID, tripID string, d notification.Driver, eta time.Duration) error
	NoDriver(ctx context.Context, riderID, tripID string) error
}

// Riders is what the rider endpoints read: a rider's history, and a signal
// that this process has just added to it.
type Riders interface {
	History(ctx context.Context, riderID string) (notification.History, error)
	Watch(riderID string) (wake <-chan struct{}, stop func())
}

// DeadLetters is what the dead-letter subscription keeps and the
// dead-letter endpoint reads.
type DeadLetters interface {
	Keep(ctx context.Context, l deadletter.Letter) error
	List(ctx context.Context) (deadletter.List, error)
}

// Deps is what the server needs.
type Deps struct {
	Events      Events
	Riders      Riders
	DeadLetters DeadLetters
	// PubSub names the pub/sub component the subscriptions are on.
	PubSub string
	// Ready reports whether the sidecar and the state store can be used.
	Ready func(context.Context) error
	// Stopping is closed when shutdown begins: /readyz answers 503 from
	// then on and open notification streams end.
	Stopping <-chan struct{}
	// PollInterval is how often a notification stream re-reads the
	// rider's history; zero means 500 ms.
	PollInterval time.Duration
	// Heartbeat is how often an idle notification stream sends a comment
	// to keep the connection open; zero means 15 s.
	Heartbeat time.Duration
}

// NewServer returns the handler of every route in routes.go. Unknown paths
// and methods get problem+json 404 and 405 responses.
func NewServer(logger zerolog.Logger, d Deps) http.Handler {
	if d.PollInterval == 0 {
		d.PollInterval = 500 * time.Millisecond
	}
	if d.Heartbeat == 0 {
		d.Heartbeat = 15 * time.Second
	}
	// Routes match the path as sent, escapes kept and unclean paths not
	// redirected, so that a rider id may hold any character: "a%2Fb" is
	// rider "a/b", "%2E%2E" or ".." rider "..".
	r := mux.NewRouter().UseEncodedPath().SkipClean(true)
	rs := routes(logger, d)
	for _, rt := range rs {
		r.Handle(rt.path, rt.handler).Methods(rt.method)
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeError(w, req, logger, errNoRoute)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", allowedMethods(r, rs, req))
		writeError(w, req, logger, errMethodNotAllowed)
	})
	return r
}
