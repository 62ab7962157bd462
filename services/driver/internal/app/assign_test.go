package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
	"github.com/ride-choreography/services/driver/internal/tracing"
)

const (
	tripID   = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
	deadline = 60 * time.Second
	ride     = 2 * time.Minute
)

var (
	requestedAt = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	timing      = app.Timing{AssignDeadline: deadline, RideDuration: ride}
	// atJarda is a pickup right where Jarda waits, so Jarda is nearest.
	atJarda = driver.Position{Lat: 50.0755, Lon: 14.4378}
)

// fixture is a Service over recording fakes, with a clock the test moves.
type fixture struct {
	store     *testkit.Store
	publisher *testkit.Publisher
	metrics   *testkit.Metrics
	service   *app.Service
	now       time.Time
}

func newFixture(drivers ...driver.Driver) *fixture {
	f := &fixture{
		store:     testkit.NewStore(drivers...),
		publisher: &testkit.Publisher{},
		metrics:   &testkit.Metrics{},
		now:       requestedAt.Add(time.Second),
	}
	f.service = app.NewService(f.store, f.publisher, f.metrics, driver.DefaultPool(), timing, func() time.Time { return f.now })
	return f
}

func trip(id string) app.TripCreated {
	return app.TripCreated{
		TripID:      id,
		RiderID:     "rider-42",
		Pickup:      atJarda,
		Dropoff:     driver.Position{Lat: 50.1, Lon: 14.26},
		RequestedAt: requestedAt,
	}
}

// assigned is the DriverAssigned event for trip id with the pool driver
// driverID, assigned at the given time.
func assigned(t *testing.T, id, driverID string, at time.Time) app.DriverAssigned {
	t.Helper()
	d := poolDriver(t, driverID)
	return app.DriverAssigned{
		TripID:     id,
		RiderID:    "rider-42",
		Driver:     app.EventDriver{ID: d.ID, Name: d.Name, Car: app.EventCar{Make: d.Car.Make, Model: d.Car.Model, Color: d.Car.Color, Plate: d.Car.Plate}},
		ETASeconds: int(driver.ETA(driver.Distance(d.Position, atJarda)) / time.Second),
		AssignedAt: at,
	}
}

