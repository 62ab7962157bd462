package app_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

var (
	t0     = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	pickup = dispatch.Point{Lat: 50.08, Lon: 14.42}
	jarda  = dispatch.Driver{ID: "jarda", Name: "Jarda", Car: dispatch.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
)

// memoryStore is an app.Store in memory that checks ETags like the real
// one, and fails as a test tells it to.
type memoryStore struct {
	mu           sync.Mutex
	trips        map[string]dispatch.Trip
	tripVersions map[string]int
	board        dispatch.Board
	boardVersion int
	saves        int
	// failTripSave fails the next so many trip saves, as a crash between
	// the board's save and the trip's would.
	failTripSave int
	failWith     error
}

func newMemoryStore() *memoryStore {
	return &memoryStore{trips: map[string]dispatch.Trip{}, tripVersions: map[string]int{}, board: dispatch.NewBoard()}
}

func (s *memoryStore) LoadTrip(_ context.Context, id string) (dispatch.Trip, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return dispatch.Trip{}, "", s.failWith
	}
	t, ok := s.trips[id]
	if !ok {
		return dispatch.Trip{ID: id}, "", nil
	}
	return t, strconv.Itoa(s.tripVersions[id]), nil
}

func (s *memoryStore) SaveTrip(_ context.Context, t dispatch.Trip, etag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failTripSave > 0 {
		s.failTripSave--
		return errors.New("sidecar gone")
	}
	if want := s.etag(s.tripVersions[t.ID]); etag != want {
		return fmt.Errorf("trip etag %q, stored %q: %w", etag, want, app.ErrConflict)
	}
	s.trips[t.ID] = t
	s.tripVersions[t.ID]++
	s.saves++
	return nil
}

func (s *memoryStore) LoadBoard(context.Context) (dispatch.Board, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return dispatch.Board{}, "", s.failWith
	}
	return s.board.Clone(), s.etag(s.boardVersion), nil
}

func (s *memoryStore) SaveBoard(_ context.Context, b dispatch.Board, etag string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return "", s.failWith
	}
	if want := s.etag(s.boardVersion); etag != want {
		return "", fmt.Errorf("board etag %q, stored %q: %w", etag, want, app.ErrConflict)
	}
	s.board = b.Clone()
	s.boardVersion++
	s.saves++
	return s.etag(s.boardVersion), nil
}

func (s *memoryStore) etag(version int) string {
	if version == 0 {
		return ""
	}
	return strconv.Itoa(version)
}

// anotherReplica records a trip on the stored board, as another replica
// of the service would.
func (s *memoryStore) anotherReplica(trip dispatch.Trip, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.board.Record(trip, now)
	s.boardVersion++
}

type countMetrics struct {
	mu       sync.Mutex
	recorded map[string]int
}

func (m *countMetrics) TripRecorded(status string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recorded == nil {
		m.recorded = map[string]int{}
	}
	m.recorded[status]++
}

func newService(store app.Store) (*app.Service, *countMetrics) {
	m := &countMetrics{}
	return app.NewService(store, m, func() time.Time { return t0.Add(time.Minute) }, zerolog.Nop()), m
}

var (
	order      = app.TripCreated{TripID: "t1", RiderID: "rider-42", Pickup: pickup, RequestedAt: t0}
	assignment = app.DriverAssigned{TripID: "t1", RiderID: "rider-42", Driver: jarda, ETA: 4 * time.Minute, AssignedAt: t0.Add(time.Second)}
)

func TestRepeatedEventsChangeNothing(t *testing.T) {
	store := newMemoryStore()
	svc, m := newService(store)
	ctx := t.Context()
	for _, apply := range []func() error{
		func() error { return svc.TripOrdered(ctx, order) },
		func() error { return svc.TripOrdered(ctx, order) },
		func() error { return svc.DriverAssigned(ctx, assignment) },
		func() error { return svc.TripOrdered(ctx, order) },
		func() error { return svc.DriverAssigned(ctx, assignment) },
	} {
		if err := apply(); err != nil {
			t.Fatal(err)
		}
	}
	if store.saves != 4 {
		t.Errorf("%d saves, want 4: the trip and the board, for the order and for the assignment", store.saves)
	}
	p, err := svc.Picture(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Waiting) != 0 || len(p.Assigned) != 1 || p.Counters.AssignedRecently != 1 || len(p.Feed) != 2 {
		t.Errorf("picture %+v, want one trip assigned, counted once", p)
	}
	if m.recorded["waiting"] != 1 || m.recorded["assigned"] != 1 {
		t.Errorf("counted %v, want one waiting and one assigned", m.recorded)
	}
}

// A crash after the board was saved and before the trip was leaves the
// trip as it was: the redelivered event records it again, which the board
// takes as it is.
func TestAnEventCutOffBeforeTheTripIsSavedIsRecordedOnce(t *testing.T) {
	store := newMemoryStore()
	svc, _ := newService(store)
	if err := svc.TripOrdered(t.Context(), order); err != nil {
		t.Fatal(err)
	}
	store.failTripSave = 1
	if err := svc.DriverAssigned(t.Context(), assignment); err == nil {
		t.Fatal("the trip's save failed, and the event was not to be retried")
	}
	if err := svc.DriverAssigned(t.Context(), assignment); err != nil {
		t.Fatalf("redelivered: %v", err)
	}
	p, _ := svc.Picture(t.Context())
	if p.Counters.AssignedRecently != 1 || len(p.Feed) != 2 {
		t.Errorf("counted %d assignments and %d lines, want 1 and 2", p.Counters.AssignedRecently, len(p.Feed))
	}
	if got, _, _ := store.LoadTrip(t.Context(), "t1"); got.Status != dispatch.Assigned {
		t.Errorf("trip %+v, want assigned", got)
	}
}

// Another replica's save makes this one's remembered board stale: the
// save fails on its ETag, and the event is applied on the board as stored,
// losing neither change.
func TestAnotherReplicasChangeIsKept(t *testing.T) {
	store := newMemoryStore()
	svc, _ := newService(store)
	if err := svc.TripOrdered(t.Context(), order); err != nil {
		t.Fatal(err)
	}
	other, _ := dispatch.Trip{}.Ordered("t2", "rider-7", pickup, t0)
	store.anotherReplica(other, t0)
	if err := svc.DriverAssigned(t.Context(), assignment); err != nil {
		t.Fatal(err)
	}
	p, _ := svc.Picture(t.Context())
	if len(p.Waiting) != 1 || p.Waiting[0].ID != "t2" || len(p.Assigned) != 1 {
		t.Errorf("picture %+v, want t2 waiting (the other replica's) and t1 assigned", p)
	}
}

func TestAStoreThatFailsFailsTheEvent(t *testing.T) {
	store := newMemoryStore()
	store.failWith = errors.New("state store down")
	svc, _ := newService(store)
	if err := svc.TripOrdered(t.Context(), order); err == nil {
		t.Error("no error with the store down")
	}
	if _, err := svc.Picture(t.Context()); err == nil {
		t.Error("Picture: no error with the store down")
	}
}

func TestWatchersHearOfAChange(t *testing.T) {
	svc, _ := newService(newMemoryStore())
	wake, stop := svc.Watch()
	defer stop()
	if err := svc.TripOrdered(t.Context(), order); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
	default:
		t.Fatal("no wake-up after the board changed")
	}
	if err := svc.TripOrdered(t.Context(), order); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
		t.Error("a wake-up though the repeated order changed nothing")
	default:
	}
}
