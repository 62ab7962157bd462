package driver_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/ride-choreography/services/driver/internal/driver"
)

func TestPositionValidate(t *testing.T) {
	tests := []struct {
		name    string
		pos     driver.Position
		wantErr error
	}{
		{name: "Prague", pos: driver.Position{Lat: 50.08, Lon: 14.42}},
		{name: "corners are on Earth", pos: driver.Position{Lat: -90, Lon: 180}},
		{name: "latitude above 90", pos: driver.Position{Lat: 90.0001, Lon: 0}, wantErr: driver.ErrInvalidPosition},
		{name: "latitude below -90", pos: driver.Position{Lat: -91, Lon: 0}, wantErr: driver.ErrInvalidPosition},
		{name: "longitude above 180", pos: driver.Position{Lat: 0, Lon: 180.5}, wantErr: driver.ErrInvalidPosition},
		{name: "longitude below -180", pos: driver.Position{Lat: 0, Lon: -181}, wantErr: driver.ErrInvalidPosition},
		{name: "not a number", pos: driver.Position{Lat: math.NaN(), Lon: 0}, wantErr: driver.ErrInvalidPosition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.pos.Validate(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	// One degree of a great circle on a sphere of radius 6,371 km.
	const degree = 6_371_000 * math.Pi / 180

	tests := []struct {
		name string
		a, b driver.Position
		want float64 // meters
	}{
		{name: "same point", a: driver.Position{Lat: 50.08, Lon: 14.42}, b: driver.Position{Lat: 50.08, Lon: 14.42}, want: 0},
		{name: "one degree of latitude", a: driver.Position{Lat: 50, Lon: 14}, b: driver.Position{Lat: 51, Lon: 14}, want: degree},
		{name: "one degree of longitude on the equator", a: driver.Position{Lat: 0, Lon: 0}, b: driver.Position{Lat: 0, Lon: 1}, want: degree},
		{name: "antipodes", a: driver.Position{Lat: 0, Lon: 0}, b: driver.Position{Lat: 0, Lon: 180}, want: 180 * degree},
		{name: "Jarda to the example pickup", a: driver.Position{Lat: 50.0755, Lon: 14.4378}, b: driver.Position{Lat: 50.08, Lon: 14.42}, want: 1365.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := driver.Distance(tt.a, tt.b)
			if math.Abs(got-tt.want) > 0.5 {
				t.Errorf("Distance(%v, %v) = %.1f m, want %.1f m", tt.a, tt.b, got, tt.want)
			}
			if back := driver.Distance(tt.b, tt.a); math.Abs(back-got) > 1e-6 {
				t.Errorf("Distance is not symmetric: %.3f there, %.3f back", got, back)
			}
		})
	}
}

func TestETA(t *testing.T) {
	tests := []struct {
		name     string
		distance float64 // meters
		want     time.Duration
	}{
		{name: "next to the rider", distance: 0, want: 60 * time.Second},
		{name: "exactly one minute away", distance: 500, want: 60 * time.Second},
		{name: "a little over a minute rounds up", distance: 501, want: 61 * time.Second},
		{name: "two kilometers", distance: 2000, want: 240 * time.Second},
		{name: "fraction of a second rounds up", distance: 1000.1, want: 121 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := driver.ETA(tt.distance); got != tt.want {
				t.Errorf("ETA(%v) = %v, want %v", tt.distance, got, tt.want)
			}
		})
	}
}
