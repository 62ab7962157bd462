package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/tracing"
)

// maxAttempts bounds how often an update starts over with fresh state
// after another handler changed what it had read.
const maxAttempts = 8

// FirstBatch is how many drivers, the nearest to the pickup whatever their
// state, an assignment reads first. When all of them are on trips it reads
// the next ones, twice as many each time, until it finds a free driver or
// has read the whole pool.
const FirstBatch = 8

// AssignDriver settles who drives the trip and publishes it.
//
// The outcome is recorded (and counted, once) before it is published, and
// a trip that already has one gets the same event again, so redeliveries
// (including one after a failed publish, or one long after the ride ended)
// never take a second driver, nor count the trip again. The driver is the
// free one nearest to the pickup, found by reading the drivers nearest to
// it first rather than the whole pool. A driver is reserved for the length
// of a ride with the ETag of the record read, so two replicas never take
// the same driver, and a driver's rides never overlap. Before a driver is
// reserved, the trip's reservation names them, so that a delivery that
// finds no outcome takes over the driver that a stopped handler reserved
// instead of reserving a second one. Only drivers within the maximum
// pickup distance are considered: with none at all that near, the trip
// settles on DriverNotFound (ReasonNoDriverNear) at once, since waiting
// brings no driver nearer. With drivers that near but none of them free
// it returns an error wrapping driver.ErrNoDriverFree until the assign
// deadline has passed since the trip was requested, and then settles on
// DriverNotFound (ReasonNoDriverFree).
func (s *Service) AssignDriver(ctx context.Context, t TripCreated) (Assignment, error) {
	a, err := s.Assign(ctx, t)
	if err != nil {
		return Assignment{}, err
	}
	topic, event := a.Event()
	if err := s.publisher.Publish(ctx, topic, event); err != nil {
		return Assignment{}, fmt.Errorf("assign driver to trip %s: %w", t.TripID, err)
	}
	return a, nil
}

// Assign settles who drives the trip, as AssignDriver does, and returns
// the outcome without publishing it: the step an orchestrator calls
// (POST /steps/assign-driver). The trip id is its idempotency key: a
// second call for the trip returns the outcome the first recorded, and
// never takes a second driver.
func (s *Service) Assign(ctx context.Context, t TripCreated) (Assignment, error) {
	for range maxAttempts {
		a, err := s.settle(ctx, t)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Assignment{}, fmt.Errorf("assign driver to trip %s: %w", t.TripID, err)
		}
		return a, nil
	}
	return Assignment{}, fmt.Errorf("assign driver to trip %s: gave up after %d attempts: %w", t.TripID, maxAttempts, ErrConflict)
}

// candidates walks the pool from the pickup, nearest first, a batch at a
// time, with the stored state of the batch at hand.
type candidates struct {
	search *driver.Search
	ids    []string       // the batch
	stored []StoredDriver // the batch as read
	next   int            // how many to read next
}

// settle returns the trip's recorded outcome, deciding and recording it
// first if there is none; only an outcome recorded here is counted, so a
// trip counts once however often it is delivered. ErrConflict means
// another handler changed the state read here: start over.
func (s *Service) settle(ctx context.Context, t TripCreated) (_ Assignment, err error) {
	ctx, span := tracing.Start(ctx, "driver search", trace.SpanKindInternal, tracing.TripID.String(t.TripID))
	defer func() { tracing.End(span, err) }()
	search := s.index.Search(t.Pickup)
	if s.timing.MaxPickupMeters > 0 {
		search.Within(s.timing.MaxPickupMeters)
	}
	ids := s.idsOf(search.Next(FirstBatch))
	trip, stored, err := s.store.Trip(ctx, t.TripID, ids)
	if err != nil {
		return Assignment{}, err
	}
	if trip.Outcome != nil {
		return *trip.Outcome, nil
	}
	c := &candidates{search: search, ids: ids, stored: stored, next: 2 * FirstBatch}
	a, reserved, err := s.decide(ctx, t, trip.Reservation, c)
	if err != nil {
		return Assignment{}, err
	}
	err = s.store.CreateAssignment(ctx, t.TripID, a)
	switch {
	case err == nil:
		s.metrics.AssignmentRecorded(a.Outcome(), s.now().Sub(t.RequestedAt))
	case errors.Is(err, ErrConflict) && reserved != "":
		// Another delivery of this trip recorded its outcome first. That
		// outcome stands, and the driver reserved here goes back to the pool.
		if err := s.release(ctx, t.TripID, reserved); err != nil {
			return Assignment{}, err
		}
	}
	return a, err
}

