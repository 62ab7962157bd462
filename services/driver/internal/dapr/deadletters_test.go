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
)

func TestStateStoreDeadLetters(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewStateStore(sidecar, storeName)
	ctx := context.Background()
	first := app.DeadLetters{Count: 1, Items: []app.DeadLetter{{
		ID: "evt-1", Topic: "trip-created", ReceivedAt: time.Date(2026, 11, 27, 9, 31, 0, 0, time.UTC),
		Reason: "invalid event: riderId has 0 characters, want 1 to 128",
		Event:  json.RawMessage(`{"specversion":"1.0","id":"evt-1"}`),
	}}}
	second := app.DeadLetters{Count: 2, Items: append(first.Items, app.DeadLetter{
		ID: "sha256:00d1ab5e", ReceivedAt: time.Date(2026, 11, 27, 9, 32, 0, 0, time.UTC),
		Reason: "invalid event: body is not a JSON CloudEvent", Event: json.RawMessage(`"not json"`),
	})}

	if got, etag, err := store.DeadLetters(ctx); err != nil || etag != "" || got.Count != 0 || len(got.Items) != 0 {
		t.Fatalf("DeadLetters() before any = %+v, %q, %v; want none", got, etag, err)
	}
	if err := store.SaveDeadLetters(ctx, first, ""); err != nil {
		t.Fatalf("SaveDeadLetters() error = %v", err)
	}
	if err := store.SaveDeadLetters(ctx, second, ""); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("SaveDeadLetters() as new while they exist error = %v, want %v", err, app.ErrConflict)
	}
	got, etag, err := store.DeadLetters(ctx)
	if err != nil {
		t.Fatalf("DeadLetters() error = %v", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("DeadLetters() mismatch (-want +got):\n%s", diff)
	}
	if err := store.SaveDeadLetters(ctx, second, "7"); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("SaveDeadLetters() with a stale ETag error = %v, want %v", err, app.ErrConflict)
	}
	if err := store.SaveDeadLetters(ctx, second, etag); err != nil {
		t.Fatalf("SaveDeadLetters() with the current ETag error = %v", err)
	}

	raw, _ := fake.Value("dead-letters")
	want := `{"count":2,"deadLetters":[` +
		`{"id":"evt-1","topic":"trip-created","receivedAt":"2026-11-27T09:31:00Z","reason":"invalid event: riderId has 0 characters, want 1 to 128","event":{"specversion":"1.0","id":"evt-1"}},` +
		`{"id":"sha256:00d1ab5e","topic":"","receivedAt":"2026-11-27T09:32:00Z","reason":"invalid event: body is not a JSON CloudEvent","event":"not json"}]}`
	if string(raw) != want {
		t.Errorf("dead-letters holds\n%s\nwant\n%s", raw, want)
	}
}
