package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/deadletter"
)

// fakeDeadLetterStore is an in-memory app.DeadLetterStore that checks
// ETags like the real one and counts its saves.
type fakeDeadLetterStore struct {
	mu      sync.Mutex
	list    deadletter.List
	version int

	loadErr error
	saveErr error
	// beforeSave, when set, runs at the start of every Save, with the
	// store unlocked: it plays another writer racing this one.
	beforeSave func()

	saves int
}

func (s *fakeDeadLetterStore) Load(context.Context) (deadletter.List, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadErr != nil {
		return deadletter.List{}, "", s.loadErr
	}
	return s.list, s.etag(), nil
}

func (s *fakeDeadLetterStore) Save(_ context.Context, ls deadletter.List, etag string) error {
	if s.beforeSave != nil {
		s.beforeSave()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	if s.saveErr != nil {
		return s.saveErr
	}
	if etag != s.etag() {
		return fmt.Errorf("save dead letters with etag %q: %w", etag, app.ErrConflict)
	}
	s.list = ls
	s.version++
	return nil
}

// put adds l to the stored list, as another replica would.
func (s *fakeDeadLetterStore) put(l deadletter.Letter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list.Add(l)
	s.version++
}

func (s *fakeDeadLetterStore) etag() string {
	if s.version == 0 {
		return ""
	}
	return strconv.Itoa(s.version)
}

// newDeadLetters returns DeadLetters on store whose clock stands still at
// now, and the buffer its logs go to.
func newDeadLetters(store app.DeadLetterStore) (*app.DeadLetters, *bytes.Buffer) {
	var logs bytes.Buffer
	clock := func() time.Time { return now.In(time.FixedZone("CET", 3600)) }
	return app.NewDeadLetters(store, clock, zerolog.New(&logs)), &logs
}

// poison is a dead letter as the HTTP layer hands it over, before it is
// stamped with the time it was received.
func poison(id string) deadletter.Letter {
	return deadletter.Letter{
		ID:     id,
		Topic:  "trip-created",
		Reason: "invalid event: riderId is missing",
		Event:  json.RawMessage(`{"specversion":"1.0","id":"` + id + `"}`),
	}
}

// received is l as kept: stamped with the time it was received, in UTC.
func received(l deadletter.Letter) deadletter.Letter {
	l.ReceivedAt = now
	return l
}

type deadLetterLogLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	EventID string `json:"eventId"`
	Topic   string `json:"topic"`
	Reason  string `json:"reason"`
	TraceID string `json:"traceId"`
}

func deadLetterLogLines(t *testing.T, logs *bytes.Buffer) []deadLetterLogLine {
	t.Helper()
	var lines []deadLetterLogLine
	dec := json.NewDecoder(logs)
	for dec.More() {
		var l deadLetterLogLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("log is not JSON lines: %v", err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestKeepStoresEachLetterOnceAndLogsIt(t *testing.T) {
	store := &fakeDeadLetterStore{}
	letters, logs := newDeadLetters(store)
	ctx := app.WithTraceParent(t.Context(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	for _, id := range []string{"e1", "e2", "e1"} {
		if err := letters.Keep(ctx, poison(id)); err != nil {
			t.Fatalf("keep %s: %v", id, err)
		}
	}

	ls, err := letters.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []deadletter.Letter{received(poison("e1")), received(poison("e2"))}
	if diff := cmp.Diff(want, ls.Letters()); diff != "" {
		t.Errorf("letters mismatch (-want +got):\n%s", diff)
	}
	if got := ls.Count(); got != 2 {
		t.Errorf("count %d, want 2", got)
	}
	if store.saves != 2 {
		t.Errorf("saves = %d, want 2", store.saves)
	}
	var wantLogs []deadLetterLogLine
	for _, id := range []string{"e1", "e2"} {
		wantLogs = append(wantLogs, deadLetterLogLine{
			Level: "warn", Message: "dead letter stored", EventID: id, Topic: "trip-created",
			Reason: "invalid event: riderId is missing", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		})
	}
	if diff := cmp.Diff(wantLogs, deadLetterLogLines(t, logs)); diff != "" {
		t.Errorf("logs mismatch (-want +got):\n%s", diff)
	}
}

func TestKeepRetriesAfterAConflict(t *testing.T) {
	store := &fakeDeadLetterStore{}
	letters, logs := newDeadLetters(store)
	raced := false
	store.beforeSave = func() {
		if !raced {
			raced = true
			store.put(received(poison("other")))
		}
	}

	if err := letters.Keep(t.Context(), poison("e1")); err != nil {
		t.Fatal(err)
	}
	want := []deadletter.Letter{received(poison("other")), received(poison("e1"))}
	if diff := cmp.Diff(want, store.list.Letters()); diff != "" {
		t.Errorf("letters mismatch (-want +got):\n%s", diff)
	}
	if store.saves != 2 {
		t.Errorf("saves = %d, want 2", store.saves)
	}
	if got := len(deadLetterLogLines(t, logs)); got != 1 {
		t.Errorf("%d log lines, want 1", got)
	}
}

func TestKeepGivesUpAfterRepeatedConflicts(t *testing.T) {
	store := &fakeDeadLetterStore{}
	letters, logs := newDeadLetters(store)
	n := 0
	store.beforeSave = func() {
		n++
		store.put(received(poison(fmt.Sprint("other-", n))))
	}

	err := letters.Keep(t.Context(), poison("e1"))
	if !errors.Is(err, app.ErrConflict) {
		t.Fatalf("error = %v, want %v", err, app.ErrConflict)
	}
	if store.saves != 5 {
		t.Errorf("saves = %d, want 5", store.saves)
	}
	if got := len(deadLetterLogLines(t, logs)); got != 0 {
		t.Errorf("%d log lines, want none", got)
	}
}

func TestKeepFailsWhenTheStoreFails(t *testing.T) {
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
			letters, logs := newDeadLetters(store)

			err := letters.Keep(t.Context(), poison("e1"))
			if !errors.Is(err, errDown) {
				t.Fatalf("error = %v, want %v", err, errDown)
			}
			if got := len(deadLetterLogLines(t, logs)); got != 0 {
				t.Errorf("%d log lines, want none", got)
			}
		})
	}
}

func TestListFailsWhenTheStoreFails(t *testing.T) {
	errDown := errors.New("state store down")
	letters, _ := newDeadLetters(&fakeDeadLetterStore{loadErr: errDown})
	if _, err := letters.List(t.Context()); !errors.Is(err, errDown) {
		t.Errorf("error = %v, want %v", err, errDown)
	}
}
