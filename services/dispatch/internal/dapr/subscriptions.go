package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/dapr/go-sdk/service/common"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/tracing"
)

// Topics the dispatch service subscribes to, and the routes the
// sidecar delivers them to.
const (
	TopicTripCreated    = "trip-created"
	TopicDriverAssigned = "driver-assigned"
	TopicDriverNotFound = "driver-not-found"

	// TopicDeadLetters receives the events the service dropped; the
	// sidecar forwards them there.
	TopicDeadLetters = "dispatch-dead-letters"

	RouteTripCreated    = "/events/" + TopicTripCreated
	RouteDriverAssigned = "/events/" + TopicDriverAssigned
	RouteDriverNotFound = "/events/" + TopicDriverNotFound
	RouteDeadLetters    = "/events/dead-letters"
)

// maxEventBytes is the largest event body taken; a larger one is dropped.
const maxEventBytes = 64 << 10

// Events is what the service does with the events it subscribes to
// (app.Service): one use case per consumed topic, each bringing the
// dispatchers' board up to date.
type Events interface {
	// TripOrdered puts the rider on the board, waiting.
	TripOrdered(ctx context.Context, e app.TripCreated) error
	// DriverAssigned shows the driver coming for the trip.
	DriverAssigned(ctx context.Context, e app.DriverAssigned) error
	// DriverNotFound shows the trip left without a driver.
	DriverNotFound(ctx context.Context, e app.DriverNotFound) error
}

// DeadLetters keeps the events the service could never handle
// (app.DeadLetterBox).
type DeadLetters interface {
	// Store keeps dl unless it is kept already, and reports whether it
	// kept it.
	Store(ctx context.Context, dl app.DeadLetter) (bool, error)
}

// Metrics counts what became of the events delivered (internal/metrics).
type Metrics interface {
	// EventHandled counts an event of topic answered with outcome
	// (SUCCESS, RETRY or DROP).
	EventHandled(topic, outcome string)
	// DeadLetterStored counts a dead letter first delivered on topic.
	DeadLetterStored(topic string)
}

// Subscriber is the service's side of Dapr's programmatic subscription
// protocol on the HTTP app channel: the subscriptions daprd asks for at
// start, and the handlers of the events it then delivers. Each handler
// answers HTTP 200 with what became of the event: SUCCESS, RETRY (deliver
// it again later) or DROP (it can never be handled; daprd forwards it to
// the dead-letter topic).
type Subscriber struct {
	logger      zerolog.Logger
	pubsub      string
	events      Events
	deadLetters DeadLetters
	metrics     Metrics
}

// NewSubscriber returns the Subscriber to the topics of the pub/sub
// component named pubsub, handing their events to events, and its dead
// letters to deadLetters.
func NewSubscriber(logger zerolog.Logger, pubsub string, events Events, deadLetters DeadLetters, metrics Metrics) *Subscriber {
	return &Subscriber{logger: logger, pubsub: pubsub, events: events, deadLetters: deadLetters, metrics: metrics}
}

// Subscriptions answers GET /dapr/subscribe: each topic the service reads,
// whose dropped events daprd forwards to the service's dead-letter topic,
// and that topic itself, with no dead-letter topic of its own (its handler
// never drops).
func (s *Subscriber) Subscriptions() http.Handler {
	subscriptions := []common.Subscription{
		{PubsubName: s.pubsub, Topic: TopicTripCreated, Route: RouteTripCreated, DeadLetterTopic: TopicDeadLetters},
		{PubsubName: s.pubsub, Topic: TopicDriverAssigned, Route: RouteDriverAssigned, DeadLetterTopic: TopicDeadLetters},
		{PubsubName: s.pubsub, Topic: TopicDriverNotFound, Route: RouteDriverNotFound, DeadLetterTopic: TopicDeadLetters},
		{PubsubName: s.pubsub, Topic: TopicDeadLetters, Route: RouteDeadLetters},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, subscriptions)
	})
}

// TripCreated handles trip-created: the rider appears on the board,
// waiting.
func (s *Subscriber) TripCreated() http.Handler {
	return s.handle(TopicTripCreated, s.recordOrder)
}

// DriverAssigned handles driver-assigned: the board shows the driver
// coming.
func (s *Subscriber) DriverAssigned() http.Handler {
	return s.handle(TopicDriverAssigned, s.recordAssignment)
}

// DriverNotFound handles driver-not-found: the board shows the trip
// without a driver.
func (s *Subscriber) DriverNotFound() http.Handler {
	return s.handle(TopicDriverNotFound, s.recordNoDriver)
}

