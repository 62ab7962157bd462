package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/trip"
)

// Topics the trip service subscribes to, and the routes the sidecar
// delivers them to.
const (
	TopicTripCreated    = app.TopicTripCreated
	TopicDriverAssigned = "driver-assigned"
	TopicDriverNotFound = "driver-not-found"

	// TopicDeadLetters receives the events the service dropped; the
	// sidecar forwards them there.
	TopicDeadLetters = "trip-dead-letters"

	RouteTripCreated    = "/events/" + TopicTripCreated
	RouteDriverAssigned = "/events/" + TopicDriverAssigned
	RouteDriverNotFound = "/events/" + TopicDriverNotFound
	RouteDeadLetters    = "/events/dead-letters"
)

// maxEventBytes bounds a delivered CloudEvent; ours are well under 1 KiB.
const maxEventBytes = 64 << 10

// TripEvents is what the subscriber needs of the app: one use case per
// consumed topic, each reporting whether the trip changed.
type TripEvents interface {
	TripCreated(ctx context.Context, e app.TripCreated) (bool, error)
	DriverAssigned(ctx context.Context, e app.DriverAssigned) (bool, error)
	DriverNotFound(ctx context.Context, e app.DriverNotFound) (bool, error)
}

// DeadLetters stores dead letters; it reports whether the letter was new.
type DeadLetters interface {
	Store(ctx context.Context, dl app.DeadLetter) (bool, error)
}

// Subscriber serves Dapr's subscription protocol: GET /dapr/subscribe lists
// the subscriptions, and each event arrives as a CloudEvent POSTed to its
// route and is answered SUCCESS, RETRY or DROP.
type Subscriber struct {
	logger      zerolog.Logger
	pubsub      string
	events      TripEvents
	deadLetters DeadLetters
}

// NewSubscriber returns the subscriber for the pub/sub component pubsub.
func NewSubscriber(logger zerolog.Logger, pubsub string, events TripEvents, deadLetters DeadLetters) *Subscriber {
	return &Subscriber{logger: logger, pubsub: pubsub, events: events, deadLetters: deadLetters}
}

// subscription is one entry of the GET /dapr/subscribe answer.
type subscription struct {
	PubsubName      string `json:"pubsubname"`
	Topic           string `json:"topic"`
	Route           string `json:"route"`
	DeadLetterTopic string `json:"deadLetterTopic,omitempty"`
}

// Subscriptions answers GET /dapr/subscribe. An event the service drops
// goes to its dead-letter topic, which the service itself subscribes to
// (without a dead-letter topic of its own: a dead letter is never dropped).
func (s *Subscriber) Subscriptions() http.Handler {
	subs := []subscription{
		{PubsubName: s.pubsub, Topic: TopicTripCreated, Route: RouteTripCreated, DeadLetterTopic: TopicDeadLetters},
		{PubsubName: s.pubsub, Topic: TopicDriverAssigned, Route: RouteDriverAssigned, DeadLetterTopic: TopicDeadLetters},
		{PubsubName: s.pubsub, Topic: TopicDriverNotFound, Route: RouteDriverNotFound, DeadLetterTopic: TopicDeadLetters},
		{PubsubName: s.pubsub, Topic: TopicDeadLetters, Route: RouteDeadLetters},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(subs)
	})
}

// TripCreated handles the service's own trip-created events: an order
// whose record POST /trips could not write is recorded here.
func (s *Subscriber) TripCreated() http.Handler {
	return s.handle(TopicTripCreated, func(ctx context.Context, data []byte) (string, bool, error) {
		e, err := decodeTripCreated(data)
		if err != nil {
			return "", false, err
		}
		changed, err := s.events.TripCreated(ctx, e)
		return e.TripID, changed, err
	})
}

// DriverAssigned handles driver-assigned events.
func (s *Subscriber) DriverAssigned() http.Handler {
	return s.handle(TopicDriverAssigned, func(ctx context.Context, data []byte) (string, bool, error) {
		e, err := decodeDriverAssigned(data)
		if err != nil {
			return "", false, err
		}
		changed, err := s.events.DriverAssigned(ctx, e)
		return e.TripID, changed, err
	})
}

// DriverNotFound handles driver-not-found events.
func (s *Subscriber) DriverNotFound() http.Handler {
	return s.handle(TopicDriverNotFound, func(ctx context.Context, data []byte) (string, bool, error) {
		e, err := decodeDriverNotFound(data)
		if err != nil {
			return "", false, err
		}
		changed, err := s.events.DriverNotFound(ctx, e)
		return e.TripID, changed, err
	})
}

