package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/trip/internal/app"
)

// recordingDeadLetters records the dead letters handed to it, once per id.
type recordingDeadLetters struct {
	stored []app.DeadLetter
	err    error
}

func (r *recordingDeadLetters) Store(_ context.Context, dl app.DeadLetter) (bool, error) {
	if r.err != nil {
		return false, r.err
	}
	for _, kept := range r.stored {
		if kept.ID == dl.ID {
			return false, nil
		}
	}
	r.stored = append(r.stored, dl)
	return true, nil
}

func TestDeadLetterHandler(t *testing.T) {
	poison := `{"specversion":"1.0","id":"e-9","source":"driver","type":"com.dapr.event.sent","topic":"driver-assigned","data":{"tripId":"` + exampleTripID + `"}}`
	tests := []struct {
		name       string
		body       string
		storeErr   error
		want       string
		wantID     string
		wantTopic  string
		wantReason string
	}{
		{name: "poison driver-assigned", body: poison, want: statusSuccess, wantID: "e-9", wantTopic: "driver-assigned",
			wantReason: "invalid event: driver-assigned: at '': missing properties 'riderId', 'driver', 'etaSeconds', 'assignedAt'"},
		{name: "poison trip-created", body: `{"specversion":"1.0","id":"e-8","topic":"trip-created","data":{"tripId":"` + exampleTripID + `"}}`, want: statusSuccess, wantID: "e-8", wantTopic: "trip-created",
			wantReason: "invalid event: trip-created: at '': missing properties 'riderId', 'pickup', 'dropoff', 'requestedAt'"},
		{name: "event without a topic attribute", body: cloudEvent(assignedData), want: statusSuccess, wantID: "e-1",
			wantReason: `not a topic the trip service handles: ""`},
		{name: "valid driver-assigned for an unknown trip", body: strings.Replace(cloudEvent(assignedData), `"id":"e-1"`, `"id":"e-2","topic":"driver-assigned"`, 1),
			want: statusSuccess, wantID: "e-2", wantTopic: "driver-assigned", wantReason: "the event is valid, but names a trip"},
		{name: "not JSON", body: `{{{`, want: statusSuccess, wantID: "sha256:", wantReason: "invalid event: body is not a JSON CloudEvent"},
		{name: "attributes named in another case are not read", body: strings.Replace(strings.Replace(poison, `"id"`, `"ID"`, 1), `"topic"`, `"Topic"`, 1),
			want: statusSuccess, wantID: "sha256:", wantReason: "invalid event: not a CloudEvent: it has no id"},
		{name: "store down", body: poison, storeErr: errors.New("connection refused"), want: statusRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := &recordingDeadLetters{err: tt.storeErr}
			s := NewSubscriber(zerolog.Nop(), "pubsub", &recordingEvents{}, box, &recordingMetrics{})
			if got := deliver(t, s.DeadLetter(), tt.body); got != tt.want {
				t.Fatalf("outcome = %s, want %s", got, tt.want)
			}
			if tt.storeErr != nil {
				return
			}
			if len(box.stored) != 1 {
				t.Fatalf("%d dead letters stored, want 1", len(box.stored))
			}
			dl := box.stored[0]
			if !strings.HasPrefix(dl.ID, tt.wantID) || dl.Topic != tt.wantTopic || !strings.HasPrefix(dl.Reason, tt.wantReason) {
				t.Errorf("stored id %q topic %q reason %q; want id %q topic %q reason starting %q", dl.ID, dl.Topic, dl.Reason, tt.wantID, tt.wantTopic, tt.wantReason)
			}
			// A redelivered dead letter is stored once.
			if got := deliver(t, s.DeadLetter(), tt.body); got != statusSuccess || len(box.stored) != 1 {
				t.Errorf("redelivery: outcome %s, %d stored; want SUCCESS and still 1", got, len(box.stored))
			}
		})
	}
}

// endlessBody is a request body that never ends: "x" after prefix, for
// ever. It counts the bytes read.
type endlessBody struct {
	prefix *strings.Reader
	read   int
}

func (b *endlessBody) Read(p []byte) (int, error) {
	n, _ := b.prefix.Read(p)
	for i := n; i < len(p); i++ {
		p[i] = 'x'
	}
	b.read += len(p)
	return len(p), nil
}

// TestDeadLetterBounds: whatever its size, a dead letter is stored (never
// retried for ever), read up to maxDeadLetterBytes, and kept as JSON of at
// most maxKeptEventBytes, else as a JSON string of its start.
func TestDeadLetterBounds(t *testing.T) {
	const missing = "invalid event: driver-assigned: at '': missing properties 'tripId', 'riderId', 'driver', 'etaSeconds', 'assignedAt'"
	start := `{"specversion":"1.0","id":"e-big","topic":"driver-assigned","data":{"pad":"`
	oneMiB := start + strings.Repeat("x", maxDeadLetterBytes-len(start))
	padded := func(n int) string { // an event of n bytes
		return start + strings.Repeat("x", n-len(start)-3) + `"}}`
	}
	startOf := func(body string) json.RawMessage {
		s, err := json.Marshal(body[:maxKeptEventBytes])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name       string
		body       io.Reader
		wantID     string
		wantTopic  string
		wantReason string
		wantEvent  json.RawMessage
	}{
		{name: "JSON of 16 KiB, kept as it is", body: strings.NewReader(padded(maxKeptEventBytes)),
			wantID: "e-big", wantTopic: "driver-assigned", wantReason: missing, wantEvent: json.RawMessage(padded(maxKeptEventBytes))},
		{name: "JSON over 16 KiB, kept as a string of its start", body: strings.NewReader(padded(maxKeptEventBytes + 1)),
			wantID: "e-big", wantTopic: "driver-assigned", wantReason: missing, wantEvent: startOf(padded(maxKeptEventBytes + 1))},
		{name: "dropped for its size", body: strings.NewReader(padded(maxEventBytes + 1)),
			wantID: "e-big", wantTopic: "driver-assigned", wantReason: "invalid event: body is larger than 65536 bytes", wantEvent: startOf(padded(maxEventBytes + 1))},
		// Cut short at 1 MiB, the body is no longer JSON: its id and topic
		// cannot be read.
		{name: "endless, read up to 1 MiB", body: &endlessBody{prefix: strings.NewReader(start)},
			wantID: contentID([]byte(oneMiB)), wantReason: "invalid event: body is larger than 65536 bytes", wantEvent: startOf(oneMiB)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := &recordingDeadLetters{}
			s := NewSubscriber(zerolog.Nop(), "pubsub", &recordingEvents{}, box, &recordingMetrics{})
			rec := httptest.NewRecorder()
			s.DeadLetter().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, RouteDeadLetters, tt.body))
			if got := strings.TrimSpace(rec.Body.String()); got != `{"status":"SUCCESS"}` {
				t.Fatalf("answer %s, want SUCCESS", got)
			}
			if b, ok := tt.body.(*endlessBody); ok && b.read > maxDeadLetterBytes {
				t.Errorf("read %d bytes of the body, want at most %d", b.read, maxDeadLetterBytes)
			}
			if len(box.stored) != 1 {
				t.Fatalf("%d dead letters stored, want 1", len(box.stored))
			}
			want := app.DeadLetter{ID: tt.wantID, Topic: tt.wantTopic, Reason: tt.wantReason, Event: tt.wantEvent}
			if diff := cmp.Diff(want, box.stored[0]); diff != "" {
				t.Errorf("dead letter (-want +got):\n%s", diff)
			}
		})
	}
}
