package driver_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ride-choreography/services/driver/internal/driver"
)

func TestNearest(t *testing.T) {
	pickup := driver.Position{Lat: 50.0755, Lon: 14.4378}
	near := driver.Driver{ID: "near", Position: driver.Position{Lat: 50.0756, Lon: 14.4378}, Status: driver.StatusFree}
	far := driver.Driver{ID: "far", Position: driver.Position{Lat: 50.2, Lon: 14.6}, Status: driver.StatusFree}
	nearBusy := driver.Driver{ID: "near-busy", Position: pickup, Status: driver.StatusOnTrip, TripID: "other", BusyUntil: t0.Add(ride)}
	twin := driver.Driver{ID: "twin", Position: near.Position, Status: driver.StatusFree}

	tests := []struct {
		name    string
		drivers []driver.Driver
		now     time.Time
		wantID  string
		wantErr error
	}{
		{name: "nearest free driver", drivers: []driver.Driver{far, near}, now: t0, wantID: "near"},
		{name: "a driver on a trip is passed over", drivers: []driver.Driver{nearBusy, far}, now: t0, wantID: "far"},
		{name: "a driver whose ride has ended is free", drivers: []driver.Driver{nearBusy, far}, now: t0.Add(ride), wantID: "near-busy"},
		{name: "first of two at the same distance", drivers: []driver.Driver{near, twin}, now: t0, wantID: "near"},
		{name: "nobody free", drivers: []driver.Driver{nearBusy}, now: t0, wantErr: driver.ErrNoDriverFree},
		{name: "empty pool", drivers: nil, now: t0, wantErr: driver.ErrNoDriverFree},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := driver.Nearest(tt.drivers, pickup, tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Nearest() error = %v, want %v", err, tt.wantErr)
			}
			if got.ID != tt.wantID {
				t.Errorf("Nearest() = %q, want %q", got.ID, tt.wantID)
			}
		})
	}
}

func TestNearestInDefaultPool(t *testing.T) {
	tests := []struct {
		name   string
		pickup driver.Position
		wantID string
	}{
		{name: "at Jarda's corner", pickup: driver.Position{Lat: 50.0755, Lon: 14.4378}, wantID: "jarda"},
		{name: "the contract example pickup is nearer to Petra", pickup: driver.Position{Lat: 50.08, Lon: 14.42}, wantID: "petra"},
		{name: "north-west", pickup: driver.Position{Lat: 50.11, Lon: 14.38}, wantID: "tomas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := driver.Nearest(driver.DefaultPool(), tt.pickup, t0)
			if err != nil {
				t.Fatalf("Nearest() error = %v", err)
			}
			if got.ID != tt.wantID {
				t.Errorf("Nearest(%v) = %q, want %q", tt.pickup, got.ID, tt.wantID)
			}
		})
	}
}
