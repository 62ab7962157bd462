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
	inserts   int
	insertErr error
	getErr    error
	// conflicts makes the next n Updates fail with ErrConflict.
	conflicts int
	updates   int
	gets      int
	// remembered is what Recent answers, as the Dapr adapter remembers
	// its own writes; tests may make it stale.
	remembered map[string]rememberedTrip
}

type rememberedTrip struct {
	trip    trip.Trip
	version string
}

func newFakeStore() *fakeStore {
	return &fakeStore{trips: map[string]trip.Trip{}, versions: map[string]int{}, remembered: map[string]rememberedTrip{}}
}

func (f *fakeStore) Recent(id string) (trip.Trip, string, bool) {
	r, ok := f.remembered[id]
	return r.trip, r.version, ok
}

func (f *fakeStore) Insert(_ context.Context, t trip.Trip) (bool, error) {
	if f.insertErr != nil {
		return false, f.insertErr
	}
	if _, ok := f.trips[t.ID]; ok {
		return false, nil
	}
	f.trips[t.ID] = t
	f.versions[t.ID]++
	f.inserts++
	f.remembered[t.ID] = rememberedTrip{t, strconv.Itoa(f.versions[t.ID])}
	return true, nil
}

// fakePublisher records what was published and can be told to fail.
type fakePublisher struct {
	created []TripCreated
	err     error
}

func (f *fakePublisher) Publish(_ context.Context, topic string, event any) error {
	if f.err != nil {
		return f.err
	}
	if topic != TopicTripCreated {
		return errors.New("unexpected topic " + topic)
	}
	f.created = append(f.created, event.(TripCreated))
	return nil
}

func (f *fakeStore) Get(_ context.Context, id string) (trip.Trip, string, error) {
	f.gets++
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
	f.remembered[t.ID] = rememberedTrip{t, strconv.Itoa(f.versions[t.ID])}
	return nil
}

var (
	now    = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	order  = trip.Order{RiderID: "rider-42", Pickup: trip.Point{Lat: 50.08, Lon: 14.42}, Dropoff: trip.Point{Lat: 50.1, Lon: 14.26}}
	jarda  = trip.Driver{ID: "jarda", Name: "Jarda", Car: trip.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
	errBad = errors.New("sidecar unavailable")
)

// published and counted are the publisher and the metrics of the last
// newService.
var (
	published *fakePublisher
	counted   *recordingMetrics
)

func newService(store Store) *Service {
	n := 0
	published = &fakePublisher{}
	counted = &recordingMetrics{}
	return NewService(store, published, counted, func() time.Time { return now }, func() string {
		n++
		return "00000000-0000-4000-8000-00000000000" + strconv.Itoa(n)
	})
}

// ordered returns a service, its store, and a trip it has just ordered.
func ordered(t *testing.T) (*Service, *fakeStore, trip.Trip) {
	t.Helper()
	store := newFakeStore()
	s := newService(store)
	tr, _, err := s.Order(context.Background(), order, "")
	if err != nil {
		t.Fatal(err)
	}
	return s, store, tr
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
	if diff := cmp.Diff(wantEvents, published.created); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]trip.Trip{want.ID: want}, store.trips); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

