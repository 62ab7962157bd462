// Package httpapi is the driver service's HTTP surface: the driver list,
// the dead letters, health and readiness, and the routes of Dapr's
// programmatic subscription protocol, whose handlers internal/dapr makes.
package httpapi

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// Subscriber makes the handlers of Dapr's subscription protocol
// (dapr.Subscriber): the answer to GET /dapr/subscribe, and one handler per
// subscribed topic.
type Subscriber interface {
	Subscriptions() http.Handler
	TripCreated() http.Handler
	DeadLetter() http.Handler
}

// DriverLister lists the pool, or a page of it, with each driver's state
// (app.Service).
type DriverLister interface {
	Drivers(ctx context.Context, page app.Page) ([]driver.Driver, error)
}

// DeadLetters lists the events the service could never handle
// (app.DeadLetterBox).
type DeadLetters interface {
	List(ctx context.Context) (app.DeadLetters, error)
}

// NewServer returns the service's HTTP handler.
func NewServer(logger zerolog.Logger, subscriber Subscriber, drivers DriverLister, deadLetters DeadLetters, readiness *Readiness) http.Handler {
	router := mux.NewRouter()
	addRoutes(router, logger, subscriber, drivers, deadLetters, readiness)
	return router
}
