package dapr_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/dapr/daprtest"
	"github.com/ride-choreography/services/driver/internal/driver"
)

func TestDriverStoreDrivers(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewDriverStore(sidecar)
	ctx := context.Background()
	pool := driver.DefaultPool()

	for _, d := range []driver.Driver{pool[0], pool[2]} {
		if err := store.SaveDriver(ctx, d, ""); err != nil {
			t.Fatalf("SaveDriver(%s) error = %v", d.ID, err)
		}
	}

	got, err := store.Drivers(ctx, []string{"tomas", "petra", "jarda"})
	if err != nil {
		t.Fatalf("Drivers() error = %v", err)
	}
	want := []app.StoredDriver{{Driver: pool[2], ETag: "1"}, {Driver: pool[0], ETag: "1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Drivers() mismatch (-want +got):\n%s", diff)
	}

	raw, _ := fake.Value("driver-jarda")
	var stored map[string]any
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatalf("driver-jarda holds %q: %v", raw, err)
	}
	if stored["status"] != "free" || stored["tripId"] != nil {
		t.Errorf("driver-jarda = %s, want status free and no tripId", raw)
	}
}

func TestDriverStoreSaveDriverIsConditional(t *testing.T) {
	jarda := driver.DefaultPool()[0]
	onTrip, err := jarda.Reserve("0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", time.Date(2026, 11, 27, 9, 30, 1, 0, time.UTC), 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		etag    string
		wantErr error
	}{
		{name: "with the current ETag", etag: "1"},
		{name: "with a stale ETag", etag: "7", wantErr: app.ErrConflict},
		{name: "as new while it exists", etag: "", wantErr: app.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sidecar, _ := connect(t)
			store := dapr.NewDriverStore(sidecar)
			ctx := context.Background()
			if err := store.SaveDriver(ctx, jarda, ""); err != nil {
				t.Fatalf("seed: %v", err)
			}

			err := store.SaveDriver(ctx, onTrip, tt.etag)

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("SaveDriver() error = %v, want %v", err, tt.wantErr)
			}
			got, err := store.Drivers(ctx, []string{"jarda"})
			if err != nil || len(got) != 1 {
				t.Fatalf("Drivers() = %v, %v", got, err)
			}
			want := jarda
			if tt.wantErr == nil {
				want = onTrip
			}
			if diff := cmp.Diff(want, got[0].Driver); diff != "" {
				t.Errorf("stored driver mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriverStoreTrip(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewDriverStore(sidecar)
	ctx := context.Background()
	const tripID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
	pool := driver.DefaultPool()
	notFound := app.Assignment{NotFound: &app.DriverNotFound{
		TripID: tripID, RiderID: "rider-42", Reason: "no driver became free within 60s",
		DecidedAt: time.Date(2026, 11, 27, 9, 31, 0, 0, time.UTC),
	}}
	assigned := app.Assignment{Assigned: &app.DriverAssigned{
		TripID: tripID, RiderID: "rider-42",
		Driver:     app.EventDriver{ID: "jarda", Name: "Jarda", Car: app.EventCar{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}},
		ETASeconds: 240, AssignedAt: time.Date(2026, 11, 27, 9, 30, 1, 500, time.UTC),
	}}
	if err := store.SaveDriver(ctx, pool[0], ""); err != nil {
		t.Fatal(err)
	}

	state, drivers, err := store.Trip(ctx, tripID, []string{"petra", "jarda"})
	if err != nil {
		t.Fatalf("Trip() before any error = %v", err)
	}
	if diff := cmp.Diff(app.TripState{}, state); diff != "" {
		t.Errorf("Trip() before any mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]app.StoredDriver{{Driver: pool[0], ETag: "1"}}, drivers); diff != "" {
		t.Errorf("Trip() drivers mismatch (-want +got):\n%s", diff)
	}

	if err := store.SaveReservation(ctx, tripID, "jarda", ""); err != nil {
		t.Fatalf("SaveReservation() error = %v", err)
	}
	if err := store.CreateAssignment(ctx, tripID, assigned); err != nil {
		t.Fatalf("CreateAssignment() error = %v", err)
	}
	if err := store.CreateAssignment(ctx, tripID, notFound); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("second CreateAssignment() error = %v, want %v", err, app.ErrConflict)
	}
	fake.Calls()
	state, drivers, err = store.Trip(ctx, tripID, []string{"jarda"})
	if err != nil {
		t.Fatalf("Trip() error = %v", err)
	}
	want := app.TripState{Outcome: &assigned, Reservation: app.Reservation{DriverID: "jarda", ETag: "1"}}
	if diff := cmp.Diff(want, state); diff != "" {
		t.Errorf("Trip() mismatch (-want +got):\n%s", diff)
	}
	if len(drivers) != 1 {
		t.Errorf("Trip() drivers = %v, want Jarda", drivers)
	}
	if diff := cmp.Diff(daprtest.Calls{GetBulkState: 1, KeysRead: 3}, fake.Calls()); diff != "" {
		t.Errorf("sidecar calls of Trip() mismatch (-want +got):\n%s", diff)
	}

	if err := store.CreateAssignment(ctx, "other", notFound); err != nil {
		t.Fatalf("CreateAssignment(not found) error = %v", err)
	}
	state, _, err = store.Trip(ctx, "other", nil)
	if err != nil {
		t.Fatalf("Trip(other) error = %v", err)
	}
	if diff := cmp.Diff(app.TripState{Outcome: &notFound}, state); diff != "" {
		t.Errorf("Trip(other) mismatch (-want +got):\n%s", diff)
	}
}

func TestDriverStoreSaveReservationIsConditional(t *testing.T) {
	const tripID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
	tests := []struct {
		name    string
		etag    string
		wantErr error
		want    string
	}{
		{name: "with the current ETag", etag: "1", want: "petra"},
		{name: "with a stale ETag", etag: "7", wantErr: app.ErrConflict, want: "jarda"},
		{name: "as new while it exists", etag: "", wantErr: app.ErrConflict, want: "jarda"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sidecar, fake := connect(t)
			store := dapr.NewDriverStore(sidecar)
			ctx := context.Background()
			if err := store.SaveReservation(ctx, tripID, "jarda", ""); err != nil {
				t.Fatalf("first SaveReservation() error = %v", err)
			}

			err := store.SaveReservation(ctx, tripID, "petra", tt.etag)

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("SaveReservation() error = %v, want %v", err, tt.wantErr)
			}
			state, _, err := store.Trip(ctx, tripID, nil)
			if err != nil || state.Reservation.DriverID != tt.want {
				t.Errorf("Trip() = %+v, %v; want the reservation naming %s", state, err, tt.want)
			}
			if raw, _ := fake.Value("reservation-" + tripID); string(raw) != `{"driverId":"`+tt.want+`"}` {
				t.Errorf("reservation-%s holds %s", tripID, raw)
			}
		})
	}
}

func TestDriverStoreReadsAndCreatesInChunks(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewDriverStore(sidecar)
	ctx := context.Background()
	pool, err := driver.NewPool(1200, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(pool))
	for i, d := range pool {
		ids[i] = d.ID
	}

	if err := store.CreateDrivers(ctx, pool); err != nil {
		t.Fatalf("CreateDrivers() error = %v", err)
	}
	if diff := cmp.Diff(daprtest.Calls{SaveState: 3, KeysWritten: 1200}, fake.Calls()); diff != "" {
		t.Errorf("sidecar calls of CreateDrivers() mismatch (-want +got):\n%s", diff)
	}
	got, err := store.Drivers(ctx, ids)
	if err != nil {
		t.Fatalf("Drivers() error = %v", err)
	}
	if diff := cmp.Diff(daprtest.Calls{GetBulkState: 3, KeysRead: 1200}, fake.Calls()); diff != "" {
		t.Errorf("sidecar calls of Drivers() mismatch (-want +got):\n%s", diff)
	}
	var gotDrivers []driver.Driver
	for _, sd := range got {
		gotDrivers = append(gotDrivers, sd.Driver)
	}
	if diff := cmp.Diff(pool, gotDrivers); diff != "" {
		t.Errorf("Drivers() mismatch (-want +got):\n%s", diff)
	}
}

func TestDriverStoreCreateDriversKeepsStoredDrivers(t *testing.T) {
	sidecar, _ := connect(t)
	store := dapr.NewDriverStore(sidecar)
	ctx := context.Background()
	pool := driver.DefaultPool()
	onTrip, err := pool[1].Reserve("0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", time.Date(2026, 11, 27, 9, 30, 1, 0, time.UTC), 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica stored Petra first, and she took a trip.
	if err := store.SaveDriver(ctx, pool[1], ""); err != nil {
		t.Fatal(err)
	}
	if err := store.SaveDriver(ctx, onTrip, "1"); err != nil {
		t.Fatal(err)
	}

	if err := store.CreateDrivers(ctx, pool); err != nil {
		t.Fatalf("CreateDrivers() error = %v", err)
	}

	got, err := store.Drivers(ctx, []string{"jarda", "petra", "marek"})
	if err != nil {
		t.Fatalf("Drivers() error = %v", err)
	}
	want := []app.StoredDriver{{Driver: pool[0], ETag: "1"}, {Driver: onTrip, ETag: "2"}, {Driver: pool[4], ETag: "1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Drivers() mismatch (-want +got):\n%s", diff)
	}
}

func TestDriverStoreFailsWithoutStore(t *testing.T) {
	fake := daprtest.Start(t, storeName)
	store := dapr.NewDriverStore(dial(t, options(fake, "no-such-store")))

	err := store.SaveDriver(context.Background(), driver.DefaultPool()[0], "")

	if err == nil || errors.Is(err, app.ErrConflict) {
		t.Errorf("SaveDriver() error = %v, want a failure that is not a conflict", err)
	}
	if _, err := store.Drivers(context.Background(), []string{"jarda"}); err == nil {
		t.Error("Drivers() error = nil, want a failure")
	}
}

func TestDriverStoreKeepsWhenTheRideEnds(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewDriverStore(sidecar)
	ctx := context.Background()
	assignedAt := time.Date(2026, 11, 27, 10, 30, 1, 500, time.FixedZone("CET", 3600))
	onTrip, err := driver.DefaultPool()[0].Reserve("0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", assignedAt, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	if err := store.SaveDriver(ctx, onTrip, ""); err != nil {
		t.Fatalf("SaveDriver() error = %v", err)
	}

	raw, _ := fake.Value("driver-jarda")
	var stored map[string]any
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatalf("driver-jarda holds %q: %v", raw, err)
	}
	if stored["status"] != "on_trip" || stored["busyUntil"] != "2026-11-27T09:32:01.0000005Z" {
		t.Errorf("driver-jarda = %s, want status on_trip and busyUntil 2026-11-27T09:32:01.0000005Z", raw)
	}
	got, err := store.Drivers(ctx, []string{"jarda"})
	if err != nil || len(got) != 1 {
		t.Fatalf("Drivers() = %v, %v", got, err)
	}
	if diff := cmp.Diff(onTrip, got[0].Driver); diff != "" {
		t.Errorf("stored driver mismatch (-want +got):\n%s", diff)
	}
}
