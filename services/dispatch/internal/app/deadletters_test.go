package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var receivedAt = time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)

// fakeDeadLetterStore is an in-memory DeadLetterStore that checks versions
// like the real one and counts its saves.
type fakeDeadLetterStore struct {
	mu      sync.Mutex
	box     DeadLetters
	version int

	loadErr error
	saveErr error
	// beforeSave, when set, runs at the start of every Save, with the
	// store unlocked: it plays another writer racing this one.
	beforeSave func()

	saves int
}

func (s *fakeDeadLetterStore) Load(context.Context) (DeadLetters, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadErr != nil {
		return DeadLetters{}, "", s.loadErr
	}
	return DeadLetters{Count: s.box.Count, Items: append([]DeadLetter(nil), s.box.Items...)}, s.etag(), nil
}

func (s *fakeDeadLetterStore) Save(_ context.Context, box DeadLetters, version string) error {
	if s.beforeSave != nil {
		s.beforeSave()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	if s.saveErr != nil {
		return s.saveErr
	}
	if version != s.etag() {
		return fmt.Errorf("save dead letters at version %q: %w", version, ErrConflict)
	}
	s.box = box
	s.version++
	return nil
}

// put adds dl to the stored box, as another replica would.
func (s *fakeDeadLetterStore) put(dl DeadLetter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.box.Count++
	s.box.Items = append(s.box.Items, dl)
	s.version++
}

func (s *fakeDeadLetterStore) etag() string {
	if s.version == 0 {
		return ""
	}
	return strconv.Itoa(s.version)
}

// newBox returns a box on store whose clock stands still at receivedAt,
// in another zone than UTC.
func newBox(store DeadLetterStore) *DeadLetterBox {
	return NewDeadLetterBox(store, func() time.Time { return receivedAt.In(time.FixedZone("CET", 3600)) })
}

// poison is a dead letter as the dead-letter handler hands it over, before
// the box stamps it with the time it was received.
func poison(id string) DeadLetter {
	return DeadLetter{
		ID:     id,
		Topic:  "trip-created",
		Reason: "invalid event: riderId is missing",
		Event:  json.RawMessage(`{"specversion":"1.0","id":"` + id + `"}`),
	}
}

// sized is a dead letter with an event of about size bytes.
func sized(id string, size int) DeadLetter {
	dl := poison(id)
	dl.Event = json.RawMessage(`"` + strings.Repeat("x", max(size-2, 0)) + `"`)
	return dl
}

// received is dl as kept: stamped with the time it was received, in UTC.
func received(dl DeadLetter) DeadLetter {
	dl.ReceivedAt = receivedAt
	return dl
}

// ids returns the ids of the dead letters of box, oldest first.
func ids(box DeadLetters) []string {
	var ids []string
	for _, dl := range box.Items {
		ids = append(ids, dl.ID)
	}
	return ids
}

func TestDeadLetterBoxStoresEachOnce(t *testing.T) {
	store := &fakeDeadLetterStore{}
	box := newBox(store)
	for _, tt := range []struct {
		id        string
		wantAdded bool
	}{{"e1", true}, {"e2", true}, {"e1", false}, {"e2", false}} {
		added, err := box.Store(t.Context(), poison(tt.id))
		if err != nil {
			t.Fatalf("Store(%s) error = %v", tt.id, err)
		}
		if added != tt.wantAdded {
			t.Errorf("Store(%s) added = %t, want %t", tt.id, added, tt.wantAdded)
		}
	}

	got, err := box.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := DeadLetters{Count: 2, Items: []DeadLetter{received(poison("e1")), received(poison("e2"))}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("box (-want +got):\n%s", diff)
	}
	if store.saves != 2 {
		t.Errorf("saves = %d, want 2: a dead letter kept already is not written again", store.saves)
	}
}

func TestDeadLetterBoxKeepsTheNewestMaxDeadLetters(t *testing.T) {
	box := newBox(&fakeDeadLetterStore{})
	for i := range maxDeadLetters + 5 {
		if _, err := box.Store(t.Context(), poison(fmt.Sprint("e", i))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := box.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kept := ids(got)
	if len(kept) != maxDeadLetters || kept[0] != "e5" || kept[len(kept)-1] != fmt.Sprint("e", maxDeadLetters+4) {
		t.Errorf("kept %d, %s to %s; want %d, e5 to e%d", len(kept), kept[0], kept[len(kept)-1], maxDeadLetters, maxDeadLetters+4)
	}
	if got.Count != maxDeadLetters+5 {
		t.Errorf("count %d, want %d", got.Count, maxDeadLetters+5)
	}
}

func TestDeadLetterBoxKeepsLargeOnesWithinMaxDeadLetterBytes(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int
		want  []string
	}{
		{
			name:  "the oldest make room",
			sizes: []int{maxDeadLettersBytes / 2, maxDeadLettersBytes / 2, maxDeadLettersBytes / 2},
			want:  []string{"e2"},
		},
		{
			name:  "small ones stay with a large one",
			sizes: []int{100, 100, maxDeadLettersBytes / 2},
			want:  []string{"e0", "e1", "e2"},
		},
		{
			name:  "the newest stays, even larger than maxDeadLettersBytes",
			sizes: []int{100, maxDeadLettersBytes + 1},
			want:  []string{"e1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := newBox(&fakeDeadLetterStore{})
			for i, size := range tt.sizes {
				if _, err := box.Store(t.Context(), sized(fmt.Sprint("e", i), size)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := box.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("dead letters kept (-want +got):\n%s", diff)
			}
			if got.Count != len(tt.sizes) {
				t.Errorf("count %d, want %d", got.Count, len(tt.sizes))
			}
		})
	}
}

func TestDeadLetterBoxRetriesAfterAConflict(t *testing.T) {
	store := &fakeDeadLetterStore{}
	box := newBox(store)
	raced := false
	store.beforeSave = func() {
		if !raced {
			raced = true
			store.put(received(poison("other")))
		}
	}

	added, err := box.Store(t.Context(), poison("e1"))
	if err != nil || !added {
		t.Fatalf("Store() = %t, %v, want true, nil", added, err)
	}
	want := DeadLetters{Count: 2, Items: []DeadLetter{received(poison("other")), received(poison("e1"))}}
	if diff := cmp.Diff(want, store.box); diff != "" {
		t.Errorf("box (-want +got):\n%s", diff)
	}
	if store.saves != 2 {
		t.Errorf("saves = %d, want 2", store.saves)
	}
}

func TestDeadLetterBoxGivesUpAfterRepeatedConflicts(t *testing.T) {
	store := &fakeDeadLetterStore{}
	box := newBox(store)
	n := 0
	store.beforeSave = func() {
		n++
		store.put(received(poison(fmt.Sprint("other-", n))))
	}

	added, err := box.Store(t.Context(), poison("e1"))
	if !errors.Is(err, ErrConflict) || added {
		t.Fatalf("Store() = %t, %v, want false and an error wrapping %v", added, err, ErrConflict)
	}
	if store.saves != maxAttempts {
		t.Errorf("saves = %d, want %d", store.saves, maxAttempts)
	}
}

func TestDeadLetterBoxFailsWhenTheStoreFails(t *testing.T) {
	errDown := errors.New("state store down")
	tests := []struct {
		name       string
		breakStore func(*fakeDeadLetterStore)
	}{
		{name: "load", breakStore: func(s *fakeDeadLetterStore) { s.loadErr = errDown }},
		{name: "save", breakStore: func(s *fakeDeadLetterStore) { s.saveErr = errDown }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeDeadLetterStore{}
			tt.breakStore(store)
			if added, err := newBox(store).Store(t.Context(), poison("e1")); !errors.Is(err, errDown) || added {
				t.Errorf("Store() = %t, %v, want false and %v", added, err, errDown)
			}
			if store.saves > 1 {
				t.Errorf("saves = %d, want at most 1: a failing store is not a conflict", store.saves)
			}
		})
	}
}

func TestDeadLetterBoxListFailsWhenTheStoreFails(t *testing.T) {
	errDown := errors.New("state store down")
	if _, err := newBox(&fakeDeadLetterStore{loadErr: errDown}).List(t.Context()); !errors.Is(err, errDown) {
		t.Errorf("List() error = %v, want %v", err, errDown)
	}
}
