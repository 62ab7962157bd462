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
	PubsubName string `json:"pubsubname"`
	Topic      string `json:"topic"`
	Route      string `json:"route"`
}

func handleSubscribe(pubsubName string) http.Handler {
	subscriptions := []subscription{{PubsubName: pubsubName, Topic: app.TopicTripCreated, Route: routeTripCreated}}
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
	// the schema); daprd sends it to the dead-letter topic, if any.
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
		trip, traceParent, err := decodeTripCreated(w, r, &log)
		if err != nil {
			writeEventStatus(w, log, statusDrop, err)
			return
		}
		a, err := assigner.AssignDriver(app.WithTraceParent(r.Context(), traceParent), trip)
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

// decodeTripCreated reads a trip-created CloudEvent and returns the trip and
// the event's traceparent. It adds the event id, trace id and trip id to log
// as soon as it knows them; an error means the event can never be handled.
func decodeTripCreated(w http.ResponseWriter, r *http.Request, log *zerolog.Logger) (app.TripCreated, string, error) {
	ce, err := decodeCloudEvent(w, r)
	log.UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("eventId", ce.ID) })
	if err != nil {
		return app.TripCreated{}, "", err
	}
	traceParent := ce.traceParent(r)
	if id := traceID(traceParent); id != "" {
		log.UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("traceId", id) })
	}
	var data tripCreatedData
	if err := ce.decodeData(&data); err != nil {
		return app.TripCreated{}, "", err
	}
	log.UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("tripId", data.TripID) })
	trip, err := data.trip()
	if err != nil {
		return app.TripCreated{}, "", err
	}
	return trip, traceParent, nil
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
