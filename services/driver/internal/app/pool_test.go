package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/app/apptest"
	"github.com/ride-choreography/services/driver/internal/driver"
)

func TestSeedPool(t *testing.T) {
	seeded := map[string]driver.Driver{}
	for _, d := range driver.DefaultPool() {
		seeded[d.ID] = d
	}
	jardaOnTrip := map[string]driver.Driver{}
	for id, d := range seeded {
		jardaOnTrip[id] = d
	}
	jardaOnTrip["jarda"] = onTrip(t, requestedAt, map[string]string{"jarda": tripID})[0]

	tests := []struct {
		name  string
		store func() *apptest.Store
		want  map[string]driver.Driver
	}{
		{
			name:  "empty store gets the whole pool, free",
			store: func() *apptest.Store { return apptest.NewStore() },
			want:  seeded,
		},
		{
			name: "a restart frees nobody",
			store: func() *apptest.Store {
				return apptest.NewStore(onTrip(t, requestedAt, map[string]string{"jarda": tripID})[:1]...)
			},
			want: jardaOnTrip,
		},
		{
			name: "a replica seeding at the same moment",
			store: func() *apptest.Store {
				s := apptest.NewStore()
				rivalDone := false
				s.BeforeSaveDriver = func() {
					if !rivalDone {
						rivalDone = true
						if err := s.SaveDriver(context.Background(), onTrip(t, requestedAt, map[string]string{"jarda": tripID})[0], ""); err != nil {
							t.Fatalf("rival seeds: %v", err)
						}
					}
				}
				return s
			},
			want: jardaOnTrip,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store()
			service := app.NewService(store, &apptest.Publisher{}, driver.DefaultPool(), timing, func() time.Time { return requestedAt })

			if err := service.SeedPool(context.Background()); err != nil {
				t.Fatalf("SeedPool() error = %v", err)
			}

			if diff := cmp.Diff(tt.want, store.Pool()); diff != "" {
				t.Errorf("stored pool mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeedPoolFailsWithoutStore(t *testing.T) {
	errStore := errors.New("state store unavailable")
	store := apptest.NewStore()
	store.Err = errStore
	service := app.NewService(store, &apptest.Publisher{}, driver.DefaultPool(), timing, func() time.Time { return requestedAt })

	if err := service.SeedPool(context.Background()); !errors.Is(err, errStore) {
		t.Errorf("SeedPool() error = %v, want %v", err, errStore)
	}
}

func TestDrivers(t *testing.T) {
	withJardaOnTrip := onTrip(t, requestedAt, map[string]string{"jarda": tripID})

	tests := []struct {
		name    string
		stored  []driver.Driver
		now     time.Time
		want    []driver.Driver
		wantErr error
	}{
		{name: "pool order with each driver's state", stored: reversed(withJardaOnTrip), now: requestedAt, want: withJardaOnTrip},
		{name: "on the trip until a moment before the ride ends", stored: withJardaOnTrip, now: requestedAt.Add(ride - time.Nanosecond), want: withJardaOnTrip},
		{name: "free once the ride has ended", stored: withJardaOnTrip, now: requestedAt.Add(ride), want: driver.DefaultPool()},
		{name: "pool not seeded", stored: withJardaOnTrip[1:], now: requestedAt, wantErr: app.ErrPoolNotSeeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			service := app.NewService(apptest.NewStore(tt.stored...), &apptest.Publisher{}, driver.DefaultPool(), timing, func() time.Time { return tt.now })

			got, err := service.Drivers(context.Background())

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Drivers() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Drivers() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func reversed(drivers []driver.Driver) []driver.Driver {
	out := make([]driver.Driver, 0, len(drivers))
	for i := len(drivers) - 1; i >= 0; i-- {
		out = append(out, drivers[i])
	}
	return out
}
