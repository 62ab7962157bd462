package orchestrator

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var prague = Point{Lat: 50.08, Lon: 14.42}

func TestOrderValidate(t *testing.T) {
	tests := []struct {
		name  string
		order Order
		want  []FieldError // nil: valid
	}{
		{name: "valid", order: Order{RiderID: "rider-1", Pickup: prague, Dropoff: Point{Lat: -90, Lon: 180}}},
		{name: "zero coordinates are a place", order: Order{RiderID: "r", Pickup: Point{}, Dropoff: Point{}}},
		{name: "missing rider", order: Order{Pickup: prague, Dropoff: prague},
			want: []FieldError{{"riderId", "is required"}}},
		{name: "rider too long", order: Order{RiderID: strings.Repeat("é", MaxRiderIDLength+1), Pickup: prague, Dropoff: prague},
			want: []FieldError{{"riderId", "must be at most 128 characters"}}},
		{name: "rider with newline", order: Order{RiderID: "a\nb", Pickup: prague, Dropoff: prague},
			want: []FieldError{{"riderId", "must not contain control characters"}}},
		{name: "rider padded", order: Order{RiderID: " a", Pickup: prague, Dropoff: prague},
			want: []FieldError{{"riderId", "must not start or end with white space"}}},
		{name: "rider not UTF-8", order: Order{RiderID: "a\xff", Pickup: prague, Dropoff: prague},
			want: []FieldError{{"riderId", "must be valid UTF-8"}}},
		{name: "every coordinate out of range", order: Order{RiderID: "r", Pickup: Point{Lat: 91, Lon: -181}, Dropoff: Point{Lat: -90.5, Lon: 180.1}},
			want: []FieldError{
				{"pickup.lat", "must be between -90 and 90"},
				{"pickup.lon", "must be between -180 and 180"},
				{"dropoff.lat", "must be between -90 and 90"},
				{"dropoff.lon", "must be between -180 and 180"},
			}},
		{name: "NaN and infinity", order: Order{RiderID: "r", Pickup: Point{Lat: math.NaN(), Lon: 0}, Dropoff: Point{Lat: 0, Lon: math.Inf(1)}},
			want: []FieldError{
				{"pickup.lat", "must be between -90 and 90"},
				{"dropoff.lon", "must be between -180 and 180"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.order.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var invalid *InvalidOrderError
			if !errors.As(err, &invalid) || !errors.Is(err, ErrInvalidOrder) {
				t.Fatalf("Validate() = %v, want an InvalidOrderError", err)
			}
			if diff := cmp.Diff(tt.want, invalid.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNew(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	got, err := New("id-1", Order{RiderID: "r", Pickup: prague, Dropoff: prague}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Trip{ID: "id-1", RiderID: "r", Pickup: prague, Dropoff: prague, Status: StatusRequested, RequestedAt: now, UpdatedAt: now}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("New (-want +got):\n%s", diff)
	}
	if _, err := New("id-2", Order{Pickup: prague, Dropoff: prague}, now); !errors.Is(err, ErrInvalidOrder) {
		t.Errorf("New without rider: err = %v, want ErrInvalidOrder", err)
	}
}

var (
	jarda = Driver{ID: "jarda", Name: "Jarda", Car: Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
	petra = Driver{ID: "petra", Name: "Petra", Car: Car{Make: "Skoda", Model: "Octavia", Color: "white", Plate: "2AC 4411"}}
)

// TestDriverOutcomes: AssignDriver and MarkNoDriver change a requested trip
// once, take the same outcome again as a duplicate, and refuse a
// contradicting one, leaving the trip as it was.
func TestDriverOutcomes(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 31, 0, 0, time.UTC)
	assign := func(d Driver) func(*Trip) (bool, error) {
		return func(tr *Trip) (bool, error) { return tr.AssignDriver(d, 240, at) }
	}
	markNoDriver := func(tr *Trip) (bool, error) { return tr.MarkNoDriver(at) }
	var (
		requested = Trip{ID: "t", Status: StatusRequested}
		withJarda = Trip{ID: "t", Status: StatusDriverAssigned, Driver: &jarda, ETASeconds: 240}
		noDriver  = Trip{ID: "t", Status: StatusNoDriver}
	)
	tests := []struct {
		name        string
		trip        Trip
		apply       func(*Trip) (bool, error)
		wantChanged bool
		wantErr     error
		wantTrip    Trip
	}{
		{
			name: "AssignDriver: requested trip gets its driver", trip: requested, apply: assign(jarda), wantChanged: true,
			wantTrip: Trip{ID: "t", Status: StatusDriverAssigned, Driver: &jarda, ETASeconds: 240, UpdatedAt: at},
		},
		{name: "AssignDriver: same driver again is a duplicate", trip: withJarda, apply: assign(jarda), wantTrip: withJarda},
		{name: "AssignDriver: another driver conflicts", trip: withJarda, apply: assign(petra), wantErr: ErrOutcomeConflict, wantTrip: withJarda},
		{name: "AssignDriver: no_driver trip cannot be assigned", trip: noDriver, apply: assign(jarda), wantErr: ErrOutcomeConflict, wantTrip: noDriver},
		{
			name: "MarkNoDriver: requested becomes no_driver", trip: requested, apply: markNoDriver, wantChanged: true,
			wantTrip: Trip{ID: "t", Status: StatusNoDriver, UpdatedAt: at},
		},
		{name: "MarkNoDriver: no_driver again is a duplicate", trip: noDriver, apply: markNoDriver, wantTrip: noDriver},
		{name: "MarkNoDriver: assigned trip conflicts", trip: withJarda, apply: markNoDriver, wantErr: ErrOutcomeConflict, wantTrip: withJarda},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.trip
			changed, err := tt.apply(&tr)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.wantTrip, tr); diff != "" {
				t.Errorf("trip (-want +got):\n%s", diff)
			}
		})
	}
}
