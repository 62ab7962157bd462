package app_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

// bigPool returns the generated pool of n drivers around Prague.
func bigPool(t testing.TB, n int) []driver.Driver {
	t.Helper()
	pool, err := driver.NewPool(n, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

// byDistance returns the ids of pool by increasing distance from p, the
// first in the pool on a tie.
func byDistance(pool []driver.Driver, p driver.Position) []string {
	sorted := slices.Clone(pool)
	slices.SortStableFunc(sorted, func(a, b driver.Driver) int {
		return cmp.Compare(driver.Distance(a.Position, p), driver.Distance(b.Position, p))
	})
	ids := make([]string, len(sorted))
	for i, d := range sorted {
		ids[i] = d.ID
	}
	return ids
}

// tripAt is trip id with its pickup at p.
func tripAt(id string, p driver.Position) app.TripCreated {
	tc := trip(id)
	tc.Pickup = p
	return tc
}

// readSizes returns how many drivers each read asked for.
func readSizes(reads [][]string) []int {
	sizes := make([]int, len(reads))
	for i, ids := range reads {
		sizes[i] = len(ids)
	}
	return sizes
}

func TestAssignDriverReadsOnlyTheNearestDrivers(t *testing.T) {
	pool := bigPool(t, 10_000)
	pickups := []struct {
		name string
		at   driver.Position
	}{
		{name: "at Jarda's corner", at: atJarda},
		{name: "Old Town Square", at: driver.Position{Lat: 50.0875, Lon: 14.4213}},
		{name: "edge of the area", at: driver.Position{Lat: 49.98, Lon: 14.6}},
		{name: "Brno, far outside the area", at: driver.Position{Lat: 49.195, Lon: 16.608}},
	}
	for _, p := range pickups {
		t.Run(p.name, func(t *testing.T) {
			store := testkit.NewStore(pool...)
			publisher := &testkit.Publisher{}
			service := app.NewService(store, publisher, &testkit.Metrics{}, pool, timing, func() time.Time { return requestedAt })

			got, err := service.AssignDriver(context.Background(), tripAt(tripID, p.at))
			if err != nil {
				t.Fatalf("AssignDriver() error = %v", err)
			}

			want, err := driver.Nearest(pool, p.at, requestedAt)
			if err != nil {
				t.Fatal(err)
			}
			if got.Assigned == nil || got.Assigned.Driver.ID != want.ID {
				t.Errorf("assigned %+v, want the nearest driver %s", got.Assigned, want.ID)
			}
			reads := store.Reads()
			if diff := gocmp.Diff([][]string{byDistance(pool, p.at)[:app.FirstBatch]}, reads); diff != "" {
				t.Errorf("drivers read mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssignDriverReadsFurtherWhileTheNearestAreBusy(t *testing.T) {
	const size = 2000
	pickup := driver.Position{Lat: 50.0875, Lon: 14.4213}
	order := byDistance(bigPool(t, size), pickup)

	tests := []struct {
		name      string
		busy      int // the nearest busy drivers
		wantReads []int
		wantErr   error
	}{
		{name: "nearest free", busy: 0, wantReads: []int{8}},
		{name: "first batch but its last busy", busy: 7, wantReads: []int{8}},
		{name: "first batch busy", busy: 8, wantReads: []int{8, 16}},
		{name: "three batches busy", busy: 8 + 16 + 32, wantReads: []int{8, 16, 32, 64}},
		{name: "all busy: the whole pool, once", busy: size, wantReads: []int{8, 16, 32, 64, 128, 256, 512, 2000 - 1016}, wantErr: driver.ErrNoDriverFree},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := bigPool(t, size)
			busy := map[string]bool{}
			for _, id := range order[:tt.busy] {
				busy[id] = true
			}
			for i, d := range pool {
				if busy[d.ID] {
					pool[i], _ = d.Reserve("other-"+d.ID, requestedAt, ride)
				}
			}
			store := testkit.NewStore(pool...)
			service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, bigPool(t, size), timing, func() time.Time { return requestedAt.Add(time.Second) })

			got, err := service.AssignDriver(context.Background(), tripAt(tripID, pickup))

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AssignDriver() error = %v, want %v", err, tt.wantErr)
			}
			reads := store.Reads()
			if diff := gocmp.Diff(tt.wantReads, readSizes(reads)); diff != "" {
				t.Errorf("sizes of the reads mismatch (-want +got):\n%s", diff)
			}
			var read []string
			for _, ids := range reads {
				read = append(read, ids...)
			}
			if diff := gocmp.Diff(order[:len(read)], read); diff != "" {
				t.Errorf("drivers read, in order, mismatch (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				return
			}
			want, err := driver.Nearest(pool, pickup, requestedAt.Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if got.Assigned == nil || got.Assigned.Driver.ID != want.ID || want.ID != order[tt.busy] {
				t.Errorf("assigned %+v, want the nearest free driver %s", got.Assigned, want.ID)
			}
		})
	}
}

func TestAssignDriverInALargePoolNeverSharesADriver(t *testing.T) {
	// Sixty trips from the same corner, each delivered to two replicas at
	// once: the replicas race for the same few nearest drivers.
	const trips = 60
	pool := bigPool(t, 10_000)
	store := testkit.NewStore(pool...)
	publisher := &testkit.Publisher{}
	now := func() time.Time { return requestedAt.Add(time.Second) }
	metrics := []*testkit.Metrics{{}, {}}
	replicas := []*app.Service{
		app.NewService(store, publisher, metrics[0], pool, timing, now),
		app.NewService(store, publisher, metrics[1], pool, timing, now),
	}

	var wg sync.WaitGroup
	for i := range trips {
		tc := tripAt(fmt.Sprintf("trip-%02d", i), atJarda)
		for _, replica := range replicas {
			wg.Go(func() {
				// daprd delivers again after a RETRY.
				for range 20 {
					_, err := replica.AssignDriver(context.Background(), tc)
					if err == nil {
						return
					}
					if !errors.Is(err, app.ErrConflict) {
						t.Errorf("AssignDriver(%s) error = %v", tc.TripID, err)
						return
					}
				}
				t.Errorf("AssignDriver(%s) never settled", tc.TripID)
			})
		}
	}
	wg.Wait()

	driverOf := map[string]string{}
	for _, m := range publisher.Published() {
		a := m.Event.(app.DriverAssigned)
		if first, seen := driverOf[a.TripID]; seen && first != a.Driver.ID {
			t.Errorf("trip %s was given %s and %s", a.TripID, first, a.Driver.ID)
		}
		driverOf[a.TripID] = a.Driver.ID
	}
	onTrips := tripsByDriver(store, now())
	if len(driverOf) != trips || len(onTrips) != trips {
		t.Fatalf("%d trips announced, %d drivers on trips; want %d each", len(driverOf), len(onTrips), trips)
	}
	for tid, id := range driverOf {
		if onTrips[id] != tid {
			t.Errorf("trip %s was given %s, who is on trip %q", tid, id, onTrips[id])
		}
	}
	// Together they took the sixty drivers nearest to the corner.
	want := byDistance(pool, atJarda)[:trips]
	var got []string
	for id := range onTrips {
		got = append(got, id)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("drivers taken mismatch (-want +got):\n%s", diff)
	}
	// Between them, the replicas counted each trip once.
	if counted := len(metrics[0].Assignments()) + len(metrics[1].Assignments()); counted != trips {
		t.Errorf("replicas counted %d assignments, want %d", counted, trips)
	}
}

func TestAssignDriverAfterCrash(t *testing.T) {
	errCrash := errors.New("handler died")
	// crashOnce makes the first call of a hook fail the store, as if the
	// handler died there; the next delivery comes ten seconds later.
	crashOnce := func(f *fixture) func() {
		return once(func() { f.store.Err = errCrash })
	}

	tests := []struct {
		name string
		// before sets the scene and the crash.
		before func(t *testing.T, f *fixture)
		// wantDriver takes the trip, and wantAt is when the event says
		// they were assigned.
		wantDriver string
		wantAt     time.Time
	}{
		{
			name: "after reserving the driver, before recording the outcome",
			before: func(t *testing.T, f *fixture) {
				f.store.BeforeCreateAssignment = crashOnce(f)
			},
			wantDriver: "jarda",
			wantAt:     requestedAt.Add(time.Second),
		},
		{
			name: "after naming the driver, before reserving them",
			before: func(t *testing.T, f *fixture) {
				// Jarda is on a ride that ends before the next delivery:
				// nearest then, but the reservation names Petra, whom the
				// stopped handler chose; she is taken.
				take(t, f.store, "jarda", "other-trip", f.now.Add(-ride+5*time.Second))
				f.store.BeforeSaveDriver = crashOnce(f)
			},
			wantDriver: "petra",
			wantAt:     requestedAt.Add(11 * time.Second),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(driver.DefaultPool()...)
			tt.before(t, f)

			if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); !errors.Is(err, errCrash) {
				t.Fatalf("AssignDriver() error = %v, want %v", err, errCrash)
			}
			f.store.Err = nil
			f.now = f.now.Add(10 * time.Second)
			if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
				t.Fatalf("AssignDriver() on redelivery error = %v", err)
			}

			f.checkPublished(t, assignedMessage(t, tt.wantDriver, tt.wantAt))
			// Recorded by the redelivery, eleven seconds after the order.
			f.checkCounted(t, testkit.Counted{Outcome: "driver_assigned", Waited: 11 * time.Second})
			var carrying []string
			for id, tid := range tripsByDriver(f.store, f.now) {
				if tid == tripID {
					carrying = append(carrying, id)
				}
			}
			if diff := gocmp.Diff([]string{tt.wantDriver}, carrying); diff != "" {
				t.Errorf("drivers on the trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssignDriverTakesOverAReservationUnderWay(t *testing.T) {
	// One delivery named Jarda and, before it reserved him, a second
	// delivery of the same trip ran from start to end. The first then loses
	// Jarda's ETag, starts over and publishes the outcome the second
	// recorded.
	f := newFixture(driver.DefaultPool()...)
	f.store.BeforeSaveDriver = once(func() {
		if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
			t.Errorf("second delivery: AssignDriver() error = %v", err)
		}
	})

	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	want := assignedMessage(t, "jarda", f.now)
	f.checkPublished(t, want, want)
	f.checkCounted(t, testkit.Counted{Outcome: "driver_assigned", Waited: time.Second}) // by the second delivery only
	f.checkOnTrips(t, map[string]string{"jarda": tripID})
}

func TestAssignDriverReplacesAStaleReservation(t *testing.T) {
	// The reservation names Petra, but she took another trip since: no
	// handler can still reserve her for this one, so the trip takes the
	// nearest free driver and names him instead.
	f := newFixture(onTrip(t, requestedAt, map[string]string{"petra": "other-trip"})...)
	f.store.PutReservation(tripID, "petra")

	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	f.checkPublished(t, assignedMessage(t, "jarda", f.now))
	if got, _ := f.store.Reserved(tripID); got != "jarda" {
		t.Errorf("reservation names %q, want jarda", got)
	}
	f.checkOnTrips(t, map[string]string{"jarda": tripID, "petra": "other-trip"})
}

func TestAssignDriverRetriesWhenAnotherDeliveryNamedADriverFirst(t *testing.T) {
	// Both deliveries found no reservation; the other one saved its own
	// first, naming Petra. This one starts over and follows it.
	f := newFixture(driver.DefaultPool()...)
	f.store.BeforeSaveReservation = once(func() {
		if err := f.store.SaveReservation(context.Background(), tripID, "petra", ""); err != nil {
			t.Fatalf("rival names Petra: %v", err)
		}
	})

	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	f.checkPublished(t, assignedMessage(t, "petra", f.now))
	f.checkOnTrips(t, map[string]string{"petra": tripID})
}

func BenchmarkAssignDriver(b *testing.B) {
	// One assignment at a time, each with every driver free (the rides
	// before have ended), at pickups spread over the area: the cost of
	// finding and reserving the nearest free driver against an in-memory
	// store, without a sidecar.
	for _, size := range []int{50, 10_000} {
		b.Run(fmt.Sprintf("pool=%d", size), func(b *testing.B) {
			pool := bigPool(b, size)
			store := testkit.NewStore(pool...)
			now := requestedAt
			service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, pool, app.Timing{AssignDeadline: deadline, RideDuration: time.Nanosecond}, func() time.Time { return now })
			pickups := make([]app.TripCreated, 1024)
			for i := range pickups {
				pickups[i] = tripAt(fmt.Sprintf("trip-%d", i), pool[(i*7919)%len(pool)].Position)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tc := pickups[i%len(pickups)]
				tc.TripID = fmt.Sprintf("trip-%d", i)
				now = now.Add(time.Microsecond)
				if _, err := service.AssignDriver(context.Background(), tc); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
