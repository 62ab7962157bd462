package dapr

import (
	"context"
	"errors"
	"strings"
	"testing"

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
			wantReason: "invalid event: driver-assigned: riderId is required; driver is required; etaSeconds is required; assignedAt is required"},
		{name: "event without a topic attribute", body: envelope(assignedData), want: statusSuccess, wantID: "e-1",
			wantReason: `not a topic the trip service handles: ""`},
		{name: "valid driver-assigned for an unknown trip", body: strings.Replace(envelope(assignedData), `"id":"e-1"`, `"id":"e-2","topic":"driver-assigned"`, 1),
			want: statusSuccess, wantID: "e-2", wantTopic: "driver-assigned", wantReason: "the event is valid, but names a trip"},
		{name: "not JSON", body: `{{{`, want: statusSuccess, wantID: "sha256:", wantReason: "not a JSON CloudEvent"},
		{name: "store down", body: poison, storeErr: errors.New("connection refused"), want: statusRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := &recordingDeadLetters{err: tt.storeErr}
			s := NewSubscriber(zerolog.Nop(), "pubsub", &recordingEvents{}, box)
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
