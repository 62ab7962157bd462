package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/tracing"
)

// Where an orchestrator invokes the service's steps, through Dapr service
// invocation (POST /v1.0/invoke/notification/method/steps/...).
const (
	RouteStepTripReceived   = "/steps/trip-received"
	RouteStepDriverAssigned = "/steps/driver-assigned"
	RouteStepNoDriver       = "/steps/no-driver"
)

// Steps serves the service's steps to orchestrators (the orchestration and
// workflow styles): the choreography's use cases, invoked instead of
// triggered by events. The body of a call is the event the step would
// otherwise receive, validated by the same schema. Each step is
// idempotent, as the events are: a rider is told each thing once,
// however often a step is called.
type Steps struct {
	logger zerolog.Logger
	events Events
}

// NewSteps returns the steps, running events' use cases.
func NewSteps(logger zerolog.Logger, events Events) *Steps {
	return &Steps{logger: logger, events: events}
}

// TripReceived answers POST /steps/trip-received with a trip-created body:
// the rider is told that the order arrived.
func (s *Steps) TripReceived() http.Handler {
	return s.step("trip-received", func(ctx context.Context, body []byte) (string, error) {
		e, err := decodeTripCreated(body)
		if err != nil {
			return "", err
		}
		return e.TripID, s.events.TripReceived(ctx, e)
	})
}

// DriverAssigned answers POST /steps/driver-assigned with a driver-assigned
// body: the rider is told who comes, and when.
func (s *Steps) DriverAssigned() http.Handler {
	return s.step("driver-assigned", func(ctx context.Context, body []byte) (string, error) {
		e, err := decodeDriverAssigned(body)
		if err != nil {
			return "", err
		}
		return e.TripID, s.events.DriverAssigned(ctx, e)
	})
}

// NoDriver answers POST /steps/no-driver with a driver-not-found body: the
// rider is told that no driver was found.
func (s *Steps) NoDriver() http.Handler {
	return s.step("no-driver", func(ctx context.Context, body []byte) (string, error) {
		e, err := decodeDriverNotFound(body)
		if err != nil {
			return "", err
		}
		return e.TripID, s.events.NoDriver(ctx, e)
	})
}

// step returns the handler of one step: it reads the body (at most
// maxEventBytes), runs apply under a context carrying the step's logger,
// and answers 204 once the rider is told; 400 for a body apply finds
// invalid, 503 with Retry-After for anything else, both
// application/problem+json.
func (s *Steps) step(name string, apply func(ctx context.Context, body []byte) (tripID string, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := s.logger.With().Str("step", name).Str("traceId", tracing.TraceID(r.Context())).Logger()
		body, status, err := readStepBody(w, r)
		if err != nil {
			stepError(w, log, status, err)
			return
		}
		tripID, err := apply(log.WithContext(r.Context()), body)
		if tripID != "" {
			log = log.With().Str("tripId", tripID).Logger()
			tracing.SetTripID(r.Context(), tripID)
		}
		switch {
		case errors.Is(err, errInvalidEvent):
			stepError(w, log, http.StatusBadRequest, err)
		case err != nil:
			w.Header().Set("Retry-After", "1")
			stepError(w, log, http.StatusServiceUnavailable, err)
		default:
			log.Info().Msg("step done")
			w.WriteHeader(http.StatusNoContent)
		}
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
