package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// compact returns the JSON text b without insignificant white space.
func compact(t *testing.T, b []byte) json.RawMessage {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPoisonEventsAreKeptWithTheReasonTheyWereDropped delivers events that
// can never be handled to their topic, where they are dropped, and then, as
// Dapr does, to the dead-letter topic, where they are kept with the error
// the drop logged.
func TestPoisonEventsAreKeptWithTheReasonTheyWereDropped(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		body  func(t *testing.T) string
		id    string
	}{
		{
			name:  "trip-created without riderId",
			topic: "trip-created",
			body: func(t *testing.T) string {
				return strings.Replace(string(example(t, "trip-created")), `"riderId": "rider-42",`, ``, 1)
			},
			id: "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
		},
		{
			name:  "trip-created through the outbox, data a JSON string, latitude out of range",
			topic: "trip-created",
			body: func(t *testing.T) string {
				data := exampleData(t, "trip-created")
				data["pickup"] = map[string]any{"lat": 91, "lon": 14.42}
				b, err := json.Marshal(data)
				if err != nil {
					t.Fatal(err)
				}
				return string(cloudEvent(t, "trip-created", string(b)))
			},
			id: "event-trip-created",
		},
		{
			name:  "driver-assigned with a negative ETA",
			topic: "driver-assigned",
			body: func(t *testing.T) string {
				return strings.Replace(string(example(t, "driver-assigned")), `"etaSeconds": 240`, `"etaSeconds": -1`, 1)
			},
			id: "3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b",
		},
		{
			name:  "driver-not-found with an empty reason",
			topic: "driver-not-found",
			body: func(t *testing.T) string {
				return strings.Replace(string(example(t, "driver-not-found")), `"reason": "no driver became free within 60s"`, `"reason": ""`, 1)
			},
			id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		},
		{
			name:  "a CloudEvent of another spec version",
			topic: "driver-not-found",
			body: func(t *testing.T) string {
				return strings.Replace(string(example(t, "driver-not-found")), `"1.0"`, `"0.3"`, 1)
			},
			id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			body := []byte(tt.body(t))
			if got := ts.deliver(t, tt.topic, body); got != "DROP" {
				t.Fatalf("%s: status %s, want DROP", tt.topic, got)
			}
			dropped := ts.logs.lines(t, "event dropped")
			if len(dropped) != 1 {
				t.Fatalf("%d event dropped log lines, want 1", len(dropped))
			}

			if got := ts.deliver(t, "dead-letters", body); got != "SUCCESS" {
				t.Fatalf("dead letter: status %s, want SUCCESS", got)
			}
			want := deadLetters{Count: 1, DeadLetters: []deadLetter{{
				ID:         tt.id,
				Topic:      tt.topic,
				ReceivedAt: "2026-11-27T09:30:02Z",
				Reason:     dropped[0]["error"].(string),
				Event:      compact(t, body),
			}}}
			if diff := cmp.Diff(want, ts.deadLetters(t)); diff != "" {
				t.Errorf("dead letters mismatch (-want +got):\n%s", diff)
			}

			stored := ts.logs.lines(t, "dead letter stored")
			wantLog := []map[string]any{{
				"level":   "warn",
				"eventId": tt.id,
				"topic":   tt.topic,
				"reason":  dropped[0]["error"],
				"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
			}}
			if diff := cmp.Diff(wantLog, stored); diff != "" {
				t.Errorf("log mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeadLettersThatAreNotEventsAreKept(t *testing.T) {
	valid := string(example(t, "trip-created"))
	sum := sha256.Sum256([]byte("not JSON"))
	tests := []struct {
		name string
		body string
		want deadLetter
	}{
		{
			name: "not JSON: kept as a string, identified by its content",
			body: `not JSON`,
			want: deadLetter{
				ID:     "sha256:" + hex.EncodeToString(sum[:]),
				Reason: "invalid event: not a JSON CloudEvent: invalid character 'o' in literal null (expecting 'u')",
				Event:  json.RawMessage(`"not JSON"`),
			},
		},
		{
			name: "an event of a topic the service does not subscribe to",
			body: strings.Replace(valid, `"topic": "trip-created"`, `"topic": "trip-cancelled"`, 1),
			want: deadLetter{
				ID:     "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
				Topic:  "trip-cancelled",
				Reason: `invalid event: the service does not subscribe to topic "trip-cancelled"`,
			},
		},
		{
			name: "an event without a topic",
			body: strings.Replace(valid, `"topic": "trip-created",`, ``, 1),
			want: deadLetter{
				ID:     "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
				Reason: `invalid event: the service does not subscribe to topic ""`,
			},
		},
		{
			name: "a valid event, which expired or was given up on",
			body: valid,
			want: deadLetter{
				ID:     "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
				Topic:  "trip-created",
				Reason: "none found: the event is valid, so it expired or its delivery gave up",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			if got := ts.deliver(t, "dead-letters", []byte(tt.body)); got != "SUCCESS" {
				t.Fatalf("status %s, want SUCCESS", got)
			}
			want := tt.want
			want.ReceivedAt = "2026-11-27T09:30:02Z"
			if want.Event == nil {
				want.Event = compact(t, []byte(tt.body))
			}
			if diff := cmp.Diff(deadLetters{Count: 1, DeadLetters: []deadLetter{want}}, ts.deadLetters(t)); diff != "" {
				t.Errorf("dead letters mismatch (-want +got):\n%s", diff)
			}
			if got := ts.store.notifications(riderID); len(got) != 0 {
				t.Errorf("sent %v, want nothing", got)
			}
		})
	}
}

func TestDeadLettersAreKeptOncePerEventID(t *testing.T) {
	ts := newTestServer(t)
	first := strings.Replace(string(example(t, "trip-created")), `"riderId": "rider-42"`, `"riderId": ""`, 1)
	other := strings.Replace(string(example(t, "driver-assigned")), `"etaSeconds": 240`, `"etaSeconds": 1.5`, 1)
	// Dapr dead-letters the same event again when it was dropped again:
	// same id, same content.
	for _, body := range []string{first, other, first, first} {
		if got := ts.deliver(t, "dead-letters", []byte(body)); got != "SUCCESS" {
			t.Fatalf("status %s, want SUCCESS", got)
		}
	}

	got := ts.deadLetters(t)
	var ids []string
	for _, l := range got.DeadLetters {
		ids = append(ids, l.ID)
	}
	wantIDs := []string{"outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d", "3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b"}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("dead letter ids mismatch (-want +got):\n%s", diff)
	}
	if got.Count != 2 {
		t.Errorf("count %d, want 2", got.Count)
	}
	if got := len(ts.logs.lines(t, "dead letter stored")); got != 2 {
		t.Errorf("%d dead letter stored log lines, want 2", got)
	}
}

func TestDeadLetterStoreFailureIsRetried(t *testing.T) {
	ts := newTestServer(t)
	body := strings.Replace(string(example(t, "driver-assigned")), `"etaSeconds": 240`, `"etaSeconds": -1`, 1)
	ts.deadLetterStore.fail(errors.New("state store down"))
	if got := ts.deliver(t, "dead-letters", []byte(body)); got != "RETRY" {
		t.Fatalf("status %s, want RETRY", got)
	}
	lines := ts.logs.lines(t, "event to be retried")
	if len(lines) != 1 {
		t.Fatalf("%d event to be retried log lines, want 1", len(lines))
	}
	want := map[string]any{
		"level":   "warn",
		"topic":   "notification-dead-letters",
		"eventId": "3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b",
		"tripId":  tripID,
		"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
		"status":  "RETRY",
		"error":   "keep dead letter 3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b: state store down",
	}
	if diff := cmp.Diff(want, lines[0]); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}

	// Redelivered once the store is back, it is kept.
	ts.deadLetterStore.fail(nil)
	if got := ts.deliver(t, "dead-letters", []byte(body)); got != "SUCCESS" {
		t.Fatalf("redelivered: status %s, want SUCCESS", got)
	}
	if got := ts.deadLetters(t); got.Count != 1 || len(got.DeadLetters) != 1 {
		t.Errorf("count %d with %d letters, want 1 and 1", got.Count, len(got.DeadLetters))
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

func TestDeadLettersStoreFailure(t *testing.T) {
	ts := newTestServer(t)
	ts.deadLetterStore.fail(errors.New("state store down"))
	resp := ts.do(t, http.MethodGet, "/dead-letters", nil)

	var got problem
	decodeBody(t, resp, "application/problem+json", &got)
	if got.Status != http.StatusInternalServerError || resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %d, problem status %d, want 500", resp.StatusCode, got.Status)
	}
}
