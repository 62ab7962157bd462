package app

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/trip/internal/trip"
)

// fakeStore is an in-memory Store that records what was created and can be
// told to fail.
type fakeStore struct {
	trips     map[string]trip.Trip
	versions  map[string]int
	created   []TripCreated
	createErr error
	getErr    error
	// conflicts makes the next n Updates fail with ErrConflict.
	conflicts int
	updates   int
}

func newFakeStore() *fakeStore {
	return &fakeStore{trips: map[string]trip.Trip{}, versions: map[string]int{}}
}

func (f *fakeStore) Create(_ context.Context, t trip.Trip, event TripCreated) error {
	if f.createErr != nil {
		return f.createErr
	}
	f.trips[t.ID] = t
	f.versions[t.ID]++
	f.created = append(f.created, event)
	return nil
}

func (f *fakeStore) Get(_ context.Context, id string) (trip.Trip, string, error) {
	if f.getErr != nil {
		return trip.Trip{}, "", f.getErr
	}
	t, ok := f.trips[id]
	if !ok {
		return trip.Trip{}, "", trip.ErrNotFound
	}
	return t, strconv.Itoa(f.versions[id]), nil
}

func (f *fakeStore) Update(_ context.Context, t trip.Trip, version string) error {
	if f.conflicts > 0 {
		f.conflicts--
		f.versions[t.ID]++ // another replica wrote
		return ErrConflict
	}
	if version != strconv.Itoa(f.versions[t.ID]) {
		return ErrConflict
	}
	f.trips[t.ID] = t
	f.versions[t.ID]++
	f.updates++
	return nil
}

