package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/app"
)

// The topics the service subscribes to.
const (
	topicTripCreated    = "trip-created"
	topicDriverAssigned = "driver-assigned"
	topicDriverNotFound = "driver-not-found"
)

// The answers to an event delivery, as Dapr reads them.
const (
	statusSuccess = "SUCCESS" // handled, or a duplicate: acknowledge it
	statusRetry   = "RETRY"   // may succeed later: deliver it again
	statusDrop    = "DROP"    // can never succeed: dead-letter it
)

// maxEventBytes bounds the body of an event delivery.
const maxEventBytes = 64 << 10

// subscription is one entry of the answer to GET /dapr/subscribe.
type subscription struct {
	PubSubName      string `json:"pubsubname"`
	Topic           string `json:"topic"`
	Route           string `json:"route"`
	DeadLetterTopic string `json:"deadLetterTopic,omitempty"`
}

// eventPath is the route Dapr delivers a topic's events to.
func eventPath(topic string) string {
	return "/events/" + topic
}

// handleSubscribe tells the sidecar which topics to deliver and where: each
// subscribed topic, whose dropped events go to the dead-letter topic, and
// the dead-letter topic itself, whose events have nowhere further to go.
func handleSubscribe(pubsub string) http.Handler {
	var subs []subscription
	for _, topic := range slices.Sorted(maps.Keys(decoders)) {
		subs = append(subs, subscription{
			PubSubName: pubsub, Topic: topic, Route: eventPath(topic), DeadLetterTopic: deadLetterTopic,
		})
	}
	subs = append(subs, subscription{PubSubName: pubsub, Topic: deadLetterTopic, Route: deadLetterPath})
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, subs)
	})
}

// An event is the data of a delivered event, decoded and ready to apply.
type event interface {
	apply(ctx context.Context, events Events) error
}

// decodeFunc decodes the data of one topic's events. Its errors wrap
// errInvalidEvent.
type decodeFunc func(data object) (event, error)

// errInvalidEvent means a delivery can never be handled: it is not a
// CloudEvent, or its data does not match the topic's schema.
var errInvalidEvent = errors.New("invalid event")

// handleEvent handles Dapr's deliveries of one topic's events. It always
// answers 200 with the outcome in the body, and logs every DROP and RETRY
// once.
func handleEvent(logger zerolog.Logger, topic string, events Events) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := delivery{topic: topic}
		err := d.handle(r, events)
		status := outcome(err)
		if err != nil {
			d.log(logger, status, err)
		}
		writeJSON(w, http.StatusOK, statusBody{Status: status})
	})
}

// outcome maps the result of handling an event to Dapr's answer: DROP for
// an invalid event, RETRY when applying it failed, SUCCESS otherwise
// (duplicates included).
func outcome(err error) string {
	switch {
	case err == nil:
		return statusSuccess
	case errors.Is(err, errInvalidEvent):
		return statusDrop
	default:
		return statusRetry
	}
}

// delivery is one event delivery, and what is known about it for the log.
type delivery struct {
	topic       string
	eventID     string
	tripID      string
	traceParent string
	traceID     string
}

// handle decodes the delivered event and applies it.
func (d *delivery) handle(r *http.Request, events Events) error {
	body, err := readEvent(r)
	if err != nil {
		return err
	}
	e, err := d.decode(body)
	// Before the error check: the log of a dropped event names its trace too.
	ctx := app.WithTraceParent(r.Context(), d.traceParent)
	d.traceID = app.TraceID(ctx)
	if err != nil {
		return err
	}
	return e.apply(ctx, events)
}

// readEvent reads the body of a delivery, up to one byte more than an event
// may have, so that decodeCloudEvent can tell it is too large.
func readEvent(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	return body, nil
}

// decode decodes a delivered event of d's topic: the CloudEvent, then its
// data with the topic's decoder. It notes what it learns for the log as it
// goes. Its errors wrap errInvalidEvent.
func (d *delivery) decode(body []byte) (event, error) {
	ce, err := decodeCloudEvent(body)
	if err != nil {
		return nil, err
	}
	d.eventID, d.traceParent = ce.ID, ce.TraceParent
	data, err := ce.object()
	if err != nil {
		return nil, err
	}
	d.tripID, _ = data.props["tripId"].(string)
	decode, ok := decoders[d.topic]
	if !ok {
		return nil, fmt.Errorf("%w: the service does not subscribe to topic %q", errInvalidEvent, d.topic)
	}
	return decode(data)
}

// log records why the delivery was not a SUCCESS.
func (d *delivery) log(logger zerolog.Logger, status string, err error) {
	level, msg := zerolog.WarnLevel, "event to be retried"
	if status == statusDrop {
		level, msg = zerolog.ErrorLevel, "event dropped"
	}
	logger.WithLevel(level).
		Str("topic", d.topic).
		Str("eventId", d.eventID).
		Str("tripId", d.tripID).
		Str("traceId", d.traceID).
		Str("status", status).
		Err(err).
		Msg(msg)
}
