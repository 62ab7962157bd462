package dapr_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

func TestDeadLetterStore(t *testing.T) {
	sidecar, fake := connect(t)
	store := dapr.NewDeadLetterStore(sidecar)
	ctx := context.Background()
	first := app.DeadLetters{Count: 1, Items: []app.DeadLetter{{
		ID: "evt-1", Topic: "trip-created", ReceivedAt: time.Date(2026, 11, 27, 9, 31, 0, 0, time.UTC),
		Reason: "invalid event: trip-created: at '/riderId': minLength: got 0, want 1",
		Event:  json.RawMessage(`{"specversion":"1.0","id":"evt-1"}`),
	}}}
	second := app.DeadLetters{Count: 2, Items: append(first.Items, app.DeadLetter{
		ID: "sha256:00d1ab5e", ReceivedAt: time.Date(2026, 11, 27, 9, 32, 0, 0, time.UTC),
		Reason: "invalid event: body is not a JSON CloudEvent", Event: json.RawMessage(`"not json"`),
	})}

	if got, etag, err := store.Load(ctx); err != nil || etag != "" || got.Count != 0 || len(got.Items) != 0 {
		t.Fatalf("DeadLetters() before any = %+v, %q, %v; want none", got, etag, err)
	}
	if err := store.Save(ctx, first, ""); err != nil {
		t.Fatalf("SaveDeadLetters() error = %v", err)
	}
	if err := store.Save(ctx, second, ""); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("SaveDeadLetters() as new while they exist error = %v, want %v", err, app.ErrConflict)
	}
	got, etag, err := store.Load(ctx)
	if err != nil {
		t.Fatalf("DeadLetters() error = %v", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("DeadLetters() mismatch (-want +got):\n%s", diff)
	}
	if err := store.Save(ctx, second, "7"); !errors.Is(err, app.ErrConflict) {
		t.Fatalf("SaveDeadLetters() with a stale ETag error = %v, want %v", err, app.ErrConflict)
	}
	if err := store.Save(ctx, second, etag); err != nil {
		t.Fatalf("SaveDeadLetters() with the current ETag error = %v", err)
	}

	raw, _ := fake.Value("dead-letters")
	want := `{"count":2,"deadLetters":[` +
		`{"id":"evt-1","topic":"trip-created","receivedAt":"2026-11-27T09:31:00Z","reason":"invalid event: trip-created: at '/riderId': minLength: got 0, want 1","event":{"specversion":"1.0","id":"evt-1"}},` +
		`{"id":"sha256:00d1ab5e","topic":"","receivedAt":"2026-11-27T09:32:00Z","reason":"invalid event: body is not a JSON CloudEvent","event":"not json"}]}`
	if string(raw) != want {
		t.Errorf("dead-letters holds\n%s\nwant\n%s", raw, want)
	}
}

// poison is a trip-created CloudEvent whose data violates the schema.
var poison = event(strings.Replace(validData, `"lat":50.08`, `"lat":91`, 1))

// kept returns the dead letters the harness keeps.
func (h *harness) kept(t *testing.T) app.DeadLetters {
	t.Helper()
	kept, err := h.deadLetters.List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	return kept
}

func TestDeadLetterIsStoredWithTheReasonItWasDropped(t *testing.T) {
	h := newHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)

	if got := deliver(t, h.subscriber.TripCreated(), poison); got != "DROP" {
		t.Fatalf("trip-created answered %s, want DROP", got)
	}
	if got := deliver(t, h.subscriber.DeadLetter(), poison); got != "SUCCESS" {
		t.Fatalf("dead letter answered %s, want SUCCESS; log:\n%s", got, h.logs)
	}

	dropped := logLines(t, h.logs, "event dropped")
	if len(dropped) != 1 {
		t.Fatalf("logged %d drops, want 1:\n%s", len(dropped), h.logs)
	}
	got := h.kept(t)
	if got.Count != 1 || len(got.Items) != 1 {
		t.Fatalf("kept %+v, want one dead letter", got)
	}
	dl := got.Items[0]
	if dl.ID != "evt-1" || dl.Topic != "trip-created" || !dl.ReceivedAt.Equal(requestedAt.Add(time.Second)) {
		t.Errorf("dead letter %s on %q received %s, want evt-1 on trip-created received %s", dl.ID, dl.Topic, dl.ReceivedAt, requestedAt.Add(time.Second))
	}
	if dl.Reason != dropped[0]["error"] {
		t.Errorf("reason = %q, want the error the drop logged, %q", dl.Reason, dropped[0]["error"])
	}
	testkit.Equal(t, poison, string(dl.Event))

	want := []map[string]any{{
		"level": "warn", "message": "dead letter stored", "topic": "driver-dead-letters", "eventId": "evt-1", "traceId": traceID,
		"originalTopic": "trip-created", "reason": "invalid event: trip-created: at '/pickup/lat': maximum: got 91, want 90",
	}}
	if diff := cmp.Diff(want, logLines(t, h.logs, "dead letter stored")); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

