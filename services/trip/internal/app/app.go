// Package app holds the trip service's use cases: ordering a trip, reading
// it, and keeping its status current from the driver service's events. It
// declares the ports it needs; internal/dapr implements them.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/ride-choreography/services/trip/internal/trip"
)

// Store keeps trips. Create must store the trip and publish its event
// atomically: both happen or neither (the Dapr adapter uses the
// transactional outbox).
type Store interface {
	Create(ctx context.Context, t trip.Trip, event TripCreated) error
	// Get returns the trip and an opaque version for Update, or
	// trip.ErrNotFound.
	Get(ctx context.Context, id string) (trip.Trip, string, error)
	// Update replaces the trip if it is still at version, else ErrConflict.
	Update(ctx context.Context, t trip.Trip, version string) error
}

// Sentinel errors of the use cases.
var (
	// ErrConflict means the trip changed between read and write.
	ErrConflict = errors.New("trip changed concurrently")
	// ErrIdempotencyKeyReused means an Idempotency-Key already placed a
	// different order.
	ErrIdempotencyKeyReused = errors.New("idempotency key was used for a different order")
)

// maxUpdateAttempts bounds the read-modify-write loop under contention.
const maxUpdateAttempts = 5

// idempotencyNamespace scopes the trip ids derived from Idempotency-Keys.
var idempotencyNamespace = uuid.MustParse("6c1f1f4e-4f7a-4b8e-9a53-2a8d4c3b9e10")

// Service runs the trip use cases.
type Service struct {
	store Store
	now   func() time.Time
	newID func() string
}

// New returns a Service. now and newID are injected so tests are
// deterministic; production passes time.Now and uuid.NewString.
func New(store Store, now func() time.Time, newID func() string) *Service {
	return &Service{store: store, now: now, newID: newID}
}

// Order places an order and returns the requested trip. With an idempotency
// key the trip id is derived from the rider and the key, so a retried order
// finds the trip it already created (replayed is true) instead of creating a
// second one; the same key with a different order is ErrIdempotencyKeyReused.
func (s *Service) Order(ctx context.Context, o trip.Order, idempotencyKey string) (t trip.Trip, replayed bool, err error) {
	if err := o.Validate(); err != nil {
		return trip.Trip{}, false, err
	}
	id := s.newID()
	if idempotencyKey != "" {
		id = uuid.NewSHA1(idempotencyNamespace, []byte(o.RiderID+"\x00"+idempotencyKey)).String()
		existing, _, err := s.store.Get(ctx, id)
		switch {
		case err == nil && existing.Order() == o:
			return existing, true, nil
		case err == nil:
			return trip.Trip{}, false, fmt.Errorf("trip %s: %w", id, ErrIdempotencyKeyReused)
		case !errors.Is(err, trip.ErrNotFound):
			return trip.Trip{}, false, fmt.Errorf("look up trip %s: %w", id, err)
		}
	}
	t, err = trip.New(id, o, s.now().UTC())
	if err != nil {
		return trip.Trip{}, false, err
	}
	if err := s.store.Create(ctx, t, newTripCreated(t)); err != nil {
		return trip.Trip{}, false, fmt.Errorf("create trip %s: %w", id, err)
	}
	return t, false, nil
}

// Trip returns the trip with the id, or trip.ErrNotFound.
func (s *Service) Trip(ctx context.Context, id string) (trip.Trip, error) {
	t, _, err := s.store.Get(ctx, id)
	if err != nil {
		return trip.Trip{}, fmt.Errorf("get trip %s: %w", id, err)
	}
	return t, nil
}

// DriverAssigned records the driver the driver service assigned. It reports
// whether the trip changed: a redelivered event changes nothing.
func (s *Service) DriverAssigned(ctx context.Context, e DriverAssigned) (bool, error) {
	return s.update(ctx, e.TripID, func(t *trip.Trip) (bool, error) {
		return t.AssignDriver(e.Driver, e.ETASeconds, e.AssignedAt)
	})
}

// DriverNotFound records that no driver was found in time. It reports
// whether the trip changed.
func (s *Service) DriverNotFound(ctx context.Context, e DriverNotFound) (bool, error) {
	return s.update(ctx, e.TripID, func(t *trip.Trip) (bool, error) {
		return t.MarkNoDriver(e.DecidedAt)
	})
}

// update applies change to the stored trip, retrying when another replica
// wrote in between, so concurrent events never overwrite each other.
func (s *Service) update(ctx context.Context, id string, change func(*trip.Trip) (bool, error)) (bool, error) {
	changed, err := retryOnConflict(func() (bool, error) {
		t, version, err := s.store.Get(ctx, id)
		if err != nil {
			return false, fmt.Errorf("get trip %s: %w", id, err)
		}
		changed, err := change(&t)
		if err != nil || !changed {
			return false, err
		}
		if err := s.store.Update(ctx, t, version); err != nil {
			return false, fmt.Errorf("update trip %s: %w", id, err)
		}
		return true, nil
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// retryOnConflict runs a read-modify-write attempt again while it fails
// with ErrConflict (another writer came first), at most maxUpdateAttempts
// times.
func retryOnConflict[T any](attempt func() (T, error)) (T, error) {
	var err error
	for range maxUpdateAttempts {
		var v T
		v, err = attempt()
		if !errors.Is(err, ErrConflict) {
			return v, err
		}
	}
	var zero T
	return zero, fmt.Errorf("gave up after %d attempts: %w", maxUpdateAttempts, err)
}
