package httpapi

import (
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// subscription is one entry of the answer to GET /dapr/subscribe.
type subscription struct {
	PubsubName      string `json:"pubsubname"`
	Topic           string `json:"topic"`
	Route           string `json:"route"`
	DeadLetterTopic string `json:"deadLetterTopic,omitempty"`
}

func handleSubscribe(pubsubName string) http.Handler {
	subscriptions := []subscription{
		// daprd forwards what the handler drops to the dead-letter topic.
		{PubsubName: pubsubName, Topic: app.TopicTripCreated, Route: routeTripCreated, DeadLetterTopic: app.TopicDeadLetters},
		// The dead letters themselves are never dropped: no dead-letter
		// topic of their own.
		{PubsubName: pubsubName, Topic: app.TopicDeadLetters, Route: routeDeadLetters},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, subscriptions)
	})
}

// eventStatus tells daprd what became of an event it delivered.
type eventStatus string

const (
	// statusSuccess: handled, do not deliver again.
	statusSuccess eventStatus = "SUCCESS"
	// statusRetry: not handled yet (a transient failure, or no driver free
	// before the deadline), deliver again later.
	statusRetry eventStatus = "RETRY"
	// statusDrop: can never be handled (not a CloudEvent, data violating
	// the schema); daprd sends it to the dead-letter topic.
	statusDrop eventStatus = "DROP"
)

type eventStatusResponse struct {
	Status eventStatus `json:"status"`
}

// handleTripCreated receives trip-created and assigns a driver. It always
// answers 200 with the event's status in the body.
func handleTripCreated(logger zerolog.Logger, assigner Assigner) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := logger.With().Str("topic", app.TopicTripCreated).Logger()
		body, err := readBody(r, maxEventBytes+1)
		if err != nil {
			writeEventStatus(w, log, statusRetry, err)
			return
		}
		ev, err := decodeTripCreated(body)
		traceParent := ev.envelope.traceParent(r)
		log = withEvent(log, ev, traceParent)
		if err != nil {
			writeEventStatus(w, log, statusDrop, err)
			return
		}
		a, err := assigner.AssignDriver(app.WithTraceParent(r.Context(), traceParent), ev.trip)
		if err != nil {
			writeEventStatus(w, log, statusRetry, err)
			return
		}
		if a.Assigned != nil {
			log.Info().Str("driverId", a.Assigned.Driver.ID).Int("etaSeconds", a.Assigned.ETASeconds).Msg("driver assigned")
		} else {
			log.Info().Str("reason", a.NotFound.Reason).Msg("no driver found")
		}
		writeEventStatus(w, log, statusSuccess, nil)
	})
}

// withEvent returns log with the event id, and the trace id and trip id
// when the event names them.
func withEvent(log zerolog.Logger, ev tripCreatedEvent, traceParent string) zerolog.Logger {
	c := log.With().Str("eventId", ev.envelope.ID)
	if id := traceID(traceParent); id != "" {
		c = c.Str("traceId", id)
	}
	if ev.tripID != "" {
		c = c.Str("tripId", ev.tripID)
	}
	return c.Logger()
}

// writeEventStatus answers daprd with status; a status other than SUCCESS
// is logged with its reason, err.
func writeEventStatus(w http.ResponseWriter, log zerolog.Logger, status eventStatus, err error) {
	if err != nil {
		event := log.Warn()
		if errors.Is(err, driver.ErrNoDriverFree) {
			event = log.Info()
		}
		event.Err(err).Str("status", string(status)).Msg("event not handled")
	}
	writeJSON(w, http.StatusOK, eventStatusResponse{Status: status})
}
