package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/contracttest"
)

// deadLetters is the body of GET /dead-letters.
type deadLetters struct {
	Count       int
	DeadLetters []deadLetter
}

type deadLetter struct {
	ID         string
	Topic      string
	ReceivedAt string
	Reason     string
	Event      json.RawMessage
}

// deadLetters reads GET /dead-letters.
func (ts *testServer) deadLetters(t *testing.T) deadLetters {
	t.Helper()
	resp := ts.do(t, http.MethodGet, "/dead-letters", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dead-letters: status %d, want 200", resp.StatusCode)
	}
	var got deadLetters
	decodeBody(t, resp, "application/json", &got)
	return got
}

func TestDeadLettersListsTheKeptOnesOldestFirst(t *testing.T) {
	ts := newTestServer(t)
	receivedAt := time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)
	letter := func(id string) app.DeadLetter {
		return app.DeadLetter{
			ID: id, Topic: "trip-created", ReceivedAt: receivedAt,
			Reason: "invalid event: trip-created: at '/riderId': minLength: got 0, want 1",
			Event:  json.RawMessage(`{"specversion":"1.0","id":"` + id + `"}`),
		}
	}
	ts.deadLetterStore.box = app.DeadLetters{Count: 7, Items: []app.DeadLetter{letter("e1"), letter("e2")}}

	var want deadLetters
	want.Count = 7
	for _, id := range []string{"e1", "e2"} {
		l := letter(id)
		want.DeadLetters = append(want.DeadLetters, deadLetter{
			ID: l.ID, Topic: l.Topic, ReceivedAt: "2026-11-27T09:30:02Z", Reason: l.Reason, Event: l.Event,
		})
	}
	if diff := cmp.Diff(want, ts.deadLetters(t)); diff != "" {
		t.Errorf("dead letters mismatch (-want +got):\n%s", diff)
	}
}

// An event dropped on its topic's route and delivered again on the
// dead-letter route, as Dapr does, is listed with the reason of the drop.
func TestDroppedEventIsListedOnceDeadLettered(t *testing.T) {
	ts := newTestServer(t)
	body := []byte(strings.Replace(string(contracttest.Example(t, "trip-created")), `"riderId": "rider-42",`, ``, 1))
	if got := ts.deliver(t, "trip-created", body); got != "DROP" {
		t.Fatalf("trip-created: status %s, want DROP", got)
	}
	if got := ts.deliver(t, "dead-letters", body); got != "SUCCESS" {
		t.Fatalf("dead letter: status %s, want SUCCESS", got)
	}
	got := ts.deadLetters(t)
	if got.Count != 1 || len(got.DeadLetters) != 1 {
		t.Fatalf("count %d with %d letters, want 1 and 1", got.Count, len(got.DeadLetters))
	}
	want := "invalid event: trip-created: at '': missing property 'riderId'"
	if got := got.DeadLetters[0]; got.ID != "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d" || got.Reason != want {
		t.Errorf("dead letter %s with reason %q, want the example's id and %q", got.ID, got.Reason, want)
	}
}

func TestDeadLettersWhenNoneAreKept(t *testing.T) {
	ts := newTestServer(t)
	resp := ts.do(t, http.MethodGet, "/dead-letters", nil)
	var got any
	decodeBody(t, resp, "application/json", &got)
	want := map[string]any{"count": 0.0, "deadLetters": []any{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}