func poolDriver(t *testing.T, id string) driver.Driver {
	t.Helper()
	for _, d := range driver.DefaultPool() {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("no driver %q in the default pool", id)
	return driver.Driver{}
}

// onTrip returns the pool with the given drivers on the given trips, rides
// that began at since.
func onTrip(t *testing.T, since time.Time, tripsByDriver map[string]string) []driver.Driver {
	t.Helper()
	pool := driver.DefaultPool()
	for i, d := range pool {
		if tid, ok := tripsByDriver[d.ID]; ok {
			reserved, err := d.Reserve(tid, since, ride)
			if err != nil {
				t.Fatalf("reserve %s: %v", d.ID, err)
			}
			pool[i] = reserved
		}
	}
	return pool
}

// tripsByDriver returns which driver of the store is on which trip at now.
func tripsByDriver(s *testkit.Store, now time.Time) map[string]string {
	out := map[string]string{}
	for id, d := range s.Pool() {
		if d = d.At(now); d.Status == driver.StatusOnTrip {
			out[id] = d.TripID
		}
	}
	return out
}

// once returns a hook that runs fn on its first call only, as a rival
// replica or a crash strikes once. The hook counts as run before fn runs,
// so that fn may itself call what runs the hook.
func once(fn func()) func() {
	done := false
	return func() {
		if !done {
			done = true
			fn()
		}
	}
}

// assignedMessage is the message announcing the pool driver driverID on
// trip tripID, assigned at the given time.
func assignedMessage(t *testing.T, driverID string, at time.Time) testkit.Message {
	t.Helper()
	return testkit.Message{Topic: app.TopicDriverAssigned, Event: assigned(t, tripID, driverID, at)}
}

// notFoundMessage is the message saying no driver was found for trip
// tripID, decided at the given time.
func notFoundMessage(at time.Time) testkit.Message {
	return testkit.Message{Topic: app.TopicDriverNotFound, Event: app.DriverNotFound{
		TripID:     tripID,
		RiderID:    "rider-42",
		Reason:     "no driver became free within 60s",
		ReasonCode: app.ReasonNoDriverFree,
		DecidedAt:  at,
	}}
}

// allOnOtherTrips returns every pool driver on a trip of their own, by
// driver id.
func allOnOtherTrips() map[string]string {
	trips := map[string]string{}
	for i, d := range driver.DefaultPool() {
		trips[d.ID] = fmt.Sprintf("other-trip-%d", i)
	}
	return trips
}

// checkPublished fails the test unless the fixture published exactly want,
// in order.
func (f *fixture) checkPublished(t *testing.T, want ...testkit.Message) {
	t.Helper()
	if diff := cmp.Diff(want, f.publisher.Published()); diff != "" {
		t.Errorf("published mismatch (-want +got):\n%s", diff)
	}
}

// checkCounted fails the test unless the fixture counted exactly the
// assignments want, in order.
func (f *fixture) checkCounted(t *testing.T, want ...testkit.Counted) {
	t.Helper()
	if diff := cmp.Diff(want, f.metrics.Assignments()); diff != "" {
		t.Errorf("assignments counted mismatch (-want +got):\n%s", diff)
	}
}

// checkOnTrips fails the test unless the drivers on trips at f.now are
// want, trip by driver id.
func (f *fixture) checkOnTrips(t *testing.T, want map[string]string) {
	t.Helper()
	if diff := cmp.Diff(want, tripsByDriver(f.store, f.now)); diff != "" {
		t.Errorf("drivers on trips mismatch (-want +got):\n%s", diff)
	}
}

// take reserves driverID for tripID at now directly in the store, as a
// rival replica would.
func take(t *testing.T, s *testkit.Store, driverID, tripID string, now time.Time) {
	t.Helper()
	stored, err := s.Drivers(context.Background(), []string{driverID})
	if err != nil || len(stored) != 1 {
		t.Fatalf("rival reads %s: %v, %d found", driverID, err, len(stored))
	}
	reserved, err := stored[0].Driver.Reserve(tripID, now, ride)
	if err != nil {
		t.Fatalf("rival reserves %s: %v", driverID, err)
	}
	if err := s.SaveDriver(context.Background(), reserved, stored[0].ETag); err != nil {
		t.Fatalf("rival saves %s: %v", driverID, err)
	}
}

func TestAssignDriverReservesNearestFreeDriver(t *testing.T) {
	f := newFixture(driver.DefaultPool()...)

	got, err := f.service.AssignDriver(context.Background(), trip(tripID))
	if err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	want := assigned(t, tripID, "jarda", f.now)
	if diff := cmp.Diff(app.Assignment{Assigned: &want}, got); diff != "" {
		t.Errorf("assignment mismatch (-want +got):\n%s", diff)
	}
	if want.ETASeconds != 60 {
		t.Errorf("ETASeconds = %d, want the minimum of 60 for a pickup next to the driver", want.ETASeconds)
	}
	f.checkPublished(t, testkit.Message{Topic: app.TopicDriverAssigned, Event: want})
	f.checkCounted(t, testkit.Counted{Outcome: "driver_assigned", Waited: time.Second})
	f.checkOnTrips(t, map[string]string{"jarda": tripID})
	recorded, ok := f.store.Recorded(tripID)
	if !ok {
		t.Fatal("no assignment recorded")
	}
	if diff := cmp.Diff(got, recorded); diff != "" {
		t.Errorf("recorded assignment mismatch (-want +got):\n%s", diff)
	}
}

func TestAssignDriverRedeliveryPublishesSameEvent(t *testing.T) {
	f := newFixture(driver.DefaultPool()...)
	firstAt := f.now

	for range 3 {
		if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
			t.Fatalf("AssignDriver() error = %v", err)
		}
		f.now = f.now.Add(10 * time.Second)
	}

	want := assignedMessage(t, "jarda", firstAt)
	f.checkPublished(t, want, want, want)
	f.checkCounted(t, testkit.Counted{Outcome: "driver_assigned", Waited: time.Second})
	f.checkOnTrips(t, map[string]string{"jarda": tripID})
}

