package dapr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	commonv1 "github.com/dapr/dapr/pkg/proto/common/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/dapr"
)

var receivedAt = time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)

// poison is a dead letter as the box keeps it.
func poison(id string) app.DeadLetter {
	return app.DeadLetter{
		ID:         id,
		Topic:      "driver-assigned",
		ReceivedAt: receivedAt,
		Reason:     "invalid event: driverId is missing",
		Event:      json.RawMessage(`{"specversion":"1.0","id":"` + id + `","topic":"driver-assigned"}`),
	}
}

const poisonRecord = `{"count":3,"deadLetters":[{"id":"e-1","topic":"driver-assigned","receivedAt":"2026-11-27T09:30:02Z",` +
	`"reason":"invalid event: driverId is missing","event":{"specversion":"1.0","id":"e-1","topic":"driver-assigned"}}]}`

func TestDeadLetterStoreLoadsNothingStored(t *testing.T) {
	sidecar, fake := connect(t)

	box, etag, err := dapr.NewDeadLetterStore(sidecar).Load(t.Context())

	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if diff := cmp.Diff(app.DeadLetters{}, box); diff != "" || etag != "" {
		t.Errorf("Load() = etag %q, box (-want +got):\n%s, want an empty box and no etag", etag, diff)
	}
	if diff := cmp.Diff([]string{"dead-letters"}, fake.Reads()); diff != "" {
		t.Errorf("keys read (-want +got):\n%s", diff)
	}
}

func TestDeadLetterStoreSavesAndLoads(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewDeadLetterStore(sidecar)
	box := app.DeadLetters{Count: 3, Items: []app.DeadLetter{poison("e-1")}}

	if err := store.Save(t.Context(), box, ""); err != nil {
		t.Fatalf("Save() of a new box: %v", err)
	}
	got, etag, err := store.Load(t.Context())
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if diff := cmp.Diff(box, got); diff != "" || etag != "1" {
		t.Errorf("Load() = etag %q, want 1, box (-want +got):\n%s", etag, diff)
	}

	box.Count++
	box.Items = append(box.Items, poison("e-2"))
	if err := store.Save(t.Context(), box, etag); err != nil {
		t.Fatalf("Save() with the ETag loaded: %v", err)
	}
	got, etag, err = store.Load(t.Context())
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if diff := cmp.Diff(box, got); diff != "" || etag != "2" {
		t.Errorf("Load() = etag %q, want 2, box (-want +got):\n%s", etag, diff)
	}

	saves := fake.Saves()
	if len(saves) != 2 {
		t.Fatalf("saves = %v, want 2", saves)
	}
	// A box not stored yet is written as "nothing stored yet", never blindly.
	want := firstWriteSave("dead-letters", "0", poisonRecord)
	if diff := cmp.Diff(want, saves[0], protocmp.Transform()); diff != "" {
		t.Errorf("first save (-want +got):\n%s", diff)
	}
	if saves[1].GetEtag().GetValue() != "1" || saves[1].GetOptions().GetConcurrency() != commonv1.StateOptions_CONCURRENCY_FIRST_WRITE {
		t.Errorf("second save = %v, want first-write at etag 1", saves[1])
	}
}

func TestDeadLetterStoreConflicts(t *testing.T) {
	tests := []struct {
		name string
		etag string
	}{
		{name: "as new while one is stored", etag: ""},
		{name: "with a stale ETag", etag: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sidecar, fake := connect(t)
			fake.Put("dead-letters", []byte(poisonRecord))
			box := app.DeadLetters{Count: 1, Items: []app.DeadLetter{poison("e-9")}}

			err := dapr.NewDeadLetterStore(sidecar).Save(t.Context(), box, tt.etag)

			if !errors.Is(err, app.ErrConflict) {
				t.Errorf("Save() error = %v, want %v", err, app.ErrConflict)
			}
			if value, etag, _ := fake.Value("dead-letters"); string(value) != poisonRecord || etag != "1" {
				t.Errorf("stored %s at etag %s, want %s at 1", value, etag, poisonRecord)
			}
		})
	}
}

