// Package app holds the driver service's use cases and the ports they need:
// a Store for the pool and the assignments, a Publisher for events, and
// Metrics to count the outcomes recorded.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// ErrPoolNotSeeded means some drivers of the pool are not in the Store yet.
var ErrPoolNotSeeded = errors.New("driver pool not seeded")

// Timing holds the bounds that assignment follows: how long a trip waits,
// how long a ride lasts, and how far a driver is sent.
type Timing struct {
	// AssignDeadline is how long after it was requested a trip waits (its
	// event is retried) for a free driver before it settles on
	// DriverNotFound.
	AssignDeadline time.Duration
	// RideDuration is how long a driver stays on a trip; then they are free
	// again.
	RideDuration time.Duration
	// MaxPickupMeters is the farthest from the pickup a driver is sent
	// from: a driver farther away is never assigned, and a trip with no
	// driver at all that near settles on DriverNotFound at once. Zero
	// means no bound.
	MaxPickupMeters float64
}

// Service assigns drivers from its pool to trips.
type Service struct {
	store     Store
	publisher Publisher
	metrics   Metrics
	pool      []driver.Driver
	ids       []string // of pool, in pool order
	index     *driver.Index
	timing    Timing
	now       func() time.Time
}

// NewService returns a Service over the drivers of pool that follows
// timing and counts the outcomes it records with metrics; now is the
// clock. The pool's positions are indexed here, once: they never change.
func NewService(store Store, publisher Publisher, metrics Metrics, pool []driver.Driver, timing Timing, now func() time.Time) *Service {
	ids := make([]string, len(pool))
	for i, d := range pool {
		ids[i] = d.ID
	}
	return &Service{
		store:     store,
		publisher: publisher,
		metrics:   metrics,
		pool:      pool,
		ids:       ids,
		index:     driver.NewIndex(pool),
		timing:    timing,
		now:       now,
	}
}

// SeedPool stores every driver of the pool that is not stored yet, free.
// Drivers already stored keep their state, so a restart frees nobody, and a
// replica seeding at the same moment does no harm. A stored driver whose
// name, car or position differ from the pool's (the pool was configured
// anew) gets the pool's, and keeps their state. ErrConflict means a driver
// changed while it was updated: seed again.
func (s *Service) SeedPool(ctx context.Context) error {
	stored, err := s.store.Drivers(ctx, s.ids)
	if err != nil {
		return fmt.Errorf("seed pool: %w", err)
	}
	have := make(map[string]StoredDriver, len(stored))
	for _, sd := range stored {
		have[sd.Driver.ID] = sd
	}
	var missing []driver.Driver
	for _, d := range s.pool {
		sd, ok := have[d.ID]
		if !ok {
			missing = append(missing, d)
			continue
		}
		if sd.Driver.Name == d.Name && sd.Driver.Car == d.Car && sd.Driver.Position == d.Position {
			continue
		}
		updated := sd.Driver
		updated.Name, updated.Car, updated.Position = d.Name, d.Car, d.Position
		if err := s.store.SaveDriver(ctx, updated, sd.ETag); err != nil {
			return fmt.Errorf("seed pool: update driver %s: %w", d.ID, err)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := s.store.CreateDrivers(ctx, missing); err != nil {
		return fmt.Errorf("seed pool: %w", err)
	}
	return nil
}

// Page selects a part of the pool, in pool order: Limit drivers from
// Offset on, or all of them from Offset on when Limit is 0.
type Page struct {
	Offset int
	Limit  int
}

// Drivers returns the drivers of the page, in pool order, with each
// driver's state now: a driver whose ride has ended is free. The zero Page
// is the whole pool.
func (s *Service) Drivers(ctx context.Context, page Page) ([]driver.Driver, error) {
	ids := s.ids[min(max(page.Offset, 0), len(s.ids)):]
	if page.Limit > 0 && page.Limit < len(ids) {
		ids = ids[:page.Limit]
	}
	if len(ids) == 0 {
		return []driver.Driver{}, nil
	}
	stored, err := s.store.Drivers(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list drivers: %w", err)
	}
	if err := allStored(ids, stored); err != nil {
		return nil, fmt.Errorf("list drivers: %w", err)
	}
	now := s.now()
	drivers := make([]driver.Driver, len(stored))
	for i, sd := range stored {
		drivers[i] = sd.Driver.At(now)
	}
	return drivers, nil
}

// allStored returns ErrPoolNotSeeded unless stored, which the Store read
// for ids, holds every one of them.
func allStored(ids []string, stored []StoredDriver) error {
	if len(stored) == len(ids) {
		return nil
	}
	for i, id := range ids {
		if i >= len(stored) || stored[i].Driver.ID != id {
			return fmt.Errorf("%w: driver %s is not stored (%d of %d read)", ErrPoolNotSeeded, id, len(stored), len(ids))
		}
	}
	return fmt.Errorf("%w: %d of %d drivers stored", ErrPoolNotSeeded, len(stored), len(ids))
}

// idsOf returns the ids of the pool drivers at the given pool indices.
func (s *Service) idsOf(indices []int) []string {
	ids := make([]string, len(indices))
	for i, k := range indices {
		ids[i] = s.ids[k]
	}
	return ids
}
