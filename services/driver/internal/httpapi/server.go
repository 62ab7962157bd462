// Package httpapi is the driver service's HTTP surface: the driver list,
// health and readiness, and Dapr's programmatic subscription protocol.
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

// DriverLister lists the pool with each driver's state (app.Service).
type DriverLister interface {
	Drivers(ctx context.Context) ([]driver.Driver, error)
}

// NewServer returns the service's HTTP handler. pubsubName is the Dapr
// pub/sub component the service subscribes through.
func NewServer(logger zerolog.Logger, pubsubName string, assigner Assigner, drivers DriverLister, readiness *Readiness) http.Handler {
	router := mux.NewRouter()
	addRoutes(router, logger, pubsubName, assigner, drivers, readiness)
	return router
}