func TestAssignDriverRecoversDriverReservedBeforeCrash(t *testing.T) {
	// Petra was reserved for the trip, then the handler died before it
	// recorded the outcome. Jarda is nearer, but the trip keeps Petra, and
	// the event says when she was reserved.
	f := newFixture(onTrip(t, requestedAt, map[string]string{"petra": tripID})...)
	f.store.PutReservation(tripID, "petra")

	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	f.checkPublished(t, assignedMessage(t, "petra", requestedAt))
	f.checkCounted(t, testkit.Counted{Outcome: "driver_assigned", Waited: time.Second})
	f.checkOnTrips(t, map[string]string{"petra": tripID})
	if _, ok := f.store.Recorded(tripID); !ok {
		t.Error("no assignment recorded")
	}
}

func TestAssignDriverRetriesWithFreshStateAfterETagConflict(t *testing.T) {
	f := newFixture(driver.DefaultPool()...)
	f.store.BeforeSaveDriver = once(func() { take(t, f.store, "jarda", "rival-trip", f.now) })

	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	// Petra is the next nearest to Jarda's corner.
	f.checkPublished(t, assignedMessage(t, "petra", f.now))
	f.checkCounted(t, testkit.Counted{Outcome: "driver_assigned", Waited: time.Second})
	f.checkOnTrips(t, map[string]string{"jarda": "rival-trip", "petra": tripID})
}

func TestAssignDriverReleasesDriverWhenAnotherDeliveryRecordedFirst(t *testing.T) {
	// Two deliveries of the same trip race: the other one reserved Petra and
	// recorded its outcome while this one was reserving Jarda.
	f := newFixture(driver.DefaultPool()...)
	rival := assigned(t, tripID, "petra", f.now.Add(-time.Second))
	f.store.BeforeCreateAssignment = once(func() {
		take(t, f.store, "petra", tripID, f.now)
		if err := f.store.CreateAssignment(context.Background(), tripID, app.Assignment{Assigned: &rival}); err != nil {
			t.Fatalf("rival records: %v", err)
		}
	})

	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	f.checkPublished(t, testkit.Message{Topic: app.TopicDriverAssigned, Event: rival})
	f.checkCounted(t) // the rival recorded the outcome, and counts it
	f.checkOnTrips(t, map[string]string{"petra": tripID})
}

func TestAssignDriverWithNoDriverFree(t *testing.T) {
	allBusy := allOnOtherTrips()
	tests := []struct {
		name          string
		waited        time.Duration
		wantErr       error
		wantPublished []testkit.Message
		wantCounted   []testkit.Counted
	}{
		{name: "just requested: retry", waited: 0, wantErr: driver.ErrNoDriverFree},
		{name: "a moment before the deadline: retry", waited: deadline - time.Millisecond, wantErr: driver.ErrNoDriverFree},
		{
			name: "at the deadline: not found", waited: deadline,
			wantPublished: []testkit.Message{notFoundMessage(requestedAt.Add(deadline))},
			wantCounted:   []testkit.Counted{{Outcome: "no_driver", Waited: deadline}},
		},
		{
			name: "long after the deadline: not found", waited: time.Hour,
			wantPublished: []testkit.Message{notFoundMessage(requestedAt.Add(time.Hour))},
			wantCounted:   []testkit.Counted{{Outcome: "no_driver", Waited: time.Hour}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := requestedAt.Add(tt.waited)
			f := newFixture(onTrip(t, now, allBusy)...)
			f.now = now

			_, err := f.service.AssignDriver(context.Background(), trip(tripID))

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AssignDriver() error = %v, want %v", err, tt.wantErr)
			}
			f.checkPublished(t, tt.wantPublished...)
			f.checkCounted(t, tt.wantCounted...)
			if _, recorded := f.store.Recorded(tripID); recorded != (tt.wantErr == nil) {
				t.Errorf("outcome recorded = %v, want %v", recorded, tt.wantErr == nil)
			}
			f.checkOnTrips(t, allBusy)
		})
	}
}

func TestAssignDriverNotFoundIsRepublishedUnchanged(t *testing.T) {
	decidedAt := requestedAt.Add(deadline)
	f := newFixture(onTrip(t, decidedAt, allOnOtherTrips())...)
	f.now = decidedAt

	for range 2 {
		if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
			t.Fatalf("AssignDriver() error = %v", err)
		}
		f.now = f.now.Add(time.Minute)
	}

	want := notFoundMessage(decidedAt)
	f.checkPublished(t, want, want)
	f.checkCounted(t, testkit.Counted{Outcome: "no_driver", Waited: deadline})
}

