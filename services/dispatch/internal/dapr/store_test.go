package dapr_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	commonv1 "github.com/dapr/dapr/pkg/proto/common/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/dapr"
	"github.com/ride-choreography/services/dispatch/internal/dapr/daprtest"
	"github.com/ride-choreography/services/dispatch/internal/dispatch"
	"github.com/ride-choreography/services/dispatch/internal/tracing"
)

const (
	riderID = "rider-42"
	tripID  = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
)

var (
	requestedAt = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	assignedAt  = requestedAt.Add(time.Second)
	jarda       = dispatch.Driver{ID: "jarda", Name: "Jarda", Car: dispatch.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
)

// dial returns the service's connection to the sidecar at opts.
func dial(t *testing.T, opts dapr.SidecarOptions) *dapr.Sidecar {
	t.Helper()
	s, err := dapr.NewSidecar(opts)
	if err != nil {
		t.Fatalf("NewSidecar(%+v) error = %v", opts, err)
	}
	t.Cleanup(s.Close)
	return s
}

var firstWrite = &commonv1.StateOptions{
	Concurrency: commonv1.StateOptions_CONCURRENCY_FIRST_WRITE,
	Consistency: commonv1.StateOptions_CONSISTENCY_STRONG,
}

func TestTripsAreSavedLoadedAndExpire(t *testing.T) {
	fake, opts := daprtest.Start(t)
	store := dapr.NewBoardStore(dial(t, opts))

	trip, etag, err := store.LoadTrip(t.Context(), tripID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dispatch.Trip{ID: tripID}, trip); diff != "" || etag != "" {
		t.Fatalf("unknown trip: etag %q, (-want +got):\n%s", etag, diff)
	}
	ordered, _ := trip.Ordered(tripID, riderID, dispatch.Point{Lat: 50.08, Lon: 14.42}, requestedAt)
	if err := store.SaveTrip(t.Context(), ordered, etag); err != nil {
		t.Fatal(err)
	}
	trip, etag, err = store.LoadTrip(t.Context(), tripID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ordered, trip); diff != "" {
		t.Errorf("loaded trip mismatch (-want +got):\n%s", diff)
	}
	assigned, _ := trip.Assigned(tripID, riderID, jarda, 4*time.Minute, assignedAt)
	if err := store.SaveTrip(t.Context(), assigned, etag); err != nil {
		t.Fatalf("save with the loaded etag %q: %v", etag, err)
	}
	if got, _, _ := store.LoadTrip(t.Context(), tripID); !cmp.Equal(assigned, got) {
		t.Errorf("loaded %+v, want %+v", got, assigned)
	}

	const key = "trip-" + tripID
	ttl := map[string]string{"ttlInSeconds": "86400"}
	want := []*commonv1.StateItem{
		{Key: key, Value: []byte(`{"tripId":"` + tripID + `","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"requestedAt":"2026-11-27T09:30:00Z","status":"waiting"}`),
			Etag: &commonv1.Etag{Value: "0"}, Options: firstWrite, Metadata: ttl},
		{Key: key, Value: []byte(`{"tripId":"` + tripID + `","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"requestedAt":"2026-11-27T09:30:00Z","status":"assigned",` +
			`"driver":{"id":"jarda","name":"Jarda","make":"Toyota","model":"Corolla","color":"blue","plate":"1AB 2345"},"etaSeconds":240,"decidedAt":"2026-11-27T09:30:01Z"}`),
			Etag: &commonv1.Etag{Value: "1"}, Options: firstWrite, Metadata: ttl},
	}
	if diff := cmp.Diff(want, fake.Saves(), protocmp.Transform()); diff != "" {
		t.Errorf("saves mismatch (-want +got):\n%s", diff)
	}
}

func TestTheBoardIsSavedAndLoaded(t *testing.T) {
	_, opts := daprtest.Start(t)
	store := dapr.NewBoardStore(dial(t, opts))

	b, etag, err := store.LoadBoard(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dispatch.NewBoard(), b); diff != "" || etag != "" {
		t.Fatalf("no board yet: etag %q, (-want +got):\n%s", etag, diff)
	}
	waiting, _ := dispatch.Trip{}.Ordered("t-1", riderID, dispatch.Point{Lat: 50.1, Lon: 14.4}, requestedAt)
	ordered, _ := dispatch.Trip{}.Ordered(tripID, "rider-7", dispatch.Point{Lat: 50.0, Lon: 14.5}, requestedAt)
	assigned, _ := ordered.Assigned(tripID, "rider-7", jarda, time.Minute, assignedAt)
	now := assignedAt.Add(time.Second)
	b.Record(waiting, now)
	b.Record(assigned, now)

	next, err := store.SaveBoard(t.Context(), b, etag)
	if err != nil {
		t.Fatal(err)
	}
	got, gotETag, err := store.LoadBoard(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("loaded board mismatch (-want +got):\n%s", diff)
	}
	if next != gotETag {
		t.Errorf("SaveBoard said the ETag is now %q; the store says %q", next, gotETag)
	}
	if _, err := store.SaveBoard(t.Context(), got, next); err != nil {
		t.Errorf("save with the ETag SaveBoard returned: %v", err)
	}
}

// Each store saves only on the ETag of what is stored: a save as new while
// a document is stored, or with an outdated ETag, fails with
// app.ErrConflict.
func TestStoresConflict(t *testing.T) {
	stores := []struct {
		name string
		key  string
		save func(ctx context.Context, s *dapr.Sidecar, etag string) error
	}{
		{
			name: "trip",
			key:  "trip-" + tripID,
			save: func(ctx context.Context, s *dapr.Sidecar, etag string) error {
				return dapr.NewBoardStore(s).SaveTrip(ctx, dispatch.Trip{ID: tripID}, etag)
			},
		},
		{
			name: "board",
			key:  "board",
			save: func(ctx context.Context, s *dapr.Sidecar, etag string) error {
				_, err := dapr.NewBoardStore(s).SaveBoard(ctx, dispatch.NewBoard(), etag)
				return err
			},
		},
		{
			name: "dead letters",
			key:  "dead-letters",
			save: func(ctx context.Context, s *dapr.Sidecar, etag string) error {
				box := app.DeadLetters{Count: 1, Items: []app.DeadLetter{poison("e-9")}}
				return dapr.NewDeadLetterStore(s).Save(ctx, box, etag)
			},
		},
	}
	saves := []struct {
		name string
		etag string
	}{
		{name: "as new while one is stored", etag: ""},
		{name: "with an outdated ETag", etag: "1"},
	}
	for _, store := range stores {
		for _, tt := range saves {
			t.Run(store.name+"/"+tt.name, func(t *testing.T) {
				fake, opts := daprtest.Start(t)
				for range 2 { // another writer stored the key twice: its ETag is 2
					fake.Put(store.key, []byte(`{}`))
				}

				err := store.save(t.Context(), dial(t, opts), tt.etag)

				if !errors.Is(err, app.ErrConflict) {
					t.Errorf("Save() error = %v, want %v", err, app.ErrConflict)
				}
			})
		}
	}
}

func TestBoardStoreFailures(t *testing.T) {
	_, opts := daprtest.Start(t)
	opts.StateStore = "missing-store"
	store := dapr.NewBoardStore(dial(t, opts))

	if _, _, err := store.LoadTrip(t.Context(), tripID); status.Code(err) != codes.InvalidArgument {
		t.Errorf("load trip: error = %v, want code InvalidArgument", err)
	}
	if _, _, err := store.LoadBoard(t.Context()); status.Code(err) != codes.InvalidArgument {
		t.Errorf("load board: error = %v, want code InvalidArgument", err)
	}
	if err := store.SaveTrip(t.Context(), dispatch.Trip{ID: tripID}, ""); status.Code(err) != codes.InvalidArgument || errors.Is(err, app.ErrConflict) {
		t.Errorf("save trip: error = %v, want code InvalidArgument and no conflict", err)
	}
	if _, err := store.SaveBoard(t.Context(), dispatch.NewBoard(), ""); status.Code(err) != codes.InvalidArgument || errors.Is(err, app.ErrConflict) {
		t.Errorf("save board: error = %v, want code InvalidArgument and no conflict", err)
	}
}

func TestBoardStoreRejectsCorruptDocuments(t *testing.T) {
	fake, opts := daprtest.Start(t)
	fake.Put("trip-"+tripID, []byte(`{"tripId":`))
	fake.Put("board", []byte(`{"waiting":[}`))
	store := dapr.NewBoardStore(dial(t, opts))

	if _, _, err := store.LoadTrip(t.Context(), tripID); err == nil {
		t.Error("load of a corrupt trip: no error")
	}
	if _, _, err := store.LoadBoard(t.Context()); err == nil {
		t.Error("load of a corrupt board: no error")
	}
}

func TestBoardStorePassesTheTraceOn(t *testing.T) {
	fake, opts := daprtest.Start(t)
	store := dapr.NewBoardStore(dial(t, opts))
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := tracing.ContinueTrace(t.Context(), tp)

	trip, etag, err := store.LoadTrip(ctx, tripID)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SaveTrip(ctx, trip, etag); err != nil {
		t.Fatal(err)
	}
	var traces []string
	for _, got := range fake.TraceParents() {
		traces = append(traces, strings.Split(got, "-")[1])
	}
	// Each call is a span of its own in the event's trace.
	if diff := cmp.Diff([]string{"4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736"}, traces); diff != "" {
		t.Errorf("trace ids sent to the sidecar mismatch (-want +got):\n%s", diff)
	}
}
