package driver_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/driver"
)

const ride = 2 * time.Minute

// t0 is when the rides in these tests start.
var t0 = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// onTrip is Jarda on trip-1 from t0 for the length of a ride.
var onTrip = driver.Driver{ID: "jarda", Status: driver.StatusOnTrip, TripID: "trip-1", BusyUntil: t0.Add(ride)}

func TestReserve(t *testing.T) {
	free := driver.Driver{ID: "jarda", Status: driver.StatusFree}

	tests := []struct {
		name    string
		driver  driver.Driver
		now     time.Time
		want    driver.Driver
		wantErr error
	}{
		{
			name:   "free driver takes the trip for the length of a ride",
			driver: free,
			now:    t0,
			want:   driver.Driver{ID: "jarda", Status: driver.StatusOnTrip, TripID: "trip-2", BusyUntil: t0.Add(ride)},
		},
		{
			name:    "driver on a trip takes no other",
			driver:  onTrip,
			now:     t0.Add(ride - time.Nanosecond),
			wantErr: driver.ErrDriverBusy,
		},
		{
			name:   "driver whose ride has ended takes the next trip",
			driver: onTrip,
			now:    t0.Add(ride),
			want:   driver.Driver{ID: "jarda", Status: driver.StatusOnTrip, TripID: "trip-2", BusyUntil: t0.Add(2 * ride)},
		},
		{
			name:   "driver saved on a trip without an end is free",
			driver: driver.Driver{ID: "jarda", Status: driver.StatusOnTrip, TripID: "trip-1"},
			now:    t0,
			want:   driver.Driver{ID: "jarda", Status: driver.StatusOnTrip, TripID: "trip-2", BusyUntil: t0.Add(ride)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.driver.Reserve("trip-2", tt.now, ride)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Reserve() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Reserve() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	got := onTrip.Release()

	want := driver.Driver{ID: "jarda", Status: driver.StatusFree}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Release() mismatch (-want +got):\n%s", diff)
	}
}

func TestAt(t *testing.T) {
	tests := []struct {
		name     string
		now      time.Time
		want     driver.Driver
		wantFree bool
	}{
		{name: "as the ride starts", now: t0, want: onTrip},
		{name: "a moment before the ride ends", now: t0.Add(ride - time.Nanosecond), want: onTrip},
		{name: "as the ride ends", now: t0.Add(ride), want: driver.Driver{ID: "jarda", Status: driver.StatusFree}, wantFree: true},
		{name: "long after", now: t0.Add(24 * time.Hour), want: driver.Driver{ID: "jarda", Status: driver.StatusFree}, wantFree: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, onTrip.At(tt.now)); diff != "" {
				t.Errorf("At() mismatch (-want +got):\n%s", diff)
			}
			if got := onTrip.FreeAt(tt.now); got != tt.wantFree {
				t.Errorf("FreeAt() = %v, want %v", got, tt.wantFree)
			}
		})
	}
}

func TestCarries(t *testing.T) {
	tests := []struct {
		name   string
		driver driver.Driver
		now    time.Time
		want   bool
	}{
		{name: "on this trip", driver: onTrip, now: t0, want: true},
		{name: "on another trip", driver: driver.Driver{Status: driver.StatusOnTrip, TripID: "trip-2", BusyUntil: t0.Add(ride)}, now: t0},
		{name: "after this trip's ride ended", driver: onTrip, now: t0.Add(ride)},
		{name: "free", driver: driver.Driver{Status: driver.StatusFree}, now: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.driver.Carries("trip-1", tt.now); got != tt.want {
				t.Errorf("Carries(trip-1) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDefaultPool(t *testing.T) {
	pool := driver.DefaultPool()

	wantFirst := driver.Driver{
		ID:       "jarda",
		Name:     "Jarda",
		Car:      driver.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"},
		Position: driver.Position{Lat: 50.0755, Lon: 14.4378},
		Status:   driver.StatusFree,
	}
	if diff := cmp.Diff(wantFirst, pool[0]); diff != "" {
		t.Errorf("first driver mismatch (-want +got):\n%s", diff)
	}
	var ids []string
	for _, d := range pool {
		ids = append(ids, d.ID)
		if d.Status != driver.StatusFree || d.TripID != "" || !d.BusyUntil.IsZero() {
			t.Errorf("driver %s starts as %q on trip %q until %v, want free", d.ID, d.Status, d.TripID, d.BusyUntil)
		}
		if err := d.Position.Validate(); err != nil {
			t.Errorf("driver %s: %v", d.ID, err)
		}
	}
	if diff := cmp.Diff([]string{"jarda", "petra", "tomas", "eva", "marek"}, ids); diff != "" {
		t.Errorf("pool ids mismatch (-want +got):\n%s", diff)
	}
}