func TestDeadLetterRedeliveryIsStoredOnce(t *testing.T) {
	h := newHarness(requestedAt, driver.DefaultPool()...)

	for i := range 3 {
		if got := deliver(t, h.subscriber.DeadLetter(), poison); got != "SUCCESS" {
			t.Fatalf("delivery %d answered %s, want SUCCESS", i+1, got)
		}
	}

	if got := h.kept(t); got.Count != 1 || len(got.Items) != 1 {
		t.Errorf("kept %+v, want the dead letter once", got)
	}
	if got := len(logLines(t, h.logs, "dead letter stored")); got != 1 {
		t.Errorf("logged %d stores, want 1:\n%s", got, h.logs)
	}
	if got := len(logLines(t, h.logs, "event handled")); got != 3 {
		t.Errorf("logged %d deliveries handled, want 3:\n%s", got, h.logs)
	}
}

func TestDeadLetterNeverDropped(t *testing.T) {
	tests := []struct {
		name string
		body string
		// wantID, without a CloudEvent id, is "sha256:" and the first 16
		// hex digits of the body's SHA-256.
		wantID     string
		wantTopic  string
		wantReason string
		wantEvent  string
	}{
		{
			name:       "not JSON",
			body:       `not json`,
			wantID:     "sha256:7ccfa1fbf3940e6f",
			wantReason: "invalid event: body is not a JSON CloudEvent: invalid character 'o' in literal null (expecting 'u')",
			wantEvent:  `"not json"`,
		},
		{
			name:       "JSON but not a CloudEvent",
			body:       validData,
			wantID:     "sha256:fb0587a28af09c77",
			wantReason: `invalid event: not a CloudEvent: specversion is "", want "1.0"`,
			wantEvent:  validData,
		},
		{
			name:       "a JSON array",
			body:       `[1]`,
			wantID:     "sha256:080a9ed428559ef6",
			wantReason: "invalid event: body is not a JSON CloudEvent: it is a JSON array, not a JSON object",
			wantEvent:  `[1]`,
		},
		{
			name:       "larger than any event the service takes",
			body:       oversized,
			wantID:     "evt-1",
			wantTopic:  "trip-created",
			wantReason: "invalid event: body is larger than 65536 bytes",
			wantEvent:  jsonString(oversized[:16<<10]),
		},
		{
			name:       "a valid event whose delivery failed",
			body:       event(validData),
			wantID:     "evt-1",
			wantTopic:  "trip-created",
			wantReason: "the event is valid: it was not dropped, its delivery failed",
			wantEvent:  event(validData),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(requestedAt, driver.DefaultPool()...)

			for i := range 2 {
				if got := deliver(t, h.subscriber.DeadLetter(), tt.body); got != "SUCCESS" {
					t.Fatalf("delivery %d answered %s, want SUCCESS; log:\n%s", i+1, got, h.logs)
				}
			}

			got := h.kept(t)
			if got.Count != 1 || len(got.Items) != 1 {
				t.Fatalf("kept %+v, want the dead letter once", got)
			}
			dl := got.Items[0]
			if dl.ID != tt.wantID || dl.Topic != tt.wantTopic || dl.Reason != tt.wantReason {
				t.Errorf("dead letter = %s on %q because %q, want %s on %q because %q", dl.ID, dl.Topic, dl.Reason, tt.wantID, tt.wantTopic, tt.wantReason)
			}
			testkit.Equal(t, tt.wantEvent, string(dl.Event))
		})
	}
}

func TestDeadLetterRetriedWhileStoreFails(t *testing.T) {
	h := newHarness(requestedAt, driver.DefaultPool()...)
	h.store.Err = errors.New("connection refused")

	if got := deliver(t, h.subscriber.DeadLetter(), poison); got != "RETRY" {
		t.Fatalf("answered %s, want RETRY", got)
	}

	retried := logLines(t, h.logs, "event to be retried")
	if len(retried) != 1 || retried[0]["outcome"] != "RETRY" || retried[0]["eventId"] != "evt-1" || retried[0]["topic"] != "driver-dead-letters" || retried[0]["level"] != "warn" {
		t.Errorf("logged %v, want one RETRY of evt-1 on driver-dead-letters", retried)
	}
	h.store.Err = nil
	if got := h.kept(t); got.Count != 0 || len(got.Items) != 0 {
		t.Errorf("kept %+v, want none", got)
	}
}

// jsonString returns s encoded as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