// Delivery outcomes of Dapr's subscription protocol.
const (
	statusSuccess = "SUCCESS"
	statusRetry   = "RETRY"
	statusDrop    = "DROP"
)

// process decodes an event's data and applies it. It returns the trip id
// (for the log) and whether the trip changed.
type process func(ctx context.Context, data []byte) (tripID string, changed bool, err error)

func (s *Subscriber) handle(topic string, apply process) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBytes+1))
		if err != nil {
			s.logger.Error().Err(err).Str("topic", topic).Str("outcome", statusRetry).Msg("event unreadable, will be redelivered")
			writeStatus(w, statusRetry)
			return
		}
		ce, err := decodeCloudEvent(body)
		log := s.logger.With().Str("topic", topic).Str("eventId", ce.ID).Str("traceId", ce.traceID()).Logger()
		if err != nil {
			log.Warn().Err(err).Str("outcome", statusDrop).Msg("event dropped")
			writeStatus(w, statusDrop)
			return
		}
		tripID, changed, err := apply(r.Context(), ce.Data)
		log = log.With().Str("tripId", tripID).Logger()
		switch {
		case err == nil:
			log.Info().Bool("changed", changed).Str("outcome", statusSuccess).Msg("event handled")
			writeStatus(w, statusSuccess)
		case isPermanent(err):
			log.Warn().Err(err).Str("outcome", statusDrop).Msg("event dropped")
			writeStatus(w, statusDrop)
		default:
			log.Error().Err(err).Str("outcome", statusRetry).Msg("event failed, will be redelivered")
			writeStatus(w, statusRetry)
		}
	})
}

// isPermanent reports errors that no redelivery can fix: the event is
// invalid, names a trip this service never stored, or contradicts the
// trip's final status.
func isPermanent(err error) bool {
	return errors.Is(err, errInvalidEvent) ||
		errors.Is(err, trip.ErrInvalidOrder) ||
		errors.Is(err, trip.ErrNotFound) ||
		errors.Is(err, trip.ErrOutcomeConflict)
}

func writeStatus(w http.ResponseWriter, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `{"status":%q}`, status)
}

// cloudEvent is the part of a CloudEvents 1.0 envelope the service reads.
type cloudEvent struct {
	SpecVersion string
	ID          string
	TraceParent string
	TraceID     string
	Data        json.RawMessage
}

// UnmarshalJSON decodes the attributes by their exact names.
func (ce *cloudEvent) UnmarshalJSON(b []byte) error {
	return decodeObject(b,
		property{"specversion", &ce.SpecVersion},
		property{"id", &ce.ID},
		property{"traceparent", &ce.TraceParent},
		property{"traceid", &ce.TraceID},
		property{"data", &ce.Data},
	)
}

// traceID returns the W3C trace id of the event, or "". Dapr puts the
// traceparent in traceparent or, in some versions, traceid.
func (ce cloudEvent) traceID() string {
	tp := ce.TraceParent
	if tp == "" {
		tp = ce.TraceID
	}
	parts := strings.Split(tp, "-")
	if len(parts) != 4 {
		return ""
	}
	return parts[1]
}

// decodeCloudEvent decodes body, one JSON CloudEvent of at most
// maxEventBytes.
func decodeCloudEvent(body []byte) (cloudEvent, error) {
	if len(body) > maxEventBytes {
		return cloudEvent{}, fmt.Errorf("%w: body is larger than %d bytes", errInvalidEvent, maxEventBytes)
	}
	var ce cloudEvent
	if err := json.Unmarshal(body, &ce); err != nil {
		return cloudEvent{}, fmt.Errorf("%w: not a JSON CloudEvent: %w", errInvalidEvent, err)
	}
	switch {
	case ce.SpecVersion == "":
		return ce, fmt.Errorf("%w: CloudEvent without specversion", errInvalidEvent)
	case ce.ID == "":
		return ce, fmt.Errorf("%w: CloudEvent without id", errInvalidEvent)
	case len(ce.Data) == 0 || string(ce.Data) == "null":
		return ce, fmt.Errorf("%w: CloudEvent without data", errInvalidEvent)
	}
	// Some publishers (Dapr's outbox among them) send the JSON payload as a
	// string holding it.
	if ce.Data[0] == '"' {
		var inner string
		if err := json.Unmarshal(ce.Data, &inner); err != nil {
			return ce, fmt.Errorf("%w: data: %w", errInvalidEvent, err)
		}
		ce.Data = json.RawMessage(inner)
	}
	return ce, nil
}