func TestAssignDriverPublishFailureIsRetriedWithoutSecondDriver(t *testing.T) {
	f := newFixture(driver.DefaultPool()...)
	errSidecar := errors.New("sidecar unavailable")
	f.publisher.Err = errSidecar
	firstAt := f.now

	_, err := f.service.AssignDriver(context.Background(), trip(tripID))
	if !errors.Is(err, errSidecar) {
		t.Fatalf("AssignDriver() error = %v, want %v", err, errSidecar)
	}
	if len(f.publisher.Published()) != 0 {
		t.Fatalf("published %v, want nothing", f.publisher.Published())
	}
	// The outcome is recorded, and counted, although its publish failed.
	f.checkCounted(t, testkit.Counted{Outcome: "driver_assigned", Waited: time.Second})

	f.publisher.Err = nil
	f.now = f.now.Add(10 * time.Second)
	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() on redelivery error = %v", err)
	}

	f.checkPublished(t, assignedMessage(t, "jarda", firstAt))
	f.checkCounted(t, testkit.Counted{Outcome: "driver_assigned", Waited: time.Second})
	f.checkOnTrips(t, map[string]string{"jarda": tripID})
}

func TestAssignDriverFailsWithoutState(t *testing.T) {
	errStore := errors.New("state store unavailable")
	tests := []struct {
		name    string
		store   func() *testkit.Store
		wantErr error
	}{
		{
			name: "store unreachable",
			store: func() *testkit.Store {
				s := testkit.NewStore(driver.DefaultPool()...)
				s.Err = errStore
				return s
			},
			wantErr: errStore,
		},
		{
			name:    "pool not seeded",
			store:   func() *testkit.Store { return testkit.NewStore(driver.DefaultPool()[:2]...) },
			wantErr: app.ErrPoolNotSeeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			publisher := &testkit.Publisher{}
			metrics := &testkit.Metrics{}
			service := app.NewService(tt.store(), publisher, metrics, driver.DefaultPool(), timing, func() time.Time { return requestedAt })

			_, err := service.AssignDriver(context.Background(), trip(tripID))

			if !errors.Is(err, tt.wantErr) {
				t.Errorf("AssignDriver() error = %v, want %v", err, tt.wantErr)
			}
			if len(publisher.Published()) != 0 {
				t.Errorf("published %v, want nothing", publisher.Published())
			}
			if len(metrics.Assignments()) != 0 {
				t.Errorf("counted %v, want nothing", metrics.Assignments())
			}
		})
	}
}

func TestAssignDriverConcurrentTripsNeverShareADriver(t *testing.T) {
	f := newFixture(driver.DefaultPool()...)
	pool := len(driver.DefaultPool())

	var wg sync.WaitGroup
	errs := make(chan error, pool)
	for i := range pool {
		wg.Go(func() {
			_, err := f.service.AssignDriver(context.Background(), trip(fmt.Sprintf("trip-%d", i)))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("AssignDriver() error = %v", err)
		}
	}

	onTrips := tripsByDriver(f.store, f.now)
	trips := map[string]bool{}
	for _, tid := range onTrips {
		trips[tid] = true
	}
	if len(onTrips) != pool || len(trips) != pool {
		t.Errorf("%d drivers carry %d distinct trips, want %d each: %v", len(onTrips), len(trips), pool, onTrips)
	}
	if _, err := f.service.AssignDriver(context.Background(), trip("one-too-many")); !errors.Is(err, driver.ErrNoDriverFree) {
		t.Errorf("AssignDriver() with the pool busy error = %v, want %v", err, driver.ErrNoDriverFree)
	}
	counted := slices.Repeat([]testkit.Counted{{Outcome: "driver_assigned", Waited: time.Second}}, pool)
	f.checkCounted(t, counted...)
}

func TestAssignDriverContinuesTrace(t *testing.T) {
	f := newFixture(driver.DefaultPool()...)
	const traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

	ctx := tracing.ContinueTrace(context.Background(), traceParent)
	if _, err := f.service.AssignDriver(ctx, trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	published := f.publisher.Published()
	if len(published) != 1 || published[0].TraceID != traceID {
		t.Errorf("published %+v, want one message in trace %s", published, traceID)
	}
}
