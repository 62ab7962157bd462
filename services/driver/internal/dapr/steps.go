package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/tracing"
)

// RouteAssignDriver is where an orchestrator invokes the assign-driver
// step, through Dapr service invocation
// (POST /v1.0/invoke/driver/method/steps/assign-driver).
const RouteAssignDriver = "/steps/assign-driver"

// Assigner is the use case behind the step (app.Service): the same
// assignment the trip-created subscription runs, without its event.
type Assigner interface {
	Assign(ctx context.Context, trip app.TripCreated) (app.Assignment, error)
}

// Steps serves the service's steps to orchestrators (the orchestration and
// workflow styles): the choreography's use cases, invoked instead of
// triggered by events. The body of a call is the event the step would
// otherwise receive, validated by the same schema.
type Steps struct {
	logger   zerolog.Logger
	assigner Assigner
}

// NewSteps returns the steps, running assigner's use case.
func NewSteps(logger zerolog.Logger, assigner Assigner) *Steps {
	return &Steps{logger: logger, assigner: assigner}
}

// stepAnswer is a step's answer: the event the choreography would have
// published, and its topic, which names the outcome.
type stepAnswer struct {
	Topic string `json:"topic"`
	Event any    `json:"event"`
}

// AssignDriver answers POST /steps/assign-driver with a trip-created body:
// 200 and the outcome (driver-assigned or driver-not-found, as the event
// would carry it). A second call for the trip answers the same outcome.
// While no driver is free and the trip's assign deadline has not passed
// it answers 503 with Retry-After; a body that is not a valid trip-created
// is 400. Errors are application/problem+json.
func (s *Steps) AssignDriver() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := s.logger.With().Str("step", "assign-driver").Str("traceId", tracing.TraceID(r.Context())).Logger()
		body, status, err := readStepBody(w, r)
		if err != nil {
			stepError(w, log, status, err)
			return
		}
		trip, err := decodeTripCreated(body)
		if err != nil {
			stepError(w, log, http.StatusBadRequest, err)
			return
		}
		log = log.With().Str("tripId", trip.TripID).Logger()
		tracing.SetTripID(r.Context(), trip.TripID)
		a, err := s.assigner.Assign(r.Context(), trip)
		if err != nil {
			w.Header().Set("Retry-After", "1")
			stepError(w, log, http.StatusServiceUnavailable, err)
			return
		}
		topic, event := a.Event()
		log.Info().Str("outcome", a.Outcome()).Msg("step done")
		writeJSON(w, stepAnswer{Topic: topic, Event: event})
	})
}

// readStepBody reads the body of a step, at most maxEventBytes: a larger
// one is refused with 413, one that cannot be read (cut off, or too slow
// for the server's ReadTimeout) with 400. The error says why, for the log.
func readStepBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is larger than %d bytes: %w", maxEventBytes, err)
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	return body, http.StatusOK, nil
}

// stepError answers a failed step as application/problem+json: for a 400
// with an invalid event, the reason it is invalid (the caller's mistake);
// otherwise words of its own, never the error's text, which may hold the
// service's internals (a body that could not be read, a store that does
// not answer) and goes to the log instead.
func stepError(w http.ResponseWriter, log zerolog.Logger, status int, err error) {
	detail := err.Error()
	switch {
	case status == http.StatusRequestEntityTooLarge:
		detail = fmt.Sprintf("the body must be at most %d bytes", maxEventBytes)
	case status < 500 && !errors.Is(err, errInvalidEvent):
		detail = "the body could not be read"
	}
	if status >= 500 {
		log.Warn().Err(err).Int("status", status).Msg("step failed")
		detail = "the step cannot be done right now; retry shortly"
		if errors.Is(err, driver.ErrNoDriverFree) {
			detail = "no driver is free yet; retry shortly"
		}
	} else {
		log.Info().Err(err).Int("status", status).Msg("step refused")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}{http.StatusText(status), status, detail})
}
