package app

import (
	"context"
	"errors"

	"github.com/ride-choreography/services/workflow/internal/workflow"
)

// ErrExists means a trip with the id has a workflow already.
var ErrExists = errors.New("the trip has a workflow already")

// Engine runs each trip's RequestTrip workflow (internal/dapr, on Dapr
// Workflow): the flow declared in one place, run durably.
type Engine interface {
	// Start starts the trip's workflow, whose instance id is the trip's
	// id, with the trip as its input; ErrExists when it has one.
	Start(ctx context.Context, t workflow.Trip) error
	// Trip returns the trip as its workflow last recorded it, or
	// trip.ErrNotFound when no workflow has the id.
	Trip(ctx context.Context, id string) (workflow.Trip, error)
}

// Metrics counts what the coordinator did (internal/metrics).
type Metrics interface {
	// TripOrdered counts an order accepted.
	TripOrdered()
}
