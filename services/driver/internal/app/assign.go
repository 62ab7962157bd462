package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// maxAttempts bounds how often an update starts over with fresh state
// after another handler changed what it had read.
const maxAttempts = 8

// AssignDriver settles who drives the trip and publishes it.
//
// The outcome is recorded before it is published, and a trip that already
// has one gets the same event again, so redeliveries (including one after a
// failed publish, or one long after the ride ended) never take a second
// driver. A driver is reserved for the length of a ride with the ETag of
// the record read, so two replicas never take the same driver, and a
// driver's rides never overlap. With no free driver it returns an error
// wrapping driver.ErrNoDriverFree until the assign deadline has passed
// since the trip was requested, and then settles on DriverNotFound.
func (s *Service) AssignDriver(ctx context.Context, t TripCreated) (Assignment, error) {
	for range maxAttempts {
		a, err := s.settle(ctx, t)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Assignment{}, fmt.Errorf("assign driver to trip %s: %w", t.TripID, err)
		}
		topic, event := a.Event()
		if err := s.publisher.Publish(ctx, topic, event); err != nil {
			return Assignment{}, fmt.Errorf("assign driver to trip %s: %w", t.TripID, err)
		}
		return a, nil
	}
	return Assignment{}, fmt.Errorf("assign driver to trip %s: gave up after %d attempts: %w", t.TripID, maxAttempts, ErrConflict)
}

// settle returns the trip's recorded outcome, deciding and recording it
// first if there is none. ErrConflict means another handler changed the
// state read here: start over.
func (s *Service) settle(ctx context.Context, t TripCreated) (Assignment, error) {
	if a, found, err := s.store.Assignment(ctx, t.TripID); err != nil || found {
		return a, err
	}
	stored, err := s.storedPool(ctx)
	if err != nil {
		return Assignment{}, err
	}
	a, reserved, err := s.decide(ctx, t, stored)
	if err != nil {
		return Assignment{}, err
	}
	err = s.store.CreateAssignment(ctx, t.TripID, a)
	if errors.Is(err, ErrConflict) && reserved != "" {
		// Another delivery of this trip recorded its outcome first. That
		// outcome stands, and the driver reserved here goes back to the pool.
		if err := s.release(ctx, t.TripID, reserved); err != nil {
			return Assignment{}, err
		}
	}
	return a, err
}

// decide picks the trip's outcome: the driver who is on the trip already
// (reserved by a handler that stopped before recording the outcome), else
// the nearest free driver, reserved here, else, once the deadline has
// passed, no driver. It also returns the id of the driver it reserved.
func (s *Service) decide(ctx context.Context, t TripCreated, stored []StoredDriver) (Assignment, string, error) {
	now := s.now()
	drivers := make([]driver.Driver, len(stored))
	etags := make(map[string]string, len(stored))
	for i, sd := range stored {
		if sd.Driver.Carries(t.TripID, now) {
			// The outcome the stopped handler would have recorded: assigned
			// when the ride began.
			return newDriverAssigned(t, sd.Driver, sd.Driver.BusyUntil.Add(-s.timing.RideDuration)), "", nil
		}
		drivers[i] = sd.Driver
		etags[sd.Driver.ID] = sd.ETag
	}

	nearest, err := driver.Nearest(drivers, t.Pickup, now)
	if err != nil {
		if waited := now.Sub(t.RequestedAt); waited < s.timing.AssignDeadline {
			return Assignment{}, "", fmt.Errorf("waited %s of %s: %w", waited.Truncate(time.Second), s.timing.AssignDeadline, err)
		}
		return newDriverNotFound(t, s.timing.AssignDeadline, now), "", nil
	}
	reserved, err := nearest.Reserve(t.TripID, now, s.timing.RideDuration)
	if err != nil {
		return Assignment{}, "", err
	}
	if err := s.store.SaveDriver(ctx, reserved, etags[nearest.ID]); err != nil {
		return Assignment{}, "", err
	}
	return newDriverAssigned(t, reserved, now), reserved.ID, nil
}

// release frees driverID if they are still on the trip and the trip's
// recorded outcome names somebody else.
func (s *Service) release(ctx context.Context, tripID, driverID string) error {
	recorded, _, err := s.store.Assignment(ctx, tripID)
	if err != nil {
		return err
	}
	if recorded.Assigned != nil && recorded.Assigned.Driver.ID == driverID {
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
