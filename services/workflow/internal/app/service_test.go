package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ride-choreography/services/workflow/internal/app"
	"github.com/ride-choreography/services/workflow/internal/workflow"
)

var (
	now   = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	order = workflow.Order{RiderID: "rider-42", Pickup: workflow.Point{Lat: 50.0755, Lon: 14.4378}, Dropoff: workflow.Point{Lat: 50.1, Lon: 14.26}}
)

// fakeEngine keeps the trips whose workflows were started.
type fakeEngine struct {
	mu       sync.Mutex
	trips    map[string]workflow.Trip
	startErr error
	starts   int
	// unseen trips are not found until a start finds them there: the
	// start of another order with the same key, a moment before.
	unseen map[string]bool
}

func (e *fakeEngine) Start(_ context.Context, t workflow.Trip) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.starts++
	if e.startErr != nil {
		return e.startErr
	}
	if _, ok := e.trips[t.ID]; ok {
		delete(e.unseen, t.ID)
		return app.ErrExists
	}
	e.trips[t.ID] = t
	return nil
}

func (e *fakeEngine) Trip(_ context.Context, id string) (workflow.Trip, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.trips[id]
	if !ok || e.unseen[id] {
		return workflow.Trip{}, workflow.ErrNotFound
	}
	return t, nil
}

type countOrders struct{ n int }

func (c *countOrders) TripOrdered() { c.n++ }

func newService(e *fakeEngine, m *countOrders) *app.Service {
	ids := 0
	return app.NewService(e, m, func() time.Time { return now }, func() string { ids++; return "trip-" + string(rune('0'+ids)) })
}

func TestOrderStartsTheTripsWorkflow(t *testing.T) {
	e, m := &fakeEngine{trips: map[string]workflow.Trip{}}, &countOrders{}
	s := newService(e, m)
	placed, replayed, err := s.Order(t.Context(), order, "")
	if err != nil || replayed || placed.Status != workflow.StatusRequested || !placed.RequestedAt.Equal(now) {
		t.Fatalf("Order() = %+v, %v, %v; want a requested trip", placed, replayed, err)
	}
	if got, err := s.Trip(t.Context(), placed.ID); err != nil || got.ID != placed.ID {
		t.Errorf("Trip() = %+v, %v; want the trip its workflow started with", got, err)
	}
	if e.starts != 1 || m.n != 1 {
		t.Errorf("%d workflows started, %d orders counted; want 1 and 1", e.starts, m.n)
	}
}

func TestIdempotencyKeyFindsTheWorkflow(t *testing.T) {
	e, m := &fakeEngine{trips: map[string]workflow.Trip{}}, &countOrders{}
	s := newService(e, m)
	first, _, err := s.Order(t.Context(), order, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	again, replayed, err := s.Order(t.Context(), order, "key-1")
	if err != nil || !replayed || again.ID != first.ID {
		t.Errorf("replay = %+v, %v, %v; want the first trip, replayed", again, replayed, err)
	}
	other := order
	other.Dropoff = workflow.Point{Lat: 50.2, Lon: 14.3}
	if _, _, err := s.Order(t.Context(), other, "key-1"); !errors.Is(err, app.ErrIdempotencyKeyReused) {
		t.Errorf("another order with the key: %v, want ErrIdempotencyKeyReused", err)
	}
	if e.starts != 1 || m.n != 1 {
		t.Errorf("%d workflows started, %d orders counted; want 1 and 1", e.starts, m.n)
	}
}

// Two orders with one key at the same moment: the second finds no trip,
// then its start finds the workflow the first started, and it is a replay.
func TestConcurrentReplayIsAReplay(t *testing.T) {
	e, m := &fakeEngine{trips: map[string]workflow.Trip{}, unseen: map[string]bool{}}, &countOrders{}
	s := newService(e, m)
	first, _, err := s.Order(t.Context(), order, "key-2")
	if err != nil {
		t.Fatal(err)
	}
	e.unseen[first.ID] = true
	if again, replayed, err := s.Order(t.Context(), order, "key-2"); err != nil || !replayed || again.ID != first.ID {
		t.Errorf("Order() = %+v, %v, %v; want the first trip, replayed", again, replayed, err)
	}
	if e.starts != 2 || m.n != 1 {
		t.Errorf("%d starts, %d orders counted; want 2 starts (the second refused) and 1 order", e.starts, m.n)
	}
}

func TestAFailedStartIsAnError(t *testing.T) {
	e := &fakeEngine{trips: map[string]workflow.Trip{}, startErr: errors.New("sidecar unavailable")}
	m := &countOrders{}
	s := newService(e, m)
	if _, _, err := s.Order(t.Context(), order, ""); err == nil {
		t.Error("Order() succeeded with the workflow not started")
	}
	if m.n != 0 {
		t.Error("an order not accepted was counted")
	}
}

func TestInvalidOrderStartsNothing(t *testing.T) {
	e := &fakeEngine{trips: map[string]workflow.Trip{}}
	s := newService(e, &countOrders{})
	if _, _, err := s.Order(t.Context(), workflow.Order{}, ""); !errors.Is(err, workflow.ErrInvalidOrder) {
		t.Errorf("Order() = %v, want trip.ErrInvalidOrder", err)
	}
	if e.starts != 0 {
		t.Error("an invalid order started a workflow")
	}
}

func TestUnknownTrip(t *testing.T) {
	s := newService(&fakeEngine{trips: map[string]workflow.Trip{}}, &countOrders{})
	if _, err := s.Trip(t.Context(), "nope"); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("Trip() = %v, want trip.ErrNotFound", err)
	}
}
