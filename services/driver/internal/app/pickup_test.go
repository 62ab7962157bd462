package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

// farAway is a pickup about 130 km east of every driver of the default
// pool (near Hradec Kralove's east), the measured case.
var farAway = driver.Position{Lat: 50.08, Lon: 16.25}

// withMaxPickup returns f with its service sending drivers from at most
// meters away.
func (f *fixture) withMaxPickup(meters float64) *fixture {
	bounded := timing
	bounded.MaxPickupMeters = meters
	f.service = app.NewService(f.store, f.publisher, f.metrics, driver.DefaultPool(), bounded, func() time.Time { return f.now })
	return f
}

func nearMessage(at time.Time) testkit.Message {
	return testkit.Message{Topic: app.TopicDriverNotFound, Event: app.DriverNotFound{
		TripID:     tripID,
		RiderID:    "rider-42",
		Reason:     "no driver within 15 km of the pickup",
		ReasonCode: app.ReasonNoDriverNear,
		DecidedAt:  at,
	}}
}

// A trip with no driver within the maximum pickup distance gets
// driver-not-found at once, however many drivers are free, and takes
// nobody; a redelivery publishes the same event.
func TestAssignDriverWithNoDriverNear(t *testing.T) {
	f := newFixture(driver.DefaultPool()...).withMaxPickup(15_000)
	far := trip(tripID)
	far.Pickup = farAway
	decidedAt := f.now

	for range 2 {
		got, err := f.service.AssignDriver(context.Background(), far)
		if err != nil {
			t.Fatalf("AssignDriver() error = %v, want driver-not-found at once", err)
		}
		if got.NotFound == nil || got.NotFound.ReasonCode != app.ReasonNoDriverNear {
			t.Fatalf("AssignDriver() = %+v, want not found, no driver near", got)
		}
		f.now = f.now.Add(time.Minute)
	}

	f.checkPublished(t, nearMessage(decidedAt), nearMessage(decidedAt))
	f.checkCounted(t, testkit.Counted{Outcome: "no_driver", Waited: time.Second})
	f.checkOnTrips(t, map[string]string{})
	if recorded, _ := f.store.Recorded(tripID); recorded.NotFound == nil || recorded.NotFound.ReasonCode != app.ReasonNoDriverNear {
		t.Errorf("recorded %+v, want the no-driver-near outcome", recorded)
	}
}

// Drivers within the maximum pickup distance who are all on trips make the
// trip wait for one of them (no driver free), never take a free driver
// from farther away.
func TestAssignDriverNeverSendsADriverFromFarther(t *testing.T) {
	// Within 2 km of Jarda's corner: Jarda and Petra (1.8 km); Eva, Marek
	// and Tomas are 2.3 to 4.5 km away.
	nearBusy := map[string]string{"jarda": "other-trip-0", "petra": "other-trip-1"}
	tests := []struct {
		name          string
		busy          map[string]string
		waited        time.Duration
		wantErr       error
		wantPublished func(t *testing.T, at time.Time) []testkit.Message
	}{
		{
			name: "a near driver free: assigned", busy: map[string]string{"jarda": "other-trip-0"},
			wantPublished: func(t *testing.T, at time.Time) []testkit.Message {
				return []testkit.Message{assignedMessage(t, "petra", at)}
			},
		},
		{name: "near ones busy, far ones free: wait", busy: nearBusy, wantErr: driver.ErrNoDriverFree},
		{
			name: "near ones busy until the deadline: no driver free", busy: nearBusy, waited: deadline,
			wantPublished: func(_ *testing.T, at time.Time) []testkit.Message { return []testkit.Message{notFoundMessage(at)} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := requestedAt.Add(tt.waited)
			f := newFixture(onTrip(t, now, tt.busy)...).withMaxPickup(2_000)
			f.now = now

			_, err := f.service.AssignDriver(context.Background(), trip(tripID))

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AssignDriver() error = %v, want %v", err, tt.wantErr)
			}
			var want []testkit.Message
			if tt.wantPublished != nil {
				want = tt.wantPublished(t, now)
			}
			f.checkPublished(t, want...)
			for _, id := range []string{"eva", "marek", "tomas"} {
				if got := tripsByDriver(f.store, now)[id]; got != "" {
					t.Errorf("%s, farther than 2 km, was sent on trip %s", id, got)
				}
			}
		})
	}
}
