package driver_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/driver"
)

func TestReserve(t *testing.T) {
	free := driver.Driver{ID: "jarda", Status: driver.StatusFree}
	busy := driver.Driver{ID: "jarda", Status: driver.StatusOnTrip, TripID: "trip-1"}

	tests := []struct {
		name    string
		driver  driver.Driver
		want    driver.Driver
		wantErr error
	}{
		{
			name:   "free driver takes the trip",
			driver: free,
			want:   driver.Driver{ID: "jarda", Status: driver.StatusOnTrip, TripID: "trip-2"},
		},
		{
			name:    "driver on a trip takes no other",
			driver:  busy,
			wantErr: driver.ErrDriverBusy,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.driver.Reserve("trip-2")
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
	busy := driver.Driver{ID: "jarda", Status: driver.StatusOnTrip, TripID: "trip-1"}

	got := busy.Release()

	want := driver.Driver{ID: "jarda", Status: driver.StatusFree}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Release() mismatch (-want +got):\n%s", diff)
	}
}

func TestCarries(t *testing.T) {
	tests := []struct {
		name   string
		driver driver.Driver
		want   bool
	}{
		{name: "on this trip", driver: driver.Driver{Status: driver.StatusOnTrip, TripID: "trip-1"}, want: true},
		{name: "on another trip", driver: driver.Driver{Status: driver.StatusOnTrip, TripID: "trip-2"}},
		{name: "free", driver: driver.Driver{Status: driver.StatusFree}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.driver.Carries("trip-1"); got != tt.want {
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
		if d.Status != driver.StatusFree || d.TripID != "" {
			t.Errorf("driver %s starts as %q on trip %q, want free", d.ID, d.Status, d.TripID)
		}
		if err := d.Position.Validate(); err != nil {
			t.Errorf("driver %s: %v", d.ID, err)
		}
	}
	if diff := cmp.Diff([]string{"jarda", "petra", "tomas", "eva", "marek"}, ids); diff != "" {
		t.Errorf("pool ids mismatch (-want +got):\n%s", diff)
	}
}