var (
	now    = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	order  = trip.Order{RiderID: "rider-42", Pickup: trip.Point{Lat: 50.08, Lon: 14.42}, Dropoff: trip.Point{Lat: 50.1, Lon: 14.26}}
	jarda  = trip.Driver{ID: "jarda", Name: "Jarda", Car: trip.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
	errBad = errors.New("sidecar unavailable")
)

func newService(store Store) *Service {
	n := 0
	return New(store, func() time.Time { return now }, func() string {
		n++
		return "00000000-0000-4000-8000-00000000000" + strconv.Itoa(n)
	})
}

func TestOrderCreatesTripAndEvent(t *testing.T) {
	store := newFakeStore()
	got, replayed, err := newService(store).Order(context.Background(), order, "")
	if err != nil {
		t.Fatal(err)
	}
	want := trip.Trip{
		ID: "00000000-0000-4000-8000-000000000001", RiderID: "rider-42",
		Pickup: order.Pickup, Dropoff: order.Dropoff,
		Status: trip.StatusRequested, RequestedAt: now, UpdatedAt: now,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trip (-want +got):\n%s", diff)
	}
	if replayed {
		t.Error("replayed = true for a first order")
	}
	wantEvents := []TripCreated{{
		TripID: want.ID, RiderID: "rider-42",
		Pickup: Point{Lat: 50.08, Lon: 14.42}, Dropoff: Point{Lat: 50.1, Lon: 14.26},
		RequestedAt: now,
	}}
	if diff := cmp.Diff(wantEvents, store.created); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestOrderWithoutKeyCreatesNewTrips(t *testing.T) {
	store := newFakeStore()
	s := newService(store)
	first, _, _ := s.Order(context.Background(), order, "")
	second, _, _ := s.Order(context.Background(), order, "")
	if first.ID == second.ID || len(store.created) != 2 {
		t.Errorf("two orders without a key: ids %s, %s and %d events; want two trips", first.ID, second.ID, len(store.created))
	}
}

func TestOrderIdempotencyKey(t *testing.T) {
	store := newFakeStore()
	s := newService(store)
	ctx := context.Background()

	first, replayed, err := s.Order(ctx, order, "key-1")
	if err != nil || replayed {
		t.Fatalf("first order: replayed=%v err=%v", replayed, err)
	}
	again, replayed, err := s.Order(ctx, order, "key-1")
	if err != nil || !replayed {
		t.Fatalf("retried order: replayed=%v err=%v, want replayed", replayed, err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("retried order returned another trip (-first +retry):\n%s", diff)
	}
	if len(store.created) != 1 {
		t.Errorf("%d trip-created events, want 1", len(store.created))
	}

	otherRider := order
	otherRider.RiderID = "rider-43"
	theirs, _, err := s.Order(ctx, otherRider, "key-1")
	if err != nil || theirs.ID == first.ID {
		t.Errorf("another rider's key-1: id %s err %v; keys are per rider", theirs.ID, err)
	}

	changed := order
	changed.Dropoff = trip.Point{Lat: 49.19, Lon: 16.61}
	if _, _, err := s.Order(ctx, changed, "key-1"); !errors.Is(err, ErrIdempotencyKeyReused) {
		t.Errorf("same key, different order: err = %v, want ErrIdempotencyKeyReused", err)
	}
	if len(store.created) != 2 {
		t.Errorf("%d trip-created events, want 2 (one per rider)", len(store.created))
	}
}

func TestOrderRefusesInvalidOrder(t *testing.T) {
	store := newFakeStore()
	bad := order
	bad.Pickup.Lat = 91
	if _, _, err := newService(store).Order(context.Background(), bad, ""); !errors.Is(err, trip.ErrInvalidOrder) {
		t.Fatalf("err = %v, want ErrInvalidOrder", err)
	}
	if len(store.trips) != 0 || len(store.created) != 0 {
		t.Errorf("an invalid order stored %d trips and %d events", len(store.trips), len(store.created))
	}
}

func TestOrderStoreFailures(t *testing.T) {
	store := newFakeStore()
	store.createErr = errBad
	if _, _, err := newService(store).Order(context.Background(), order, ""); !errors.Is(err, errBad) {
		t.Errorf("create failure: err = %v, want it wrapped", err)
	}
	store = newFakeStore()
	store.getErr = errBad
	if _, _, err := newService(store).Order(context.Background(), order, "key"); !errors.Is(err, errBad) {
		t.Errorf("lookup failure: err = %v, want it wrapped", err)
	}
	if len(store.created) != 0 {
		t.Errorf("a failed lookup still created %d trips", len(store.created))
	}
}

func TestDriverAssigned(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := newService(store)
	tr, _, _ := s.Order(ctx, order, "")
	event := DriverAssigned{TripID: tr.ID, Driver: jarda, ETASeconds: 240, AssignedAt: now.Add(time.Second)}

	changed, err := s.DriverAssigned(ctx, event)
	if err != nil || !changed {
		t.Fatalf("first event: changed=%v err=%v", changed, err)
	}
	changed, err = s.DriverAssigned(ctx, event)
	if err != nil || changed {
		t.Fatalf("redelivered event: changed=%v err=%v, want no change", changed, err)
	}
	got, _ := s.Trip(ctx, tr.ID)
	if got.Status != trip.StatusDriverAssigned || got.Driver == nil || got.Driver.Name != "Jarda" || got.ETASeconds != 240 {
		t.Errorf("trip after assignment = %+v", got)
	}
	if store.updates != 1 {
		t.Errorf("%d writes, want 1", store.updates)
	}
}

func TestDriverAssignedRetriesOnConflict(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := newService(store)
	tr, _, _ := s.Order(ctx, order, "")

	store.conflicts = 2
	changed, err := s.DriverAssigned(ctx, DriverAssigned{TripID: tr.ID, Driver: jarda, ETASeconds: 60, AssignedAt: now})
	if err != nil || !changed {
		t.Fatalf("after two conflicts: changed=%v err=%v, want the third attempt to win", changed, err)
	}

	other, _, _ := s.Order(ctx, order, "")
	store.conflicts = maxUpdateAttempts
	if _, err := s.DriverAssigned(ctx, DriverAssigned{TripID: other.ID, Driver: jarda, AssignedAt: now}); !errors.Is(err, ErrConflict) {
		t.Errorf("endless conflicts: err = %v, want ErrConflict (so the event is retried)", err)
	}
}

func TestEventsForUnknownTrip(t *testing.T) {
	s := newService(newFakeStore())
	if _, err := s.DriverAssigned(context.Background(), DriverAssigned{TripID: "nope", Driver: jarda}); !errors.Is(err, trip.ErrNotFound) {
		t.Errorf("DriverAssigned: err = %v, want ErrNotFound", err)
	}
	if _, err := s.DriverNotFound(context.Background(), DriverNotFound{TripID: "nope"}); !errors.Is(err, trip.ErrNotFound) {
		t.Errorf("DriverNotFound: err = %v, want ErrNotFound", err)
	}
}

func TestDriverNotFound(t *testing.T) {
	ctx := context.Background()
	s := newService(newFakeStore())
	tr, _, _ := s.Order(ctx, order, "")
	event := DriverNotFound{TripID: tr.ID, DecidedAt: now.Add(time.Minute)}
	if changed, err := s.DriverNotFound(ctx, event); err != nil || !changed {
		t.Fatalf("first event: changed=%v err=%v", changed, err)
	}
	if changed, err := s.DriverNotFound(ctx, event); err != nil || changed {
		t.Fatalf("redelivered event: changed=%v err=%v, want no change", changed, err)
	}
	if _, err := s.DriverAssigned(ctx, DriverAssigned{TripID: tr.ID, Driver: jarda}); !errors.Is(err, trip.ErrOutcomeConflict) {
		t.Errorf("driver after no_driver: err = %v, want ErrOutcomeConflict", err)
	}
	got, _ := s.Trip(ctx, tr.ID)
	if got.Status != trip.StatusNoDriver {
		t.Errorf("status = %s, want no_driver", got.Status)
	}
}