// decide picks the trip's outcome and returns it with the id of the driver
// it reserved, if it reserved one.
//
// When the trip's reservation names a driver, a handler (maybe stopped,
// maybe still running) chose them: if they are on the trip already, that
// is the outcome; if they are free and were never on it, the driver is
// reserved here, and of two handlers reserving them only one wins the
// ETag. Otherwise (the driver took another trip, so a reservation still
// under way would lose the ETag, or their ride for this trip has ended)
// the nearest free driver is named in the reservation and reserved. With
// nobody near, there is no driver; with nobody near free, the deadline
// decides between waiting and no driver.
func (s *Service) decide(ctx context.Context, t TripCreated, r Reservation, c *candidates) (Assignment, string, error) {
	now := s.now()
	if r.DriverID != "" {
		named, found, err := s.named(ctx, r.DriverID, c)
		if err != nil {
			return Assignment{}, "", err
		}
		switch {
		case found && named.Driver.Carries(t.TripID, now):
			// The outcome the stopped handler would have recorded: assigned
			// when the ride began.
			return newDriverAssigned(t, named.Driver, named.Driver.BusyUntil.Add(-s.timing.RideDuration)), "", nil
		case found && named.Driver.FreeAt(now) && named.Driver.TripID != t.TripID:
			return s.reserve(ctx, t, named, now)
		}
	}

	nearest, err := s.nearestFree(ctx, c, now)
	switch {
	case errors.Is(err, driver.ErrNoDriverNear):
		return noDriverNear(t, s.timing.MaxPickupMeters, now), "", nil
	case errors.Is(err, driver.ErrNoDriverFree):
		if waited := now.Sub(t.RequestedAt); waited < s.timing.AssignDeadline {
			return Assignment{}, "", fmt.Errorf("waited %s of %s: %w", waited.Truncate(time.Second), s.timing.AssignDeadline, err)
		}
		return noDriverFree(t, s.timing.AssignDeadline, now), "", nil
	case err != nil:
		return Assignment{}, "", err
	}
	if nearest.Driver.ID != r.DriverID {
		if err := s.store.SaveReservation(ctx, t.TripID, nearest.Driver.ID, r.ETag); err != nil {
			return Assignment{}, "", err
		}
	}
	return s.reserve(ctx, t, nearest, now)
}

// named returns the stored driver with the id, from the batch read if it
// is there, and whether they are stored.
func (s *Service) named(ctx context.Context, id string, c *candidates) (StoredDriver, bool, error) {
	for _, sd := range c.stored {
		if sd.Driver.ID == id {
			return sd, true, nil
		}
	}
	stored, err := s.store.Drivers(ctx, []string{id})
	if err != nil || len(stored) == 0 {
		return StoredDriver{}, false, err
	}
	return stored[0], true, nil
}

// nearestFree returns the driver free at now who is nearest to the
// pickup, the first in the pool on a tie (as driver.Nearest), reading
// further batches of c as long as every driver read is on a trip; or
// driver.ErrNoDriverFree once every driver the search hands out is read,
// and driver.ErrNoDriverNear when it hands out none at all.
func (s *Service) nearestFree(ctx context.Context, c *candidates, now time.Time) (StoredDriver, error) {
	if len(c.ids) == 0 {
		return StoredDriver{}, driver.ErrNoDriverNear
	}
	for {
		if err := allStored(c.ids, c.stored); err != nil {
			return StoredDriver{}, err
		}
		for _, sd := range c.stored {
			if sd.Driver.FreeAt(now) {
				return sd, nil
			}
		}
		c.ids = s.idsOf(c.search.Next(c.next))
		if len(c.ids) == 0 {
			return StoredDriver{}, driver.ErrNoDriverFree
		}
		c.next *= 2
		var err error
		if c.stored, err = s.store.Drivers(ctx, c.ids); err != nil {
			return StoredDriver{}, err
		}
	}
}

// reserve puts the stored driver sd on the trip from now, if sd is still
// what is stored.
func (s *Service) reserve(ctx context.Context, t TripCreated, sd StoredDriver, now time.Time) (Assignment, string, error) {
	reserved, err := sd.Driver.Reserve(t.TripID, now, s.timing.RideDuration)
	if err != nil {
		return Assignment{}, "", err
	}
	if err := s.store.SaveDriver(ctx, reserved, sd.ETag); err != nil {
		return Assignment{}, "", err
	}
	return newDriverAssigned(t, reserved, now), reserved.ID, nil
}

// release frees driverID if they are still on the trip and the trip's
// recorded outcome names somebody else.
func (s *Service) release(ctx context.Context, tripID, driverID string) error {
	recorded, _, err := s.store.Trip(ctx, tripID, nil)
	if err != nil {
		return err
	}
	if o := recorded.Outcome; o != nil && o.Assigned != nil && o.Assigned.Driver.ID == driverID {
		return nil
	}
	for range maxAttempts {
		stored, err := s.store.Drivers(ctx, []string{driverID})
		if err != nil {
			return err
		}
		if len(stored) == 0 || !stored[0].Driver.Carries(tripID, s.now()) {
			return nil
		}
		err = s.store.SaveDriver(ctx, stored[0].Driver.Release(), stored[0].ETag)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("release driver %s: %w", driverID, ErrConflict)
}