func TestOrderWithoutKeyCreatesNewTrips(t *testing.T) {
	store := newFakeStore()
	s := newService(store)
	first, _, _ := s.Order(context.Background(), order, "")
	second, _, _ := s.Order(context.Background(), order, "")
	if first.ID == second.ID || len(published.created) != 2 {
		t.Errorf("two orders without a key: ids %s, %s and %d events; want two trips", first.ID, second.ID, len(published.created))
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
	if len(published.created) != 1 {
		t.Errorf("%d trip-created events, want 1", len(published.created))
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
	if len(published.created) != 2 {
		t.Errorf("%d trip-created events, want 2 (one per rider)", len(published.created))
	}
}

// TestRefusalsStoreAndPublishNothing: an order or a trip-created event that
// the service refuses leaves no trip and no event behind.
func TestRefusalsStoreAndPublishNothing(t *testing.T) {
	ctx := context.Background()
	ordering := func(o trip.Order, key string) func(*Service) error {
		return func(s *Service) error {
			_, _, err := s.Order(ctx, o, key)
			return err
		}
	}
	bad := order
	bad.Pickup.Lat = 91
	invalidCreated := TripCreated{TripID: "00000000-0000-4000-8000-000000000009", RiderID: "", Pickup: Point{Lat: 50, Lon: 14}, Dropoff: Point{Lat: 50, Lon: 14}, RequestedAt: now}
	tests := []struct {
		name    string
		fail    func(*fakeStore, *fakePublisher) // nil: nothing fails
		call    func(*Service) error
		want    error
		notWant error // nil: no error is ruled out
	}{
		{name: "invalid order", call: ordering(bad, ""), want: trip.ErrInvalidOrder},
		{
			name: "publish failure", fail: func(_ *fakeStore, p *fakePublisher) { p.err = errBad },
			call: ordering(order, ""), want: errBad, notWant: ErrNotRecordedYet,
		},
		{
			name: "idempotency key lookup failure", fail: func(s *fakeStore, _ *fakePublisher) { s.getErr = errBad },
			call: ordering(order, "key"), want: errBad,
		},
		{
			name: "invalid trip-created",
			call: func(s *Service) error {
				_, err := s.TripCreated(ctx, invalidCreated)
				return err
			},
			want: trip.ErrInvalidOrder,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			s := newService(store)
			if tt.fail != nil {
				tt.fail(store, published)
			}
			err := tt.call(s)
			if !errors.Is(err, tt.want) || tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Fatalf("err = %v, want it to wrap %v (and not %v)", err, tt.want, tt.notWant)
			}
			if len(store.trips) != 0 || len(published.created) != 0 {
				t.Errorf("a refusal stored %d trips and published %d events, want none", len(store.trips), len(published.created))
			}
		})
	}
}

func TestOrderRecordFailureIsStillAccepted(t *testing.T) {
	store := newFakeStore()
	store.insertErr = errBad
	s := newService(store)
	got, _, err := s.Order(context.Background(), order, "")
	if !errors.Is(err, ErrNotRecordedYet) || !errors.Is(err, errBad) {
		t.Fatalf("record failure: err = %v, want ErrNotRecordedYet wrapping the cause", err)
	}
	if got.ID == "" || len(published.created) != 1 {
		t.Fatalf("record failure: trip %+v and %d events, want the accepted trip and its event", got, len(published.created))
	}
	// The service's own subscription then records it from the event.
	store.insertErr = nil
	changed, err := s.TripCreated(context.Background(), published.created[0])
	if err != nil || !changed {
		t.Fatalf("TripCreated: changed=%v err=%v, want the trip recorded", changed, err)
	}
	if diff := cmp.Diff(got, store.trips[got.ID]); diff != "" {
		t.Errorf("recorded from the event (-accepted +stored):\n%s", diff)
	}
}

func TestTripCreatedOfARecordedTripChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, store, tr := ordered(t)
	if _, err := s.DriverAssigned(ctx, DriverAssigned{TripID: tr.ID, Driver: jarda, ETASeconds: 60, AssignedAt: now}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if changed, err := s.TripCreated(ctx, published.created[0]); err != nil || changed {
			t.Fatalf("redelivered trip-created: changed=%v err=%v, want no change", changed, err)
		}
	}
	if got := store.trips[tr.ID]; got.Status != trip.StatusDriverAssigned {
		t.Errorf("status after trip-created came again = %s, want driver_assigned kept", got.Status)
	}
	if store.inserts != 1 {
		t.Errorf("%d inserts, want 1", store.inserts)
	}
}

func TestTripCreatedWrittenByAnotherReplicaIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	s, store, tr := ordered(t)
	delete(store.remembered, tr.ID) // as a replica that did not take the order
	if changed, err := s.TripCreated(ctx, published.created[0]); err != nil || changed {
		t.Fatalf("trip-created of a trip stored by another replica: changed=%v err=%v, want no change", changed, err)
	}
	if store.inserts != 1 || store.trips[tr.ID].Status != trip.StatusRequested {
		t.Errorf("%d inserts, trip %+v; want the one insert and the trip as stored", store.inserts, store.trips[tr.ID])
	}
}

