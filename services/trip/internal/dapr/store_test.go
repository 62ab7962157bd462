package dapr_test

import (
	"context"
	"errors"
	"testing"
	"time"

	commonv1 "github.com/dapr/dapr/pkg/proto/common/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/dapr"
	"github.com/ride-choreography/services/trip/internal/dapr/daprtest"
	"github.com/ride-choreography/services/trip/internal/metrics"
	"github.com/ride-choreography/services/trip/internal/trip"
)

const tripID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"

var requestedAt = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// requested returns a trip as ordered.
func requested() trip.Trip {
	return trip.Trip{
		ID:          tripID,
		RiderID:     "rider-42",
		Pickup:      trip.Point{Lat: 50.0755, Lon: 14.4378},
		Dropoff:     trip.Point{Lat: 50.087, Lon: 14.4208},
		Status:      trip.StatusRequested,
		RequestedAt: requestedAt,
		UpdatedAt:   requestedAt,
	}
}

// assigned returns the trip once Jarda is on the way.
func assigned() trip.Trip {
	t := requested()
	t.Status = trip.StatusDriverAssigned
	t.UpdatedAt = requestedAt.Add(2 * time.Second)
	t.Driver = &trip.Driver{ID: "jarda", Name: "Jarda", Car: trip.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
	t.ETASeconds = 240
	return t
}

// The stored format is the service's own, but records written by earlier
// versions must stay readable.
const (
	requestedRecord = `{"id":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42",` +
		`"pickup":{"lat":50.0755,"lon":14.4378},"dropoff":{"lat":50.087,"lon":14.4208},"status":"requested",` +
		`"requestedAt":"2026-11-27T09:30:00Z","updatedAt":"2026-11-27T09:30:00Z"}`
	assignedRecord = `{"id":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42",` +
		`"pickup":{"lat":50.0755,"lon":14.4378},"dropoff":{"lat":50.087,"lon":14.4208},"status":"driver_assigned",` +
		`"requestedAt":"2026-11-27T09:30:00Z","updatedAt":"2026-11-27T09:30:02Z",` +
		`"driver":{"id":"jarda","name":"Jarda","car":{"make":"Toyota","model":"Corolla","color":"blue","plate":"1AB 2345"}},` +
		`"etaSeconds":240}`
)

// firstWriteSave is the item a first-write save of value at etag sends.
func firstWriteSave(key, etag, value string) *commonv1.StateItem {
	return &commonv1.StateItem{
		Key:     key,
		Value:   []byte(value),
		Etag:    &commonv1.Etag{Value: etag},
		Options: &commonv1.StateOptions{Concurrency: commonv1.StateOptions_CONCURRENCY_FIRST_WRITE},
	}
}

func TestTripStoreInsert(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewTripStore(sidecar)

	inserted, err := store.Insert(t.Context(), requested())
	if err != nil || !inserted {
		t.Fatalf("Insert() = %v, %v, want true, nil", inserted, err)
	}

	want := []*commonv1.StateItem{firstWriteSave("trip-"+tripID, "0", requestedRecord)}
	if diff := cmp.Diff(want, fake.Saves(), protocmp.Transform()); diff != "" {
		t.Errorf("saves (-want +got):\n%s", diff)
	}
	got, etag, err := store.Get(t.Context(), tripID)
	if err != nil {
		t.Fatalf("Get() error = %v", err)
	}
	if diff := cmp.Diff(requested(), got); diff != "" {
		t.Errorf("Get() trip (-want +got):\n%s", diff)
	}
	if etag != "1" {
		t.Errorf("Get() etag = %q, want 1", etag)
	}
}

func TestTripStoreInsertTwice(t *testing.T) {
	tests := []struct {
		name  string
		first func(t *testing.T, fake *daprtest.Sidecar, store *dapr.TripStore)
	}{
		{
			name: "inserted by this replica",
			first: func(t *testing.T, _ *daprtest.Sidecar, store *dapr.TripStore) {
				if _, err := store.Insert(t.Context(), requested()); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "written by another replica",
			first: func(_ *testing.T, fake *daprtest.Sidecar, _ *dapr.TripStore) {
				fake.Put("trip-"+tripID, []byte(requestedRecord))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sidecar, fake := connect(t)
			tt.first(t, fake, dapr.NewTripStore(sidecar))
			again := requested()
			again.RiderID = "rider-43" // first write wins, whatever the second holds

			inserted, err := dapr.NewTripStore(sidecar).Insert(t.Context(), again)

			if err != nil || inserted {
				t.Errorf("second Insert() = %v, %v, want false, nil (already there)", inserted, err)
			}
			value, etag, _ := fake.Value("trip-" + tripID)
			if string(value) != requestedRecord || etag != "1" {
				t.Errorf("stored %s at etag %s, want the first write %s at 1", value, etag, requestedRecord)
			}
		})
	}
}

func TestTripStoreGetMissing(t *testing.T) {
	sidecar, fake := connect(t)

	_, _, err := dapr.NewTripStore(sidecar).Get(t.Context(), tripID)

	if !errors.Is(err, trip.ErrNotFound) {
		t.Errorf("Get() error = %v, want %v", err, trip.ErrNotFound)
	}
	if diff := cmp.Diff([]string{"trip-" + tripID}, fake.Reads()); diff != "" {
		t.Errorf("keys read (-want +got):\n%s", diff)
	}
}

func TestTripStoreGetCorruptRecord(t *testing.T) {
	sidecar, fake := connect(t)
	fake.Put("trip-"+tripID, []byte(`{"id":`))

	_, _, err := dapr.NewTripStore(sidecar).Get(t.Context(), tripID)

	if err == nil || errors.Is(err, trip.ErrNotFound) {
		t.Errorf("Get() of a corrupt record: error = %v, want a decode error", err)
	}
}

func TestTripStoreUpdate(t *testing.T) {
	tests := []struct {
		name       string
		etag       string
		wantErr    error
		wantStored string
		wantETag   string
	}{
		{name: "with the ETag read", etag: "1", wantStored: assignedRecord, wantETag: "2"},
		{name: "with a stale ETag", etag: "7", wantErr: app.ErrConflict, wantStored: requestedRecord, wantETag: "1"},
		{name: "as if nothing were stored", etag: "0", wantErr: app.ErrConflict, wantStored: requestedRecord, wantETag: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sidecar, fake := connect(t)
			fake.Put("trip-"+tripID, []byte(requestedRecord))
			store := dapr.NewTripStore(sidecar)

			err := store.Update(t.Context(), assigned(), tt.etag)

			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Update() error = %v, want %v", err, tt.wantErr)
			}
			value, etag, _ := fake.Value("trip-" + tripID)
			if string(value) != tt.wantStored || etag != tt.wantETag {
				t.Errorf("stored %s at etag %s, want %s at %s", value, etag, tt.wantStored, tt.wantETag)
			}
			want := []*commonv1.StateItem{firstWriteSave("trip-"+tripID, tt.etag, assignedRecord)}
			if diff := cmp.Diff(want, fake.Saves(), protocmp.Transform()); diff != "" {
				t.Errorf("saves (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTripStoreUpdateAfterAnotherWriter(t *testing.T) {
	sidecar, _ := connect(t)
	store := dapr.NewTripStore(sidecar)
	if _, err := store.Insert(t.Context(), requested()); err != nil {
		t.Fatal(err)
	}
	_, etag, err := store.Get(t.Context(), tripID)
	if err != nil {
		t.Fatal(err)
	}
	noDriver := requested()
	noDriver.Status = trip.StatusNoDriver
	other := dapr.NewTripStore(sidecar) // another replica
	if err := other.Update(t.Context(), noDriver, etag); err != nil {
		t.Fatalf("other replica's Update() error = %v", err)
	}

	if err := store.Update(t.Context(), assigned(), etag); !errors.Is(err, app.ErrConflict) {
		t.Errorf("Update() with the ETag read before the other write: error = %v, want %v", err, app.ErrConflict)
	}
	got, _, err := store.Get(t.Context(), tripID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(noDriver, got); diff != "" {
		t.Errorf("stored trip (-want +got):\n%s", diff)
	}
}

func TestTripStoreSidecarFailing(t *testing.T) {
	for _, code := range []codes.Code{codes.Unavailable, codes.Internal, codes.InvalidArgument, codes.ResourceExhausted} {
		t.Run(code.String(), func(t *testing.T) {
			sidecar, fake := connect(t)
			fake.Put("trip-"+tripID, []byte(requestedRecord))
			fake.FailState(status.Error(code, "redis: connection refused"))
			store := dapr.NewTripStore(sidecar)

			inserted, err := store.Insert(t.Context(), requested())
			if err == nil || inserted || status.Code(err) != code {
				t.Errorf("Insert() = %v, %v, want false and an error wrapping code %v", inserted, err, code)
			}
			_, _, err = store.Get(t.Context(), tripID)
			if status.Code(err) != code || errors.Is(err, trip.ErrNotFound) {
				t.Errorf("Get() error = %v, want one wrapping code %v, not %v", err, code, trip.ErrNotFound)
			}
			err = store.Update(t.Context(), assigned(), "1")
			if status.Code(err) != code || errors.Is(err, app.ErrConflict) {
				t.Errorf("Update() error = %v, want one wrapping code %v, not %v", err, code, app.ErrConflict)
			}
			if _, _, ok := store.Recent(tripID); ok {
				t.Error("Recent() remembers a trip no write stored")
			}
			if value, _, _ := fake.Value("trip-" + tripID); string(value) != requestedRecord {
				t.Errorf("stored %s, want %s untouched", value, requestedRecord)
			}
		})
	}
}

func TestTripStoreInsertCutOff(t *testing.T) {
	sidecar, fake := connect(t)
	_, release := fake.Hold()
	t.Cleanup(release)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()

	inserted, err := dapr.NewTripStore(sidecar).Insert(ctx, requested())

	// The sidecar wrote the trip, but the store cannot know: an error, not
	// "already there", so that the caller retries and learns.
	if err == nil || inserted || status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("Insert() = %v, %v, want false and an error wrapping DeadlineExceeded", inserted, err)
	}
	if value, _, _ := fake.Value("trip-" + tripID); string(value) != requestedRecord {
		t.Errorf("stored %s, want %s", value, requestedRecord)
	}
}

func TestTripStoreRecent(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewTripStore(sidecar)
	if _, _, ok := store.Recent(tripID); ok {
		t.Fatal("Recent() remembers a trip before any write")
	}

	if _, err := store.Insert(t.Context(), requested()); err != nil {
		t.Fatal(err)
	}
	remembered, version, ok := store.Recent(tripID)
	if !ok || version != "1" {
		t.Fatalf("Recent() after Insert = version %q, %v, want 1, true", version, ok)
	}
	if diff := cmp.Diff(requested(), remembered); diff != "" {
		t.Errorf("Recent() after Insert (-want +got):\n%s", diff)
	}

	// The version remembered is the one the store holds: an update from it
	// needs no read.
	if err := store.Update(t.Context(), assigned(), version); err != nil {
		t.Fatalf("Update() from the remembered version: %v", err)
	}
	if reads := fake.Reads(); len(reads) != 0 {
		t.Errorf("keys read = %v, want none", reads)
	}
	remembered, version, ok = store.Recent(tripID)
	if _, etag, _ := fake.Value("trip-" + tripID); !ok || version != etag {
		t.Errorf("Recent() after Update = version %q, %v, want %s, true", version, ok, etag)
	}
	if diff := cmp.Diff(assigned(), remembered); diff != "" {
		t.Errorf("Recent() after Update (-want +got):\n%s", diff)
	}

	// A stale memory costs a conflict, and is forgotten.
	fake.Put("trip-"+tripID, []byte(assignedRecord))
	if err := store.Update(t.Context(), assigned(), version); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("Update() from a stale version: error = %v, want %v", err, app.ErrConflict)
	}
	if _, _, ok := store.Recent(tripID); ok {
		t.Error("Recent() still remembers a trip whose write conflicted")
	}
}

func TestTripStoreRecentForgetsAFailedUpdate(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewTripStore(sidecar)
	if _, err := store.Insert(t.Context(), requested()); err != nil {
		t.Fatal(err)
	}
	fake.FailState(status.Error(codes.Unavailable, "redis down"))

	if err := store.Update(t.Context(), assigned(), "1"); err == nil {
		t.Fatal("Update() while the store fails: no error")
	}
	if _, _, ok := store.Recent(tripID); ok {
		t.Error("Recent() still remembers a trip whose write failed")
	}
}

func TestTripStoreInsertLostIsNotRemembered(t *testing.T) {
	sidecar, fake := connect(t)
	fake.Put("trip-"+tripID, []byte(requestedRecord))
	store := dapr.NewTripStore(sidecar)

	if inserted, err := store.Insert(t.Context(), requested()); err != nil || inserted {
		t.Fatalf("Insert() = %v, %v, want false, nil", inserted, err)
	}
	if _, _, ok := store.Recent(tripID); ok {
		t.Error("Recent() remembers a trip another replica wrote")
	}
}

// The trip service answers a driver's event for a trip it has just ordered
// without reading the trip first.
func TestTripStoreSavesTheServiceARead(t *testing.T) {
	sidecar, fake := connect(t)
	service := app.NewService(dapr.NewTripStore(sidecar), dapr.NewPublisher(sidecar, "pubsub"), metrics.New(),
		func() time.Time { return requestedAt }, func() string { return tripID })
	want := assigned()

	ordered, _, err := service.Order(t.Context(), requested().Order(), "")
	if err != nil {
		t.Fatalf("Order() error = %v", err)
	}
	changed, err := service.DriverAssigned(t.Context(), app.DriverAssigned{
		TripID: ordered.ID, Driver: *want.Driver, ETASeconds: want.ETASeconds, AssignedAt: want.UpdatedAt,
	})
	if err != nil || !changed {
		t.Fatalf("DriverAssigned() = %v, %v, want true, nil", changed, err)
	}

	if reads := fake.Reads(); len(reads) != 0 {
		t.Errorf("keys read = %v, want none", reads)
	}
	got, etag, err := dapr.NewTripStore(sidecar).Get(t.Context(), tripID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" || etag != "2" {
		t.Errorf("stored trip at etag %s, want 2 (-want +got):\n%s", etag, diff)
	}
}
