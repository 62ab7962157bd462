// Package app holds the driver service's use cases and the ports they need:
// a Store for the pool and the assignments, and a Publisher for events.
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

// Timing holds the durations that assignment follows.
type Timing struct {
	// AssignDeadline is how long after it was requested a trip waits (its
	// event is retried) for a free driver before it settles on
	// DriverNotFound.
	AssignDeadline time.Duration
	// RideDuration is how long a driver stays on a trip; then they are free
	// again.
	RideDuration time.Duration
}

// Service assigns drivers from its pool to trips.
type Service struct {
	store     Store
	publisher Publisher
	pool      []driver.Driver
	timing    Timing
	now       func() time.Time
}

// NewService returns a Service over the drivers of pool that follows
// timing; now is the clock.
func NewService(store Store, publisher Publisher, pool []driver.Driver, timing Timing, now func() time.Time) *Service {
	return &Service{store: store, publisher: publisher, pool: pool, timing: timing, now: now}
}

// SeedPool stores every driver of the pool that is not stored yet, free.
// Drivers already stored keep their state, so a restart frees nobody, and a
// replica seeding at the same moment does no harm.
func (s *Service) SeedPool(ctx context.Context) error {
	stored, err := s.store.Drivers(ctx, s.poolIDs())
	if err != nil {
		return fmt.Errorf("seed pool: %w", err)
	}
	have := make(map[string]bool, len(stored))
	for _, sd := range stored {
		have[sd.Driver.ID] = true
	}
	for _, d := range s.pool {
		if have[d.ID] {
			continue
		}
		if err := s.store.SaveDriver(ctx, d, ""); err != nil && !errors.Is(err, ErrConflict) {
			return fmt.Errorf("seed pool: %w", err)
		}
	}
	return nil
}

// Drivers returns the pool, in pool order, with each driver's state now:
// a driver whose ride has ended is free.
func (s *Service) Drivers(ctx context.Context) ([]driver.Driver, error) {
	stored, err := s.storedPool(ctx)
	if err != nil {
		return nil, fmt.Errorf("list drivers: %w", err)
	}
	now := s.now()
	drivers := make([]driver.Driver, len(stored))
	for i, sd := range stored {
		drivers[i] = sd.Driver.At(now)
	}
	return drivers, nil
}

// storedPool reads every driver of the pool with its ETag.
func (s *Service) storedPool(ctx context.Context) ([]StoredDriver, error) {
	stored, err := s.store.Drivers(ctx, s.poolIDs())
	if err != nil {
		return nil, err
	}
	if len(stored) != len(s.pool) {
		return nil, fmt.Errorf("%w: %d of %d drivers stored", ErrPoolNotSeeded, len(stored), len(s.pool))
	}
	return stored, nil
}

func (s *Service) poolIDs() []string {
	ids := make([]string, len(s.pool))
	for i, d := range s.pool {
		ids[i] = d.ID
	}
	return ids
}
