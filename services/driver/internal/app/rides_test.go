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
)

func TestAssignDriverFreesDriverWhenRideEnds(t *testing.T) {
	f := newFixture(driver.DefaultPool()...)
	start := f.now

	steps := []struct {
		at         time.Time
		wantDriver string
	}{
		{at: start, wantDriver: "jarda"},
		// Jarda is nearest to every pickup here, but still on the first ride.
		{at: start.Add(ride - time.Nanosecond), wantDriver: "petra"},
		{at: start.Add(ride), wantDriver: "jarda"},
	}
	for i, step := range steps {
		f.now = step.at
		id := fmt.Sprintf("trip-%d", i)
		a, err := f.service.AssignDriver(context.Background(), trip(id))
		if err != nil {
			t.Fatalf("%s: AssignDriver() error = %v", id, err)
		}
		want := assigned(t, id, step.wantDriver, step.at)
		if diff := cmp.Diff(app.Assignment{Assigned: &want}, a); diff != "" {
			t.Errorf("%s: assignment mismatch (-want +got):\n%s", id, diff)
		}
	}

	f.checkOnTrips(t, map[string]string{"jarda": "trip-2", "petra": "trip-1"})
	if got := f.store.Pool()["jarda"].BusyUntil; !got.Equal(start.Add(2 * ride)) {
		t.Errorf("Jarda busy until %v, want %v: the assignment time plus the ride", got, start.Add(2*ride))
	}
}

func TestAssignDriverRedeliveryAfterRideEndedPublishesSameEvent(t *testing.T) {
	f := newFixture(driver.DefaultPool()...)
	firstAt := f.now
	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	f.now = firstAt.Add(ride + time.Minute)
	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() on redelivery error = %v", err)
	}

	want := assignedMessage(t, "jarda", firstAt)
	f.checkPublished(t, want, want)
	if got := tripsByDriver(f.store, f.now); len(got) != 0 {
		t.Errorf("drivers on trips after the ride = %v, want nobody", got)
	}
	if got := f.store.Pool()["jarda"]; got.TripID != tripID || !got.BusyUntil.Equal(firstAt.Add(ride)) {
		t.Errorf("Jarda's record = trip %q until %v, want the first ride, untouched", got.TripID, got.BusyUntil)
	}
}

func TestAssignDriverReservesAnewWhenRideOfCrashedReservationEnded(t *testing.T) {
	// Petra was reserved for the trip, the handler died before it recorded
	// the outcome, and the redelivery came after her ride would have
	// ended. Nothing was published for the trip, so it takes the nearest
	// driver free now.
	f := newFixture(onTrip(t, requestedAt, map[string]string{"petra": tripID})...)
	f.store.PutReservation(tripID, "petra")
	f.now = requestedAt.Add(ride)

	if _, err := f.service.AssignDriver(context.Background(), trip(tripID)); err != nil {
		t.Fatalf("AssignDriver() error = %v", err)
	}

	f.checkPublished(t, assignedMessage(t, "jarda", f.now))
	f.checkOnTrips(t, map[string]string{"jarda": tripID})
	if got, _ := f.store.Reserved(tripID); got != "jarda" {
		t.Errorf("reservation names %q, want jarda", got)
	}
}

func TestAssignDriverRidesNeverOverlap(t *testing.T) {
	// For 20 minutes, two trips are ordered every 15 s: more than five
	// drivers on two-minute rides can take, so each driver is taken again
	// as soon as a ride ends. Every trip still waiting is delivered again
	// at each step to two replicas at once, as a redelivery would be.
	const (
		step  = 15 * time.Second
		steps = 80
	)
	f := newFixture(driver.DefaultPool()...)
	var waiting []app.TripCreated
	for i := range steps {
		f.now = requestedAt.Add(time.Duration(i) * step)
		for j := range 2 {
			tc := trip(fmt.Sprintf("trip-%02d-%d", i, j))
			tc.RequestedAt = f.now
			waiting = append(waiting, tc)
		}

		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			retry = map[string]app.TripCreated{}
		)
		for _, tc := range waiting {
			for range 2 {
				wg.Go(func() {
					_, err := f.service.AssignDriver(context.Background(), tc)
					switch {
					case err == nil:
					case errors.Is(err, driver.ErrNoDriverFree), errors.Is(err, app.ErrConflict):
						mu.Lock()
						retry[tc.TripID] = tc
						mu.Unlock()
					default:
						t.Errorf("AssignDriver(%s) error = %v", tc.TripID, err)
					}
				})
			}
		}
		wg.Wait()
		waiting = waiting[:0]
		for _, tc := range retry {
			if _, recorded := f.store.Recorded(tc.TripID); !recorded {
				waiting = append(waiting, tc)
			}
		}
	}

	rides := map[string][]time.Time{}
	driverOf := map[string]string{}
	for _, m := range f.publisher.Published() {
		a, ok := m.Event.(app.DriverAssigned)
		if !ok {
			continue
		}
		if first, seen := driverOf[a.TripID]; seen {
			if first != a.Driver.ID {
				t.Errorf("trip %s was given %s and %s", a.TripID, first, a.Driver.ID)
			}
			continue
		}
		driverOf[a.TripID] = a.Driver.ID
		rides[a.Driver.ID] = append(rides[a.Driver.ID], a.AssignedAt)
	}
	for id, starts := range rides {
		slices.SortFunc(starts, time.Time.Compare)
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap < ride {
				t.Errorf("%s began a ride at %v, %v after the one before: rides overlap", id, starts[i], gap)
			}
		}
	}
	// Five drivers, 20 minutes, two-minute rides taken at 15 s steps.
	for _, d := range driver.DefaultPool() {
		if len(rides[d.ID]) < 8 {
			t.Errorf("%s took %d trips, want at least 8: a driver is free again after each ride", d.ID, len(rides[d.ID]))
		}
	}
}
