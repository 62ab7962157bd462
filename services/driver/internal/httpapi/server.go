// Package httpapi is the driver service's HTTP surface: the driver list,
// the dead letters, health and readiness, and Dapr's programmatic
// subscription protocol.
package httpapi

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// Assigner assigns a driver to a trip (app.Service).
type Assigner interface {
	AssignDriver(ctx context.Context, trip app.TripCreated) (app.Assignment, error)
}

// DriverLister lists the pool, or a page of it, with each driver's state
// (app.Service).
type DriverLister interface {
	Drivers(ctx context.Context, page app.Page) ([]driver.Driver, error)
}

// DeadLetters keeps and lists the events the service could never handle
// (app.DeadLetterBox).
type DeadLetters interface {
	// Store keeps dl unless it is kept already, and reports whether it
	// kept it.
	Store(ctx context.Context, dl app.DeadLetter) (bool, error)
	List(ctx context.Context) (app.DeadLetters, error)
}

// NewServer returns the service's HTTP handler. pubsubName is the Dapr
// pub/sub component the service subscribes through.
func NewServer(logger zerolog.Logger, pubsubName string, assigner Assigner, drivers DriverLister, deadLetters DeadLetters, readiness *Readiness) http.Handler {
	router := mux.NewRouter()
	addRoutes(router, logger, pubsubName, assigner, drivers, deadLetters, readiness)
	return router
}
