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

// TopicTripCreated is where an accepted order is announced.
const TopicTripCreated = "trip-created"

// Sentinel errors of the use cases.
var (
	// ErrConflict means the trip changed between read and write.
	ErrConflict = errors.New("trip changed concurrently")
	// ErrIdempotencyKeyReused means an Idempotency-Key already placed a
	// different order.
	ErrIdempotencyKeyReused = errors.New("idempotency key was used for a different order")
	// ErrOutcomeUnknown means an order may or may not have been accepted:
	// the publish of its trip-created was cut off (shutdown, timeout) after
	// it reached the sidecar. A retry with the same Idempotency-Key tells.
	ErrOutcomeUnknown = errors.New("the order may have been accepted")
	// ErrNotRecordedYet means an order was accepted (its trip-created event
	// is on the broker) but its record could not be written at once; the
	// service's own trip-created subscription writes it.
	ErrNotRecordedYet = errors.New("order accepted, record not written yet")
	// ErrTripNotYetKnown means an event names a trip whose record is not
	// written yet: its trip-created may still be on its way, so the event
	// is retried.
	ErrTripNotYetKnown = errors.New("trip not recorded yet")
)

// unknownTripGrace is how long after a driver event was decided a trip it
// names may still be unrecorded (its own trip-created delivery is late,
// for example while the trip sidecar restarts). Past it, the trip is
// unknown for good: the event names a trip that was never ordered.
const unknownTripGrace = 2 * time.Minute

// maxAttempts bounds the read-modify-write loop under contention.
const maxAttempts = 5

// idempotencyNamespace scopes the trip ids derived from Idempotency-Keys.
var idempotencyNamespace = uuid.MustParse("6c1f1f4e-4f7a-4b8e-9a53-2a8d4c3b9e10")

// Service runs the trip use cases.
type Service struct {
	store     Store
	publisher Publisher
	metrics   Metrics
	now       func() time.Time
	newID     func() string
}

// NewService returns a Service. now and newID are injected so tests are
// deterministic; production passes time.Now and uuid.NewString.
func NewService(store Store, publisher Publisher, metrics Metrics, now func() time.Time, newID func() string) *Service {
	return &Service{store: store, publisher: publisher, metrics: metrics, now: now, newID: newID}
}

// Order places an order and returns the requested trip. With an idempotency
// key the trip id is derived from the rider and the key, so a retried order
// finds the trip it already created (replayed is true) instead of creating a
// second one; the same key with a different order is ErrIdempotencyKeyReused.
//
// The publish of trip-created is the commit point: once the broker has the
// event the order is accepted, and every service (this one included, by
// its own subscription) learns of it even if this process dies the next
// moment. A failed publish refuses the order and leaves nothing behind; a
// publish cut off on its way (ErrOutcomeUnknown) may have been accepted,
// which only a retry with the same Idempotency-Key can tell the client.
// The record is then written at once, so the rider can read the trip
// right away; when that write fails, Order returns the trip with an error
// wrapping ErrNotRecordedYet, and the subscription writes it shortly.
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
	if err := s.publisher.Publish(ctx, TopicTripCreated, newTripCreated(t)); err != nil {
		return trip.Trip{}, false, fmt.Errorf("announce trip %s: %w", id, err)
	}
	s.metrics.TripOrdered() // accepted, whether or not the record below is written
	if _, err := s.store.Insert(ctx, t); err != nil {
		return t, false, fmt.Errorf("record trip %s: %w (%w)", id, ErrNotRecordedYet, err)
	}
	return t, false, nil
}

// TripCreated records the trip of a trip-created event, which this service
// published itself, unless it is recorded already. It is what makes the
// publish the commit point of an order: an order whose record Order could
// not write is recorded here. It reports whether the trip was new.
func (s *Service) TripCreated(ctx context.Context, e TripCreated) (bool, error) {
	if _, _, ok := s.store.Recent(e.TripID); ok {
		return false, nil // this process recorded it, as nearly always
	}
	t, err := trip.New(e.TripID, trip.Order{RiderID: e.RiderID, Pickup: trip.Point(e.Pickup), Dropoff: trip.Point(e.Dropoff)}, e.RequestedAt)
	if err != nil {
		return false, err
	}
	inserted, err := s.store.Insert(ctx, t)
	if err != nil {
		return false, fmt.Errorf("record trip %s: %w", e.TripID, err)
	}
	return inserted, nil
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
// whether the trip changed: a redelivered event changes nothing, and is not
// counted again.
func (s *Service) DriverAssigned(ctx context.Context, e DriverAssigned) (bool, error) {
	var requestedAt time.Time // the order's, the same in every attempt
	changed, err := s.update(ctx, e.TripID, e.AssignedAt, func(t *trip.Trip) (bool, error) {
		requestedAt = t.RequestedAt
		return t.AssignDriver(e.Driver, e.ETASeconds, e.AssignedAt)
	})
	if changed {
		s.metrics.TripAssigned(e.AssignedAt.Sub(requestedAt))
	}
	return changed, err
}

// DriverNotFound records that no driver was found in time. It reports
// whether the trip changed; a change is counted.
func (s *Service) DriverNotFound(ctx context.Context, e DriverNotFound) (bool, error) {
	changed, err := s.update(ctx, e.TripID, e.DecidedAt, func(t *trip.Trip) (bool, error) {
		return t.MarkNoDriver(e.DecidedAt)
	})
	if changed {
		s.metrics.TripNoDriver()
	}
	return changed, err
}

// update applies change to the stored trip, retrying when another replica
// wrote in between, so concurrent events never overwrite each other. An
// event decided at decided about a trip not recorded yet is
// ErrTripNotYetKnown within unknownTripGrace, trip.ErrNotFound after.
//
// The first attempt starts from the trip as this process last wrote it,
// when it remembers it, which saves a read on nearly every event; the
// write is conditional on its version, so a stale start costs a conflict
// and a read, never a lost update. Only a trip read from the store decides
// that nothing is to change.
func (s *Service) update(ctx context.Context, id string, decided time.Time, change func(*trip.Trip) (bool, error)) (bool, error) {
	first := true
	changed, err := retryOnConflict(func() (bool, error) {
		t, version, remembered := s.store.Recent(id)
		remembered = remembered && first
		first = false
		if !remembered {
			var err error
			t, version, err = s.store.Get(ctx, id)
			if errors.Is(err, trip.ErrNotFound) && s.now().Sub(decided) < unknownTripGrace {
				return false, fmt.Errorf("trip %s: %w", id, ErrTripNotYetKnown)
			}
			if err != nil {
				return false, fmt.Errorf("get trip %s: %w", id, err)
			}
		}
		changed, err := change(&t)
		if remembered && (err != nil || !changed) {
			return false, ErrConflict // decide on the stored trip
		}
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
// with ErrConflict (another writer came first), at most maxAttempts
// times.
func retryOnConflict[T any](attempt func() (T, error)) (T, error) {
	var err error
	for range maxAttempts {
		var v T
		v, err = attempt()
		if !errors.Is(err, ErrConflict) {
			return v, err
		}
	}
	var zero T
	return zero, fmt.Errorf("gave up after %d attempts: %w", maxAttempts, err)
}