func TestDeadLetterStoreSidecarFailing(t *testing.T) {
	sidecar, fake := connect(t)
	fake.Put("dead-letters", []byte(poisonRecord))
	fake.FailState(status.Error(codes.Unavailable, "redis down"))
	store := dapr.NewDeadLetterStore(sidecar)

	if _, _, err := store.Load(t.Context()); status.Code(err) != codes.Unavailable {
		t.Errorf("Load() error = %v, want one wrapping code Unavailable", err)
	}
	err := store.Save(t.Context(), app.DeadLetters{Count: 4, Items: []app.DeadLetter{poison("e-2")}}, "1")
	if status.Code(err) != codes.Unavailable || errors.Is(err, app.ErrConflict) {
		t.Errorf("Save() error = %v, want one wrapping code Unavailable, not %v", err, app.ErrConflict)
	}
}

func TestDeadLetterStoreCorruptRecord(t *testing.T) {
	sidecar, fake := connect(t)
	fake.Put("dead-letters", []byte(`{"deadLetters":`))

	if _, _, err := dapr.NewDeadLetterStore(sidecar).Load(t.Context()); err == nil {
		t.Error("Load() of a corrupt record: no error")
	}
}

// The box the service builds on the store: each dead letter once, newest
// last, the last 1000 kept, the count of all.
func TestDeadLetterBoxOnTheStore(t *testing.T) {
	sidecar, fake := connect(t)
	box := app.NewDeadLetterBox(dapr.NewDeadLetterStore(sidecar), func() time.Time { return receivedAt })

	for _, id := range []string{"e-1", "e-2", "e-1"} {
		dl := poison(id)
		dl.ReceivedAt = time.Time{} // the box sets it
		if _, err := box.Store(t.Context(), dl); err != nil {
			t.Fatalf("Store(%s) error = %v", id, err)
		}
	}

	got, err := box.List(t.Context())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	want := app.DeadLetters{Count: 2, Items: []app.DeadLetter{poison("e-1"), poison("e-2")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() (-want +got):\n%s", diff)
	}
	if n := len(fake.Saves()); n != 2 {
		t.Errorf("%d saves, want 2: a dead letter kept already is not written again", n)
	}
}

func TestDeadLetterBoxKeepsTheLast1000(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewDeadLetterStore(sidecar)
	full := app.DeadLetters{Count: 1500}
	for i := range 1000 {
		full.Items = append(full.Items, poison(fmt.Sprintf("e-%d", 500+i)))
	}
	if err := store.Save(t.Context(), full, ""); err != nil {
		t.Fatal(err)
	}
	box := app.NewDeadLetterBox(store, func() time.Time { return receivedAt })

	added, err := box.Store(t.Context(), poison("e-1500"))
	if err != nil || !added {
		t.Fatalf("Store() = %v, %v, want true, nil", added, err)
	}

	got, _, err := store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := app.DeadLetters{Count: 1501, Items: append(slices.Clone(full.Items[1:]), poison("e-1500"))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored box (-want +got):\n%s", diff)
	}
	if _, etag, _ := fake.Value("dead-letters"); etag != "2" {
		t.Errorf("etag = %s, want 2", etag)
	}
}

// Another replica stores a dead letter between this one's read and write:
// the write conflicts, and the box tries again on what the other wrote.
func TestDeadLetterBoxAfterAnotherWriter(t *testing.T) {
	sidecar, fake := connect(t)
	box := app.NewDeadLetterBox(dapr.NewDeadLetterStore(sidecar), func() time.Time { return receivedAt })
	held, release := fake.Hold()
	t.Cleanup(release)

	type result struct {
		added bool
		err   error
	}
	done := make(chan result, 1)
	go func() {
		added, err := box.Store(t.Context(), poison("e-2"))
		done <- result{added, err}
	}()
	<-held // the box has read: nothing stored yet
	fake.Put("dead-letters", []byte(`{"count":1,"deadLetters":[{"id":"e-1","topic":"driver-assigned",`+
		`"receivedAt":"2026-11-27T09:30:02Z","reason":"invalid event: driverId is missing",`+
		`"event":{"specversion":"1.0","id":"e-1","topic":"driver-assigned"}}]}`))
	release()

	if r := <-done; r.err != nil || !r.added {
		t.Fatalf("Store() = %v, %v, want true, nil", r.added, r.err)
	}
	got, err := box.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := app.DeadLetters{Count: 2, Items: []app.DeadLetter{poison("e-1"), poison("e-2")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() (-want +got):\n%s", diff)
	}
	var etags []string
	for _, item := range fake.Saves() {
		etags = append(etags, item.GetEtag().GetValue())
	}
	// The box's write refused, then its retry on the other replica's.
	if diff := cmp.Diff([]string{"0", "1"}, etags); diff != "" {
		t.Errorf("ETags saved with (-want +got):\n%s", diff)
	}
}