func TestDriverAssignedStartsFromTheTripThisProcessWrote(t *testing.T) {
	ctx := context.Background()
	s, store, tr := ordered(t)
	gets := store.gets
	if changed, err := s.DriverAssigned(ctx, DriverAssigned{TripID: tr.ID, Driver: jarda, ETASeconds: 60, AssignedAt: now}); err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	if store.gets != gets {
		t.Errorf("%d reads for the trip this process just wrote, want none", store.gets-gets)
	}
}

func TestDriverEventsDecideOnTheStoredTripWhenRememberedIsStale(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		stored func(*trip.Trip) // what another replica did meanwhile
		event  func(*Service, string) (bool, error)
		want   trip.Status
		err    error
	}{
		{
			name:   "assigned elsewhere, the same driver again: a duplicate",
			stored: func(t *trip.Trip) { t.AssignDriver(jarda, 60, now) },
			event: func(s *Service, id string) (bool, error) {
				return s.DriverAssigned(ctx, DriverAssigned{TripID: id, Driver: jarda, ETASeconds: 60, AssignedAt: now})
			},
			want: trip.StatusDriverAssigned,
		},
		{
			name:   "no driver elsewhere, then an assignment: a conflict",
			stored: func(t *trip.Trip) { t.MarkNoDriver(now) },
			event: func(s *Service, id string) (bool, error) {
				return s.DriverAssigned(ctx, DriverAssigned{TripID: id, Driver: jarda, ETASeconds: 60, AssignedAt: now})
			},
			want: trip.StatusNoDriver, err: trip.ErrOutcomeConflict,
		},
		{
			name:   "nothing elsewhere but a newer version: written over it",
			stored: func(*trip.Trip) {},
			event: func(s *Service, id string) (bool, error) {
				return s.DriverNotFound(ctx, DriverNotFound{TripID: id, DecidedAt: now})
			},
			want: trip.StatusNoDriver,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, store, tr := ordered(t)
			stored := store.trips[tr.ID]
			tt.stored(&stored)
			store.trips[tr.ID] = stored
			store.versions[tr.ID]++ // the remembered version is stale now
			_, err := tt.event(s, tr.ID)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got := store.trips[tr.ID].Status; got != tt.want {
				t.Errorf("status %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDriverAssigned(t *testing.T) {
	ctx := context.Background()
	s, store, tr := ordered(t)
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
	s, store, tr := ordered(t)

	store.conflicts = 2
	changed, err := s.DriverAssigned(ctx, DriverAssigned{TripID: tr.ID, Driver: jarda, ETASeconds: 60, AssignedAt: now})
	if err != nil || !changed {
		t.Fatalf("after two conflicts: changed=%v err=%v, want the third attempt to win", changed, err)
	}

	other, _, _ := s.Order(ctx, order, "")
	store.conflicts = maxAttempts
	if _, err := s.DriverAssigned(ctx, DriverAssigned{TripID: other.ID, Driver: jarda, AssignedAt: now}); !errors.Is(err, ErrConflict) {
		t.Errorf("endless conflicts: err = %v, want ErrConflict (so the event is retried)", err)
	}
}

func TestEventsForUnknownTrip(t *testing.T) {
	s := newService(newFakeStore())
	tests := []struct {
		name    string
		decided time.Time
		want    error
		notWant error
	}{
		// Its trip-created may still be on its way: retried.
		{"just decided", now.Add(-time.Second), ErrTripNotYetKnown, trip.ErrNotFound},
		// Long past any late trip-created: a trip never ordered.
		{"decided long ago", now.Add(-unknownTripGrace), trip.ErrNotFound, ErrTripNotYetKnown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.DriverAssigned(context.Background(), DriverAssigned{TripID: "nope", Driver: jarda, AssignedAt: tt.decided})
			if !errors.Is(err, tt.want) || errors.Is(err, tt.notWant) {
				t.Errorf("DriverAssigned: err = %v, want %v", err, tt.want)
			}
			_, err = s.DriverNotFound(context.Background(), DriverNotFound{TripID: "nope", DecidedAt: tt.decided})
			if !errors.Is(err, tt.want) || errors.Is(err, tt.notWant) {
				t.Errorf("DriverNotFound: err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDriverNotFound(t *testing.T) {
	ctx := context.Background()
	s, _, tr := ordered(t)
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
