package dapr_test

import (
	"encoding/json"
	"errors"
	"testing"

	commonv1 "github.com/dapr/dapr/pkg/proto/common/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/dapr/daprtest"
	"github.com/ride-choreography/services/notification/internal/deadletter"
)

var poison = deadletter.Letter{
	ID:         "e1",
	Topic:      "trip-created",
	ReceivedAt: sentAt,
	Reason:     "invalid event: riderId is missing",
	Event:      json.RawMessage(`{"specversion":"1.0","id":"e1"}`),
}

func TestDeadLetterStoreSavesAndLoads(t *testing.T) {
	fake, cfg := daprtest.Start(t)
	store := dial(t, cfg).DeadLetterStore()

	ls, etag, err := store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Letters()) != 0 || ls.Count() != 0 || etag != "" {
		t.Fatalf("nothing stored: letters %v, count %d, etag %q, want none", ls.Letters(), ls.Count(), etag)
	}

	ls = deadletter.NewList([]deadletter.Letter{poison}, 3)
	if err := store.Save(t.Context(), ls, etag); err != nil {
		t.Fatal(err)
	}
	got, etag, err := store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ls.Letters(), got.Letters()); diff != "" {
		t.Errorf("loaded letters mismatch (-want +got):\n%s", diff)
	}
	if got.Count() != 3 || etag != "1" {
		t.Errorf("loaded count %d, etag %q, want 3 and 1", got.Count(), etag)
	}

	want := []*commonv1.StateItem{{
		Key:  "dead-letters",
		Etag: &commonv1.Etag{Value: "0"},
		Value: []byte(`{"count":3,"deadLetters":[{"id":"e1","topic":"trip-created","receivedAt":"2026-11-27T09:30:02Z",` +
			`"reason":"invalid event: riderId is missing","event":{"specversion":"1.0","id":"e1"}}]}`),
		Options: &commonv1.StateOptions{
			Concurrency: commonv1.StateOptions_CONCURRENCY_FIRST_WRITE,
			Consistency: commonv1.StateOptions_CONSISTENCY_STRONG,
		},
	}}
	if diff := cmp.Diff(want, fake.Saves(), protocmp.Transform()); diff != "" {
		t.Errorf("saves mismatch (-want +got):\n%s", diff)
	}
}

func TestDeadLetterStoreConflicts(t *testing.T) {
	_, cfg := daprtest.Start(t)
	store := dial(t, cfg).DeadLetterStore()
	ls := deadletter.NewList([]deadletter.Letter{poison}, 1)
	if err := store.Save(t.Context(), ls, ""); err != nil {
		t.Fatal(err)
	}

	for _, etag := range []string{"", "2"} {
		if err := store.Save(t.Context(), ls, etag); !errors.Is(err, app.ErrConflict) {
			t.Errorf("save with etag %q: error = %v, want %v", etag, err, app.ErrConflict)
		}
	}
}

func TestDeadLetterStoreFailures(t *testing.T) {
	_, cfg := daprtest.Start(t)
	cfg.StateStore = "missing-store"
	store := dial(t, cfg).DeadLetterStore()

	if _, _, err := store.Load(t.Context()); status.Code(err) != codes.InvalidArgument {
		t.Errorf("load: error = %v, want code InvalidArgument", err)
	}
	err := store.Save(t.Context(), deadletter.List{}, "")
	if status.Code(err) != codes.InvalidArgument || errors.Is(err, app.ErrConflict) {
		t.Errorf("save: error = %v, want code InvalidArgument and no conflict", err)
	}
}

func TestDeadLetterStoreRejectsACorruptDocument(t *testing.T) {
	fake, cfg := daprtest.Start(t)
	fake.Put("dead-letters", []byte(`{"deadLetters":`))
	store := dial(t, cfg).DeadLetterStore()

	if _, _, err := store.Load(t.Context()); err == nil {
		t.Error("load of a corrupt document: no error")
	}
}