// DeadLetter handles the service's dead-letter topic: the events it dropped,
// forwarded by daprd. It keeps each (deadLetterOf) for GET /dead-letters,
// and answers SUCCESS once it is kept, RETRY while it cannot be, and never
// DROP: whatever arrives is kept.
func (s *Subscriber) DeadLetter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := s.logger.With().Str("topic", TopicDeadLetters).Logger()
		body, err := io.ReadAll(io.LimitReader(r.Body, maxDeadLetterBytes))
		if err != nil {
			s.metrics.EventHandled(TopicDeadLetters, answer(w, log, fmt.Errorf("read dead letter: %w", err)))
			return
		}
		dl, traceParent := deadLetterOf(body)
		ctx, span := tracing.Consume(r, TopicDeadLetters, traceParent)
		span.SetAttributes(tracing.EventID.String(dl.ID))
		log = withEvent(log, dl.ID, ctx)
		stored, err := s.deadLetters.Store(ctx, dl)
		if err == nil && stored {
			log.Warn().Str("originalTopic", dl.Topic).Str("reason", dl.Reason).Msg("dead letter stored")
			s.metrics.DeadLetterStored(dl.Topic)
		}
		s.finish(TopicDeadLetters, w, log, span, err)
	})
}

// recordOrder applies a trip-created event.
func (s *Subscriber) recordOrder(ctx context.Context, e *common.TopicEvent) (string, error) {
	created, err := decodeTripCreated(e.RawData)
	if err != nil {
		return "", err
	}
	return created.TripID, s.events.TripOrdered(ctx, created)
}

// recordAssignment applies a driver-assigned event.
func (s *Subscriber) recordAssignment(ctx context.Context, e *common.TopicEvent) (string, error) {
	assigned, err := decodeDriverAssigned(e.RawData)
	if err != nil {
		return "", err
	}
	return assigned.TripID, s.events.DriverAssigned(ctx, assigned)
}

// recordNoDriver applies a driver-not-found event.
func (s *Subscriber) recordNoDriver(ctx context.Context, e *common.TopicEvent) (string, error) {
	notFound, err := decodeDriverNotFound(e.RawData)
	if err != nil {
		return "", err
	}
	return notFound.TripID, s.events.DriverNotFound(ctx, notFound)
}

// isPermanent reports errors that no redelivery can fix: the event is
// invalid.
func isPermanent(err error) bool {
	return errors.Is(err, errInvalidEvent)
}

// handle returns the handler of the events on topic: it reads the
// CloudEvent, applies it with apply (under a context that carries the
// event's span and its logger), and answers daprd with the status the
// outcome maps to (answer). apply returns the event's trip id, once known,
// for the log and the span.
func (s *Subscriber) handle(topic string, apply func(ctx context.Context, e *common.TopicEvent) (tripID string, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := readEvent(r)
		ctx, span := tracing.Consume(r, topic, e.TraceParent)
		span.SetAttributes(tracing.EventID.String(e.ID))
		log := withEvent(s.logger.With().Str("topic", topic).Logger(), e.ID, ctx)
		if err != nil {
			s.finish(topic, w, log, span, err)
			return
		}
		tripID, err := apply(log.WithContext(ctx), e)
		if tripID != "" {
			log = log.With().Str("tripId", tripID).Logger()
			span.SetAttributes(tracing.TripID.String(tripID))
		}
		s.finish(topic, w, log, span, err)
	})
}

// finish answers daprd (answer), counts the outcome and ends the event's
// span with it.
func (s *Subscriber) finish(topic string, w http.ResponseWriter, log zerolog.Logger, span trace.Span, err error) {
	outcome := answer(w, log, err)
	s.metrics.EventHandled(topic, outcome)
	span.SetAttributes(tracing.Outcome.String(outcome))
	tracing.End(span, err)
}

// answer tells daprd what became of an event, and logs it: handled
// (SUCCESS), never to be handled (isPermanent: DROP, which daprd forwards
// to the dead-letter topic), or not handled yet (any other error: RETRY).
// The answer is always HTTP 200. It returns the outcome.
func answer(w http.ResponseWriter, log zerolog.Logger, err error) string {
	status := common.SubscriptionResponseStatusSuccess
	switch {
	case err == nil:
		log.Info().Str("outcome", string(status)).Msg("event handled")
	case isPermanent(err):
		status = common.SubscriptionResponseStatusDrop
		log.Error().Err(err).Str("outcome", string(status)).Msg("event dropped")
	default:
		status = common.SubscriptionResponseStatusRetry
		log.Warn().Err(err).Str("outcome", string(status)).Msg("event to be retried")
	}
	writeJSON(w, common.SubscriptionResponse{Status: status})
	return string(status)
}

