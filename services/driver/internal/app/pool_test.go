package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
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
		store func() *testkit.Store
		want  map[string]driver.Driver
	}{
		{
			name:  "empty store gets the whole pool, free",
			store: func() *testkit.Store { return testkit.NewStore() },
			want:  seeded,
		},
		{
			name: "a restart frees nobody",
			store: func() *testkit.Store {
				return testkit.NewStore(onTrip(t, requestedAt, map[string]string{"jarda": tripID})[:1]...)
			},
			want: jardaOnTrip,
		},
		{
			name: "a replica seeding at the same moment",
			store: func() *testkit.Store {
				s := testkit.NewStore()
				s.BeforeCreateDrivers = once(func() {
					// The rival seeded Jarda, who then took a trip.
					if err := s.SaveDriver(context.Background(), onTrip(t, requestedAt, map[string]string{"jarda": tripID})[0], ""); err != nil {
						t.Fatalf("rival seeds: %v", err)
					}
				})
				return s
			},
			want: jardaOnTrip,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store()
			service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, driver.DefaultPool(), timing, func() time.Time { return requestedAt })

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
	store := testkit.NewStore()
	store.Err = errStore
	service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, driver.DefaultPool(), timing, func() time.Time { return requestedAt })

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
			service := app.NewService(testkit.NewStore(tt.stored...), &testkit.Publisher{}, &testkit.Metrics{}, driver.DefaultPool(), timing, func() time.Time { return tt.now })

			got, err := service.Drivers(context.Background(), app.Page{})

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

func TestSeedPoolOfTenThousand(t *testing.T) {
	pool := bigPool(t, 10_000)
	store := testkit.NewStore(driver.DefaultPool()...)
	creates := 0
	store.BeforeCreateDrivers = func() { creates++ }
	service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, pool, timing, func() time.Time { return requestedAt })

	if err := service.SeedPool(context.Background()); err != nil {
		t.Fatalf("SeedPool() error = %v", err)
	}
	if err := service.SeedPool(context.Background()); err != nil {
		t.Fatalf("SeedPool() again error = %v", err)
	}

	if got := len(store.Pool()); got != len(pool) {
		t.Errorf("%d drivers stored, want %d", got, len(pool))
	}
	// One read of the pool each time; one write of the 9,995 missing, and
	// none at the second start.
	if diff := cmp.Diff([]int{10_000, 10_000}, readSizes(store.Reads())); diff != "" {
		t.Errorf("sizes of the reads mismatch (-want +got):\n%s", diff)
	}
	if creates != 1 {
		t.Errorf("CreateDrivers called %d times, want once", creates)
	}
}

func TestSeedPoolTakesNewPositionsAndKeepsState(t *testing.T) {
	// Jarda is stored on a trip at the place an earlier configuration put
	// him; the pool now puts him elsewhere.
	moved := onTrip(t, requestedAt, map[string]string{"jarda": tripID})
	moved[0].Position = driver.Position{Lat: 50.2, Lon: 14.1}
	moved[0].Car.Color = "green"
	store := testkit.NewStore(moved...)
	service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, driver.DefaultPool(), timing, func() time.Time { return requestedAt })

	if err := service.SeedPool(context.Background()); err != nil {
		t.Fatalf("SeedPool() error = %v", err)
	}

	want := onTrip(t, requestedAt, map[string]string{"jarda": tripID})[0]
	if diff := cmp.Diff(want, store.Pool()["jarda"]); diff != "" {
		t.Errorf("Jarda mismatch (-want +got):\n%s", diff)
	}
}

func TestSeedPoolFailsWhenADriverChangesWhileUpdated(t *testing.T) {
	moved := driver.DefaultPool()
	moved[0].Position = driver.Position{Lat: 50.2, Lon: 14.1}
	store := testkit.NewStore(moved...)
	store.BeforeSaveDriver = once(func() { take(t, store, "jarda", tripID, requestedAt) })
	service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, driver.DefaultPool(), timing, func() time.Time { return requestedAt })

	if err := service.SeedPool(context.Background()); !errors.Is(err, app.ErrConflict) {
		t.Errorf("SeedPool() error = %v, want %v: seed again", err, app.ErrConflict)
	}
	if err := service.SeedPool(context.Background()); err != nil {
		t.Fatalf("SeedPool() again error = %v", err)
	}
	if got := store.Pool()["jarda"]; got.Position != driver.DefaultPool()[0].Position || !got.Carries(tripID, requestedAt) {
		t.Errorf("Jarda = %+v, want at the pool's position, on the trip", got)
	}
}

func TestDriversPage(t *testing.T) {
	pool := driver.DefaultPool()
	ids := func(drivers []driver.Driver) []string {
		out := []string{}
		for _, d := range drivers {
			out = append(out, d.ID)
		}
		return out
	}
	tests := []struct {
		name string
		page app.Page
		want []string
	}{
		{name: "whole pool", page: app.Page{}, want: []string{"jarda", "petra", "tomas", "eva", "marek"}},
		{name: "first two", page: app.Page{Limit: 2}, want: []string{"jarda", "petra"}},
		{name: "from the fourth on", page: app.Page{Offset: 3}, want: []string{"eva", "marek"}},
		{name: "one from the second", page: app.Page{Offset: 1, Limit: 1}, want: []string{"petra"}},
		{name: "limit past the end", page: app.Page{Offset: 4, Limit: 10}, want: []string{"marek"}},
		{name: "offset past the end", page: app.Page{Offset: 5}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := testkit.NewStore(pool...)
			service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, pool, timing, func() time.Time { return requestedAt })

			got, err := service.Drivers(context.Background(), tt.page)
			if err != nil {
				t.Fatalf("Drivers() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("Drivers(%+v) mismatch (-want +got):\n%s", tt.page, diff)
			}
			var read []string
			for _, r := range store.Reads() {
				read = append(read, r...)
			}
			if diff := cmp.Diff(tt.want, append([]string{}, read...)); diff != "" {
				t.Errorf("drivers read mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
