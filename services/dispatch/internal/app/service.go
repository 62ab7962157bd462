// Package app holds the dispatch service's use cases: keeping the
// dispatchers' board up to date with the events of every trip, reading the
// picture it shows, and keeping the events the service dropped. It
// declares the ports it needs; adapters in other packages satisfy them.
package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

// Service keeps the board. Each event is applied first to the trip it
// belongs to, kept under its own key: a trip an event does not change (the
// event came before) leaves everything as it was. A change is then
// recorded on the board, and last saved to the trip's key, so that a crash
// in between leaves the trip unchanged and the event's redelivery records
// it again (which the board, recording each trip once, takes as it is).
//
// One process changes the board one event at a time, and remembers the
// board it saved with its ETag, so an event costs a trip load and two
// saves; another replica's save makes the next one fail on the ETag, and
// the event is then applied again on the board as stored.
type Service struct {
	store   Store
	metrics Metrics
	now     func() time.Time
	log     zerolog.Logger

	mu        sync.Mutex
	board     dispatch.Board // the board as this process last saved or loaded it
	boardETag string
	known     bool // board and boardETag are known

	wakeups *wakeups
}

// NewService returns a Service that keeps the board in store, counts with
// metrics and reads the time from now.
func NewService(store Store, metrics Metrics, now func() time.Time, logger zerolog.Logger) *Service {
	return &Service{store: store, metrics: metrics, now: now, log: logger, wakeups: newWakeups()}
}

// maxAttempts bounds the attempts of one event under contention; the
// caller then retries the whole event.
const maxAttempts = 5

// TripOrdered records that a rider ordered a trip and waits for a driver.
func (s *Service) TripOrdered(ctx context.Context, e TripCreated) error {
	return s.apply(ctx, e.TripID, func(t dispatch.Trip) (dispatch.Trip, bool) {
		return t.Ordered(e.TripID, e.RiderID, e.Pickup, e.RequestedAt)
	})
}

// DriverAssigned records that a driver comes for a trip.
func (s *Service) DriverAssigned(ctx context.Context, e DriverAssigned) error {
	return s.apply(ctx, e.TripID, func(t dispatch.Trip) (dispatch.Trip, bool) {
		return t.Assigned(e.TripID, e.RiderID, e.Driver, e.ETA, e.AssignedAt)
	})
}

// DriverNotFound records that no driver can be sent for a trip.
func (s *Service) DriverNotFound(ctx context.Context, e DriverNotFound) error {
	return s.apply(ctx, e.TripID, func(t dispatch.Trip) (dispatch.Trip, bool) {
		return t.NotFound(e.TripID, e.RiderID, e.NoneNear, e.DecidedAt)
	})
}

// apply applies change to the trip tripID and records the result on the
// board, trying again while another writer comes first.
func (s *Service) apply(ctx context.Context, tripID string, change func(dispatch.Trip) (dispatch.Trip, bool)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for range maxAttempts {
		err = s.applyOnce(ctx, tripID, change)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("trip %s: gave up after %d attempts: %w", tripID, maxAttempts, err)
}

func (s *Service) applyOnce(ctx context.Context, tripID string, change func(dispatch.Trip) (dispatch.Trip, bool)) error {
	trip, tripETag, err := s.store.LoadTrip(ctx, tripID)
	if err != nil {
		return err
	}
	next, changed := change(trip)
	if !changed {
		return nil // seen before
	}
	if !s.known {
		if s.board, s.boardETag, err = s.store.LoadBoard(ctx); err != nil {
			return err
		}
		s.known = true
	}
	board := s.board.Clone()
	if board.Record(next, s.now()) {
		etag, err := s.store.SaveBoard(ctx, board, s.boardETag)
		if err != nil {
			s.known = false
			return err
		}
		s.board, s.boardETag, s.known = board, etag, etag != ""
		s.metrics.TripRecorded(string(next.Status))
		s.wakeups.wake()
	}
	return s.store.SaveTrip(ctx, next, tripETag)
}

// Picture returns what the board shows now, as stored: with the changes
// of every replica.
func (s *Service) Picture(ctx context.Context) (dispatch.Picture, error) {
	b, _, err := s.store.LoadBoard(ctx)
	if err != nil {
		return dispatch.Picture{}, err
	}
	return b.Picture(s.now()), nil
}

// Watch returns a channel that receives a value when this process has
// changed the board, and the function that stops the watch.
func (s *Service) Watch() (wake <-chan struct{}, stop func()) {
	return s.wakeups.watch()
}
