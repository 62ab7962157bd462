package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

// receivedAt is when the dead letters in these tests arrive.
var receivedAt = time.Date(2026, 11, 27, 9, 31, 0, 0, time.UTC)

func deadLetter(id string) app.DeadLetter {
	return app.DeadLetter{
		ID:     id,
		Topic:  app.TopicTripCreated,
		Reason: "invalid event: pickup: invalid position: latitude 91 is outside [-90, 90]",
		Event:  json.RawMessage(`{"specversion":"1.0","id":"` + id + `"}`),
	}
}

// kept returns dl as the box keeps it: received at receivedAt.
func kept(dl app.DeadLetter) app.DeadLetter {
	dl.ReceivedAt = receivedAt
	return dl
}

func newBox(store *testkit.Store) *app.DeadLetterBox {
	return app.NewDeadLetterBox(store, func() time.Time { return receivedAt.In(time.FixedZone("CET", 3600)) })
}

func TestDeadLetterBoxStore(t *testing.T) {
	tests := []struct {
		name       string
		deliveries []string
		wantStored []bool
		want       app.DeadLetters
	}{
		{
			name:       "first delivery is kept",
			deliveries: []string{"evt-1"},
			wantStored: []bool{true},
			want:       app.DeadLetters{Count: 1, Items: []app.DeadLetter{kept(deadLetter("evt-1"))}},
		},
		{
			name:       "a redelivery changes nothing",
			deliveries: []string{"evt-1", "evt-1"},
			wantStored: []bool{true, false},
			want:       app.DeadLetters{Count: 1, Items: []app.DeadLetter{kept(deadLetter("evt-1"))}},
		},
		{
			name:       "oldest first",
			deliveries: []string{"evt-1", "evt-2"},
			wantStored: []bool{true, true},
			want:       app.DeadLetters{Count: 2, Items: []app.DeadLetter{kept(deadLetter("evt-1")), kept(deadLetter("evt-2"))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := newBox(testkit.NewStore())

			for i, id := range tt.deliveries {
				stored, err := box.Store(context.Background(), deadLetter(id))
				if err != nil {
					t.Fatalf("Store(%s) error = %v", id, err)
				}
				if stored != tt.wantStored[i] {
					t.Errorf("delivery %d of %s: stored = %v, want %v", i+1, id, stored, tt.wantStored[i])
				}
			}

			got, err := box.List(context.Background())
			if err != nil {
				t.Fatalf("List() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("List() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeadLetterBoxKeepsTheNewestThousand(t *testing.T) {
	box := newBox(testkit.NewStore())

	for i := range 1002 {
		if _, err := box.Store(context.Background(), deadLetter(fmt.Sprintf("evt-%d", i))); err != nil {
			t.Fatalf("Store() error = %v", err)
		}
	}

	got, err := box.List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	if got.Count != 1002 || len(got.Items) != 1000 {
		t.Fatalf("count %d with %d kept, want 1002 with 1000 kept", got.Count, len(got.Items))
	}
	if first, last := got.Items[0].ID, got.Items[999].ID; first != "evt-2" || last != "evt-1001" {
		t.Errorf("kept %s to %s, want evt-2 to evt-1001", first, last)
	}
}

func TestDeadLetterBoxStoreStartsOverAfterConflict(t *testing.T) {
	store := testkit.NewStore()
	box := newBox(store)
	store.BeforeSaveDeadLetters = once(func() {
		if _, err := newBox(store).Store(context.Background(), deadLetter("rival")); err != nil {
			t.Fatalf("rival stores: %v", err)
		}
	})

	if stored, err := box.Store(context.Background(), deadLetter("evt-1")); err != nil || !stored {
		t.Fatalf("Store() = %v, %v; want stored", stored, err)
	}

	got, err := box.List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	want := app.DeadLetters{Count: 2, Items: []app.DeadLetter{kept(deadLetter("rival")), kept(deadLetter("evt-1"))}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
}

func TestDeadLetterBoxFailsWithoutStore(t *testing.T) {
	errStore := errors.New("state store unavailable")
	store := testkit.NewStore()
	store.Err = errStore
	box := newBox(store)

	if _, err := box.Store(context.Background(), deadLetter("evt-1")); !errors.Is(err, errStore) {
		t.Errorf("Store() error = %v, want %v", err, errStore)
	}
	if _, err := box.List(context.Background()); !errors.Is(err, errStore) {
		t.Errorf("List() error = %v, want %v", err, errStore)
	}
}

// TestDeadLetterBoxKeepsWhatFitsOneRecord: large dead letters (events of
// 16 KiB, the most a dead letter keeps) are kept only as far as they fit
// in about 1 MiB, so that the record stays far below the 4 MiB a gRPC
// message to the sidecar may take; the newest stay, the count goes on.
func TestDeadLetterBoxKeepsWhatFitsOneRecord(t *testing.T) {
	box := newBox(testkit.NewStore())
	event := json.RawMessage(`"` + strings.Repeat("x", 16<<10) + `"`)
	for i := range 300 {
		dl := deadLetter(fmt.Sprintf("evt-%d", i))
		dl.Event = event
		if _, err := box.Store(context.Background(), dl); err != nil {
			t.Fatalf("Store() error = %v", err)
		}
	}
	got, err := box.List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	size, _ := json.Marshal(got.Items)
	if got.Count != 300 || len(size) > 1<<20 || len(got.Items) < 50 || got.Items[len(got.Items)-1].ID != "evt-299" {
		t.Errorf("count %d, %d kept in %d bytes, newest %s; want 300 counted, the newest kept within 1 MiB",
			got.Count, len(got.Items), len(size), got.Items[len(got.Items)-1].ID)
	}
}
