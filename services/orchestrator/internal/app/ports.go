package app

import (
	"context"
	"time"

	"github.com/ride-choreography/services/orchestrator/internal/orchestrator"
)

// Steps are the other services' steps, called in turn for each order
// (internal/dapr invokes them through the sidecar). Each returns an error
// wrapping ErrRetryable when a later call may succeed.
type Steps interface {
	// TripReceived tells the rider that the order arrived.
	TripReceived(ctx context.Context, t orchestrator.Trip) error
	// AssignDriver has the driver service settle who drives the trip.
	AssignDriver(ctx context.Context, t orchestrator.Trip) (Outcome, error)
	// DriverAssigned tells the rider who comes, and when.
	DriverAssigned(ctx context.Context, t orchestrator.Trip, o Outcome) error
	// NoDriver tells the rider that no driver was found.
	NoDriver(ctx context.Context, t orchestrator.Trip, o Outcome) error
}

// Outcome is what the driver service settled for a trip: a driver, or
// none and why. Event is its answer as it came (the event the
// choreography would have published), passed on to the notification step
// as it is.
type Outcome struct {
	Driver     *orchestrator.Driver
	ETASeconds int
	DecidedAt  time.Time
	Reason     string
	Event      []byte
}

// Metrics counts what the orchestrator did (internal/metrics).
type Metrics interface {
	// TripOrdered counts an order accepted.
	TripOrdered()
	// TripAssigned counts a trip that got its driver, waited after it
	// was ordered.
	TripAssigned(waited time.Duration)
	// TripNoDriver counts a trip for which no driver was found.
	TripNoDriver()
	// TripAbandoned counts a trip whose flow gave up on a step: it stays
	// requested, and nobody tells the rider more.
	TripAbandoned(step string)
}
