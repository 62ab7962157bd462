// Package app holds the workflow coordinator's use cases: ordering a trip,
// which starts its RequestTrip workflow, and reading a trip, from its
// workflow's state. The flow itself is the workflow, declared in one place
// (internal/dapr/workflow.go) and run by Dapr Workflow: its state and
// history are kept by the sidecar, in the workflow's state store, so a
// crash of this process or of its sidecar loses no trip.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/ride-choreography/services/workflow/internal/workflow"
)

// ErrIdempotencyKeyReused means an Idempotency-Key already placed a
// different order.
var ErrIdempotencyKeyReused = errors.New("idempotency key was used for a different order")

// idempotencyNamespace scopes the trip ids derived from Idempotency-Keys
// (the trip service's, so every style derives the same id).
var idempotencyNamespace = uuid.MustParse("6c1f1f4e-4f7a-4b8e-9a53-2a8d4c3b9e10")

// Service runs the coordinator's use cases.
type Service struct {
	engine  Engine
	metrics Metrics
	now     func() time.Time
	newID   func() string
}

// NewService returns a Service. now and newID are injected so tests are
// deterministic; production passes time.Now and uuid.NewString.
func NewService(engine Engine, metrics Metrics, now func() time.Time, newID func() string) *Service {
	return &Service{engine: engine, metrics: metrics, now: now, newID: newID}
}

// Order accepts an order by starting its trip's workflow, and returns the
// requested trip. With an idempotency key the trip id (the workflow's
// instance id) is derived from the rider and the key, so a retried order
// finds the trip it created (replayed is true); the same key with a
// different order is ErrIdempotencyKeyReused.
func (s *Service) Order(ctx context.Context, o workflow.Order, idempotencyKey string) (t workflow.Trip, replayed bool, err error) {
	if err := o.Validate(); err != nil {
		return workflow.Trip{}, false, err
	}
	id := s.newID()
	if idempotencyKey != "" {
		id = uuid.NewSHA1(idempotencyNamespace, []byte(o.RiderID+"\x00"+idempotencyKey)).String()
		if existing, err := s.engine.Trip(ctx, id); err == nil {
			return replay(existing, o)
		} else if !errors.Is(err, workflow.ErrNotFound) {
			return workflow.Trip{}, false, fmt.Errorf("look up trip %s: %w", id, err)
		}
	}
	t, err = workflow.New(id, o, s.now().UTC())
	if err != nil {
		return workflow.Trip{}, false, err
	}
	err = s.engine.Start(ctx, t)
	if errors.Is(err, ErrExists) { // the same key, at the same moment
		existing, getErr := s.engine.Trip(ctx, id)
		if getErr != nil {
			return workflow.Trip{}, false, fmt.Errorf("look up trip %s: %w", id, getErr)
		}
		return replay(existing, o)
	}
	if err != nil {
		return workflow.Trip{}, false, fmt.Errorf("start the workflow of trip %s: %w", id, err)
	}
	s.metrics.TripOrdered()
	return t, false, nil
}

// replay answers an order whose trip exists already.
func replay(existing workflow.Trip, o workflow.Order) (workflow.Trip, bool, error) {
	if existing.Order() != o {
		return workflow.Trip{}, false, fmt.Errorf("trip %s: %w", existing.ID, ErrIdempotencyKeyReused)
	}
	return existing, true, nil
}

// Trip returns the trip with the id, as its workflow recorded it, or
// trip.ErrNotFound.
func (s *Service) Trip(ctx context.Context, id string) (workflow.Trip, error) {
	t, err := s.engine.Trip(ctx, id)
	if err != nil {
		return workflow.Trip{}, fmt.Errorf("get trip %s: %w", id, err)
	}
	return t, nil
}