// withEvent returns log with the event's id, when known, and the id of
// the trace ctx belongs to.
func withEvent(log zerolog.Logger, id string, ctx context.Context) zerolog.Logger {
	c := log.With()
	if id != "" {
		c = c.Str("eventId", id)
	}
	if trace := tracing.TraceID(ctx); trace != "" {
		c = c.Str("traceId", trace)
	}
	return c.Logger()
}

// envelope is a delivered CloudEvent: the SDK's TopicEvent, with data kept
// raw. decodeAttributes fills it.
type envelope struct {
	common.TopicEvent
	Data json.RawMessage // shadows TopicEvent.Data
}

// readEvent reads the CloudEvent daprd delivers with r (readEnvelope). With
// an error, the event is returned as far as it was read, for the log.
func readEvent(r *http.Request) (*common.TopicEvent, error) {
	e := &common.TopicEvent{}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventBytes+1))
	if err != nil {
		err = fmt.Errorf("read event: %w", err)
	} else {
		e, err = readEnvelope(body)
	}
	return e, err
}

// readEnvelope decodes body as a CloudEvent of at most maxEventBytes
// (decodeEnvelope).
func readEnvelope(body []byte) (*common.TopicEvent, error) {
	if len(body) > maxEventBytes {
		return &common.TopicEvent{}, fmt.Errorf("%w: body is larger than %d bytes", errInvalidEvent, maxEventBytes)
	}
	return decodeEnvelope(body)
}

// decodeEnvelope decodes body as a CloudEvent 1.0 in JSON, with an id and
// data. Its RawData is the data; a JSON string holding the data (as Dapr's
// outbox and some publishers send it) is unwrapped. Data is left nil. An
// error wraps errInvalidEvent; with it, the event is returned as far as it
// was read (nothing of a body that is no JSON object), for the log.
func decodeEnvelope(body []byte) (*common.TopicEvent, error) {
	env, err := decodeAttributes(body)
	e := &env.TopicEvent
	if err != nil {
		return e, fmt.Errorf("%w: body is not a JSON CloudEvent: %w", errInvalidEvent, err)
	}
	data := env.Data
	switch {
	case e.SpecVersion != "1.0":
		return e, fmt.Errorf("%w: not a CloudEvent: specversion is %q, want \"1.0\"", errInvalidEvent, e.SpecVersion)
	case e.ID == "":
		return e, fmt.Errorf("%w: not a CloudEvent: it has no id", errInvalidEvent)
	case len(data) == 0 || string(data) == "null":
		return e, fmt.Errorf("%w: the event has no data", errInvalidEvent)
	}
	e.RawData = data
	if data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return e, fmt.Errorf("%w: data is not a JSON string: %w", errInvalidEvent, err)
		}
		e.RawData = []byte(s)
	}
	return e, nil
}

// decodeAttributes decodes body, a JSON object, into an envelope, reading
// each attribute by its exact name: encoding/json alone would also take
// "ID" or "Data" for them, which CloudEvents (lower-case names) and the
// contract schemas do not. A string attribute of another type makes body
// no CloudEvent; null is as good as absent.
func decodeAttributes(body []byte) (envelope, error) {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(body, &attrs); err != nil {
		return envelope{}, typeError(err, "JSON object")
	}
	if attrs == nil {
		return envelope{}, errors.New("it is null, not a JSON object")
	}
	var env envelope
	for _, a := range []struct {
		name  string
		value *string
	}{
		{"specversion", &env.SpecVersion},
		{"id", &env.ID},
		{"source", &env.Source},
		{"type", &env.Type},
		{"datacontenttype", &env.DataContentType},
		{"subject", &env.Subject},
		{"topic", &env.Topic},
		{"pubsubname", &env.PubsubName},
		{"traceid", &env.TraceID},
		{"traceparent", &env.TraceParent},
	} {
		if raw, ok := attrs[a.name]; ok {
			if err := json.Unmarshal(raw, a.value); err != nil {
				return envelope{}, fmt.Errorf("attribute %s: %w", a.name, typeError(err, "string"))
			}
		}
	}
	env.Data = attrs["data"]
	return env, nil
}

// typeError says in plain words that a JSON value is not of the type
// wanted, when err says so in Go's; other errors are returned as they are.
func typeError(err error, want string) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Errorf("it is a JSON %s, not a %s", typeErr.Value, want)
	}
	return err
}

// writeJSON answers v as application/json with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}
