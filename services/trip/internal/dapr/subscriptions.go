package dapr

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dapr/go-sdk/service/common"
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

// Subscriptions answers GET /dapr/subscribe. An event the service drops
// goes to its dead-letter topic, which the service itself subscribes to
// (without a dead-letter topic of its own: a dead letter is never dropped).
func (s *Subscriber) Subscriptions() http.Handler {
	subs := []common.Subscription{
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
	return s.handle(TopicTripCreated, func(ctx context.Context, event *common.TopicEvent) (string, bool, error) {
		e, err := decodeTripCreated(event.RawData)
		if err != nil {
			return "", false, err
		}
		changed, err := s.events.TripCreated(ctx, e)
		return e.TripID, changed, err
	})
}

// DriverAssigned handles driver-assigned events.
func (s *Subscriber) DriverAssigned() http.Handler {
	return s.handle(TopicDriverAssigned, func(ctx context.Context, event *common.TopicEvent) (string, bool, error) {
		e, err := decodeDriverAssigned(event.RawData)
		if err != nil {
			return "", false, err
		}
		changed, err := s.events.DriverAssigned(ctx, e)
		return e.TripID, changed, err
	})
}

// DriverNotFound handles driver-not-found events.
func (s *Subscriber) DriverNotFound() http.Handler {
	return s.handle(TopicDriverNotFound, func(ctx context.Context, event *common.TopicEvent) (string, bool, error) {
		e, err := decodeDriverNotFound(event.RawData)
		if err != nil {
			return "", false, err
		}
		changed, err := s.events.DriverNotFound(ctx, e)
		return e.TripID, changed, err
	})
}

// apply applies a delivered event. It returns the trip id (for the log)
// and whether the trip changed.
type apply func(ctx context.Context, event *common.TopicEvent) (tripID string, changed bool, err error)

// handle serves the deliveries of one topic: it reads the CloudEvent,
// applies it and answers with the outcome.
func (s *Subscriber) handle(topic string, apply apply) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, err := readEvent(r)
		log := s.logger.With().Str("topic", topic).Str("eventId", event.ID).Str("traceId", traceID(event)).Logger()
		tripID, changed := "", false
		if err == nil {
			tripID, changed, err = apply(r.Context(), event)
		}
		status := outcome(err)
		log = log.With().Str("tripId", tripID).Str("outcome", string(status)).Logger()
		switch status {
		case common.SubscriptionResponseStatusSuccess:
			log.Info().Bool("changed", changed).Msg("event handled")
		case common.SubscriptionResponseStatusDrop:
			log.Error().Err(err).Msg("event dropped")
		default:
			log.Warn().Err(err).Msg("event to be retried")
		}
		writeStatus(w, status)
	})
}

// outcome maps the result of handling an event to Dapr's answer: SUCCESS
// when it was applied (or was a duplicate), DROP when no redelivery can
// fix it, RETRY otherwise.
func outcome(err error) common.SubscriptionResponseStatus {
	switch {
	case err == nil:
		return common.SubscriptionResponseStatusSuccess
	case isPermanent(err):
		return common.SubscriptionResponseStatusDrop
	default:
		return common.SubscriptionResponseStatusRetry
	}
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

// writeStatus answers a delivery: always HTTP 200, with the outcome in
// the body, so that the sidecar never has to guess.
func writeStatus(w http.ResponseWriter, status common.SubscriptionResponseStatus) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(common.SubscriptionResponse{Status: status})
}

// readEvent reads a delivered CloudEvent, at most maxEventBytes of it.
// Its errors wrap errInvalidEvent, but for a body that could not be read.
// What it could read of the event is returned even with an error, for the
// log.
func readEvent(r *http.Request) (*common.TopicEvent, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBytes+1))
	if err != nil {
		return &common.TopicEvent{}, fmt.Errorf("read event: %w", err)
	}
	return parseEvent(body)
}

// parseEvent decodes a delivered CloudEvent: at most maxEventBytes of
// JSON, CloudEvents 1.0, with an id and data. The data arrives in RawData;
// data sent as a JSON string holding the payload (as some publishers,
// Dapr's outbox among them, do) is unwrapped. Its errors wrap
// errInvalidEvent; what it could read of the event is returned with them.
func parseEvent(body []byte) (*common.TopicEvent, error) {
	if len(body) > maxEventBytes {
		return &common.TopicEvent{}, fmt.Errorf("%w: body is larger than %d bytes", errInvalidEvent, maxEventBytes)
	}
	return decodeEnvelope(body)
}

// decodeEnvelope decodes a CloudEvent of any size; see parseEvent.
func decodeEnvelope(body []byte) (*common.TopicEvent, error) {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(body, &attrs); err != nil || attrs == nil {
		return &common.TopicEvent{}, fmt.Errorf("%w: not a JSON CloudEvent object", errInvalidEvent)
	}
	// The attributes are read by their exact names, as the data is.
	event := &common.TopicEvent{}
	for name, value := range map[string]*string{
		"specversion": &event.SpecVersion, "id": &event.ID, "type": &event.Type, "source": &event.Source,
		"datacontenttype": &event.DataContentType, "subject": &event.Subject, "topic": &event.Topic,
		"pubsubname": &event.PubsubName, "traceid": &event.TraceID, "traceparent": &event.TraceParent,
	} {
		if raw, ok := attrs[name]; ok && json.Unmarshal(raw, value) != nil {
			return event, fmt.Errorf("%w: CloudEvent attribute %s is not a string", errInvalidEvent, name)
		}
	}
	data := attrs["data"]
	switch {
	case event.SpecVersion != "1.0":
		return event, fmt.Errorf("%w: CloudEvent specversion %q, want \"1.0\"", errInvalidEvent, event.SpecVersion)
	case event.ID == "":
		return event, fmt.Errorf("%w: CloudEvent without id", errInvalidEvent)
	case len(data) == 0 || string(data) == "null":
		return event, fmt.Errorf("%w: CloudEvent without data", errInvalidEvent)
	}
	event.RawData = data
	if data[0] == '"' {
		var inner string
		if err := json.Unmarshal(data, &inner); err != nil {
			return event, fmt.Errorf("%w: data: %w", errInvalidEvent, err)
		}
		event.RawData = []byte(inner)
	}
	return event, nil
}

// traceID returns the W3C trace id of a delivered event, or "". Dapr puts
// the traceparent in traceparent or, in some versions, traceid.
func traceID(event *common.TopicEvent) string {
	tp := cmp.Or(event.TraceParent, event.TraceID)
	parts := strings.Split(tp, "-")
	if len(parts) != 4 {
		return ""
	}
	return parts[1]
}
