package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeDeadLetterStore keeps the box in memory and can be told to conflict
// or fail.
type fakeDeadLetterStore struct {
	box       DeadLetters
	version   int
	conflicts int
	err       error
}

func (f *fakeDeadLetterStore) Load(context.Context) (DeadLetters, string, error) {
	if f.err != nil {
		return DeadLetters{}, "", f.err
	}
	return DeadLetters{Count: f.box.Count, Items: append([]DeadLetter(nil), f.box.Items...)}, strconv.Itoa(f.version), nil
}

func (f *fakeDeadLetterStore) Save(_ context.Context, box DeadLetters, version string) error {
	if f.conflicts > 0 {
		f.conflicts--
		f.version++
		return ErrConflict
	}
	if version != strconv.Itoa(f.version) {
		return ErrConflict
	}
	f.box = box
	f.version++
	return nil
}

func TestDeadLetterBoxStoresOnce(t *testing.T) {
	store := &fakeDeadLetterStore{conflicts: 1}
	box := NewDeadLetterBox(store, func() time.Time { return now })
	dl := DeadLetter{ID: "e-1", Topic: "driver-assigned", Reason: "invalid event: driverId missing", Event: []byte(`{"id":"e-1"}`)}

	added, err := box.Store(context.Background(), dl)
	if err != nil || !added {
		t.Fatalf("first store: added=%v err=%v", added, err)
	}
	added, err = box.Store(context.Background(), dl)
	if err != nil || added {
		t.Fatalf("redelivered dead letter: added=%v err=%v, want not added", added, err)
	}
	got, err := box.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dl.ReceivedAt = now
	if diff := cmp.Diff(DeadLetters{Count: 1, Items: []DeadLetter{dl}}, got); diff != "" {
		t.Errorf("box (-want +got):\n%s", diff)
	}
}

func TestDeadLetterBoxKeepsTheNewest(t *testing.T) {
	store := &fakeDeadLetterStore{}
	box := NewDeadLetterBox(store, func() time.Time { return now })
	for i := range maxDeadLetters + 5 {
		if _, err := box.Store(context.Background(), DeadLetter{ID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := box.List(context.Background())
	if got.Count != maxDeadLetters+5 || len(got.Items) != maxDeadLetters || got.Items[0].ID != "5" {
		t.Errorf("count %d, %d kept, oldest %q; want %d, %d, \"5\"", got.Count, len(got.Items), got.Items[0].ID, maxDeadLetters+5, maxDeadLetters)
	}
}

func TestDeadLetterBoxStoreFailure(t *testing.T) {
	box := NewDeadLetterBox(&fakeDeadLetterStore{err: errBad}, func() time.Time { return now })
	if _, err := box.Store(context.Background(), DeadLetter{ID: "e"}); !errors.Is(err, errBad) {
		t.Errorf("err = %v, want the store's error", err)
	}
}

// TestDeadLetterBoxKeepsWhatFitsOneRecord: large dead letters (events of
// 16 KiB, the most a dead letter keeps) are kept only as far as they fit
// in about 1 MiB, so that the record stays far below the 4 MiB a gRPC
// message to the sidecar may take; the newest stay, the count goes on.
func TestDeadLetterBoxKeepsWhatFitsOneRecord(t *testing.T) {
	box := NewDeadLetterBox(&fakeDeadLetterStore{}, func() time.Time { return now })
	event := json.RawMessage(`"` + strings.Repeat("x", 16<<10) + `"`)
	for i := range 300 {
		if _, err := box.Store(context.Background(), DeadLetter{ID: fmt.Sprint(i), Event: event}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := box.List(context.Background())
	size, _ := json.Marshal(got.Items)
	if got.Count != 300 || len(size) > 1<<20 || len(got.Items) < 50 || got.Items[len(got.Items)-1].ID != "299" {
		t.Errorf("count %d, %d kept in %d bytes, newest %s; want 300 counted, the newest kept within 1 MiB",
			got.Count, len(got.Items), len(size), got.Items[len(got.Items)-1].ID)
	}
}
