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

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/dapr"
	"github.com/ride-choreography/services/notification/internal/dapr/daprtest"
	"github.com/ride-choreography/services/notification/internal/notification"
	"github.com/ride-choreography/services/notification/internal/tracing"
)

const (
	riderID = "rider-42"
	tripID  = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
)

var sentAt = time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)

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

func TestHistoryStoreSavesAndLoads(t *testing.T) {
	fake, opts := daprtest.Start(t)
	store := dapr.NewHistoryStore(dial(t, opts))

	h, etag, err := store.Load(t.Context(), riderID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Notifications()) != 0 || etag != "" {
		t.Fatalf("unknown rider: history %v, etag %q, want empty", h.Notifications(), etag)
	}

	first := notification.TripReceived(tripID, sentAt)
	if _, err := h.Add(first); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(t.Context(), riderID, h, etag); err != nil {
		t.Fatal(err)
	}
	h, etag, err = store.Load(t.Context(), riderID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]notification.Notification{first}, h.Notifications()); diff != "" {
		t.Errorf("loaded history mismatch (-want +got):\n%s", diff)
	}

	second := notification.NoDriver(tripID, sentAt.Add(time.Minute))
	if _, err := h.Add(second); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(t.Context(), riderID, h, etag); err != nil {
		t.Fatalf("save with the loaded etag %q: %v", etag, err)
	}

	const (
		received = `{"tripId":"` + tripID + `","kind":"trip_received","text":"We received your order and are looking for a driver.","sentAt":"2026-11-27T09:30:02Z"}`
		noDriver = `{"tripId":"` + tripID + `","kind":"no_driver","text":"Sorry, no driver is free right now. Please order again in a few minutes.","sentAt":"2026-11-27T09:31:02Z"}`
	)
	firstWrite := &commonv1.StateOptions{
		Concurrency: commonv1.StateOptions_CONCURRENCY_FIRST_WRITE,
		Consistency: commonv1.StateOptions_CONSISTENCY_STRONG,
	}
	want := []*commonv1.StateItem{
		{Key: "rider-rider-42", Value: []byte(`{"notifications":[` + received + `]}`), Etag: &commonv1.Etag{Value: "0"}, Options: firstWrite},
		{Key: "rider-rider-42", Value: []byte(`{"notifications":[` + received + `,` + noDriver + `]}`), Etag: &commonv1.Etag{Value: "1"}, Options: firstWrite},
	}
	if diff := cmp.Diff(want, fake.Saves(), protocmp.Transform()); diff != "" {
		t.Errorf("saves mismatch (-want +got):\n%s", diff)
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
			name: "history",
			key:  "rider-rider-42",
			save: func(ctx context.Context, s *dapr.Sidecar, etag string) error {
				h := notification.NewHistory([]notification.Notification{notification.TripReceived(tripID, sentAt)})
				return dapr.NewHistoryStore(s).Save(ctx, riderID, h, etag)
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

func TestHistoryStoreFailures(t *testing.T) {
	_, opts := daprtest.Start(t)
	opts.StateStore = "missing-store"
	store := dapr.NewHistoryStore(dial(t, opts))

	_, _, err := store.Load(t.Context(), riderID)
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("load: error = %v, want code InvalidArgument", err)
	}
	err = store.Save(t.Context(), riderID, notification.History{}, "")
	if status.Code(err) != codes.InvalidArgument || errors.Is(err, app.ErrConflict) {
		t.Errorf("save: error = %v, want code InvalidArgument and no conflict", err)
	}
}

func TestHistoryStoreRejectsACorruptDocument(t *testing.T) {
	fake, opts := daprtest.Start(t)
	fake.Put("rider-rider-42", []byte(`{"notifications":`))
	store := dapr.NewHistoryStore(dial(t, opts))

	if _, _, err := store.Load(t.Context(), riderID); err == nil {
		t.Error("load of a corrupt document: no error")
	}
}

func TestHistoryStorePassesTheTraceOn(t *testing.T) {
	fake, opts := daprtest.Start(t)
	store := dapr.NewHistoryStore(dial(t, opts))
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := tracing.ContinueTrace(t.Context(), tp)

	h, etag, err := store.Load(ctx, riderID)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, riderID, h, etag); err != nil {
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
