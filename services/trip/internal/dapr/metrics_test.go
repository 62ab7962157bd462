package dapr

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/trip/internal/trip"
)

// recordingMetrics records what the subscriber counts.
type recordingMetrics struct {
	handled     []handled
	deadLetters []string // the topics the dead letters were first delivered on
}

// handled is one call of EventHandled.
type handled struct{ Topic, Outcome string }

func (r *recordingMetrics) EventHandled(topic, outcome string) {
	r.handled = append(r.handled, handled{Topic: topic, Outcome: outcome})
}

func (r *recordingMetrics) DeadLetterStored(topic string) {
	r.deadLetters = append(r.deadLetters, topic)
}

// TestSubscriberCounts: every delivery answered is counted once, with the
// subscribed topic and the outcome, and a dead letter once, when it is
// first stored.
func TestSubscriberCounts(t *testing.T) {
	poison := `{"specversion":"1.0","id":"e-9","topic":"driver-assigned","data":{"tripId":"` + exampleTripID + `"}}`
	tests := []struct {
		name            string
		route           func(*Subscriber) http.Handler
		err             error    // what the app and the dead-letter store answer
		bodies          []string // delivered in turn
		wantHandled     []handled
		wantDeadLetters []string
	}{
		{
			name: "trip-created handled", route: (*Subscriber).TripCreated, bodies: []string{cloudEvent(createdData)},
			wantHandled: []handled{{"trip-created", "SUCCESS"}},
		},
		{
			name: "driver-assigned to be retried", route: (*Subscriber).DriverAssigned, err: errors.New("connection refused"),
			bodies:      []string{cloudEvent(assignedData)},
			wantHandled: []handled{{"driver-assigned", "RETRY"}},
		},
		{
			name: "driver-assigned dropped by the app", route: (*Subscriber).DriverAssigned, err: trip.ErrNotFound,
			bodies:      []string{cloudEvent(assignedData)},
			wantHandled: []handled{{"driver-assigned", "DROP"}},
		},
		{
			name: "driver-not-found dropped, not a CloudEvent", route: (*Subscriber).DriverNotFound, bodies: []string{`{"specversion":"1.0",`},
			wantHandled: []handled{{"driver-not-found", "DROP"}},
		},
		{
			name: "dead letter stored, then redelivered", route: (*Subscriber).DeadLetter, bodies: []string{poison, poison},
			wantHandled:     []handled{{"trip-dead-letters", "SUCCESS"}, {"trip-dead-letters", "SUCCESS"}},
			wantDeadLetters: []string{"driver-assigned"},
		},
		{
			name: "dead letter not stored", route: (*Subscriber).DeadLetter, err: errors.New("connection refused"), bodies: []string{poison},
			wantHandled: []handled{{"trip-dead-letters", "RETRY"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counted := &recordingMetrics{}
			s := NewSubscriber(zerolog.Nop(), "pubsub", &recordingEvents{err: tt.err}, &recordingDeadLetters{err: tt.err}, counted)
			for _, body := range tt.bodies {
				deliver(t, tt.route(s), body)
			}
			if diff := cmp.Diff(tt.wantHandled, counted.handled); diff != "" {
				t.Errorf("EventHandled calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDeadLetters, counted.deadLetters); diff != "" {
				t.Errorf("DeadLetterStored calls (-want +got):\n%s", diff)
			}
		})
	}
}
