// Package app holds the orchestrator's use cases: ordering a trip, reading
// it, and the flow that runs each order to its end by calling the other
// services' steps in turn. It declares the ports it needs; internal/dapr
// implements them.
//
// This is the design's first diagram, built the way a first version
// usually is, so that its problems can be seen and measured (README, "Three
// styles"): what is in flight lives in this process's memory only (a
// restart loses every trip, ordered or in flight), a step that fails is
// retried a few times and then given up, the rider hears nothing more,
// and two replicas do not know each other's trips.
package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/ride-choreography/services/orchestrator/internal/orchestrator"
	"github.com/ride-choreography/services/orchestrator/internal/tracing"
)

// Sentinel errors of the use cases.
var (
	// ErrIdempotencyKeyReused means an Idempotency-Key already placed a
	// different order.
	ErrIdempotencyKeyReused = errors.New("idempotency key was used for a different order")
	// ErrRetryable marks a step's failure that a later call may not have.
	ErrRetryable = errors.New("step may succeed later")
)

// idempotencyNamespace scopes the trip ids derived from Idempotency-Keys
// (the trip service's, so both styles derive the same id).
var idempotencyNamespace = uuid.MustParse("6c1f1f4e-4f7a-4b8e-9a53-2a8d4c3b9e10")

// Retry is how the flow retries a step, the way a typical first version
// does: a few attempts, a fixed pause, then it gives up.
type Retry struct {
	Attempts int
	Pause    time.Duration
}

// Service runs the orchestrator's use cases. Its trips live in memory.
type Service struct {
	steps   Steps
	metrics Metrics
	retry   Retry
	log     zerolog.Logger
	now     func() time.Time
	newID   func() string

	mu    sync.Mutex
	trips map[string]orchestrator.Trip
}

// NewService returns a Service. now and newID are injected so tests are
// deterministic; production passes time.Now and uuid.NewString.
func NewService(steps Steps, metrics Metrics, retry Retry, log zerolog.Logger, now func() time.Time, newID func() string) *Service {
	return &Service{steps: steps, metrics: metrics, retry: retry, log: log, now: now, newID: newID, trips: map[string]orchestrator.Trip{}}
}

// Order accepts an order, keeps its trip in memory and starts its flow in
// the background (flow), then returns the requested trip. With an
// idempotency key the trip id is derived from the rider and the key, so a
// retried order finds the trip it created (replayed is true), as long as
// this process still remembers it; the same key with a different order is
// ErrIdempotencyKeyReused.
func (s *Service) Order(ctx context.Context, o orchestrator.Order, idempotencyKey string) (t orchestrator.Trip, replayed bool, err error) {
	if err := o.Validate(); err != nil {
		return orchestrator.Trip{}, false, err
	}
	id := s.newID()
	if idempotencyKey != "" {
		id = uuid.NewSHA1(idempotencyNamespace, []byte(o.RiderID+"\x00"+idempotencyKey)).String()
	}
	t, err = orchestrator.New(id, o, s.now().UTC())
	if err != nil {
		return orchestrator.Trip{}, false, err
	}
	s.mu.Lock()
	existing, known := s.trips[id]
	if !known {
		s.trips[id] = t
	}
	s.mu.Unlock()
	switch {
	case known && existing.Order() == o:
		return existing, true, nil
	case known:
		return orchestrator.Trip{}, false, fmt.Errorf("trip %s: %w", id, ErrIdempotencyKeyReused)
	}
	s.metrics.TripOrdered()
	// The flow outlives the request, in the request's trace.
	flowCtx := trace.ContextWithSpanContext(context.Background(), trace.SpanContextFromContext(ctx))
	go s.flow(flowCtx, t)
	return t, false, nil
}

// Trip returns the trip with the id, or trip.ErrNotFound.
func (s *Service) Trip(_ context.Context, id string) (orchestrator.Trip, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trips[id]
	if !ok {
		return orchestrator.Trip{}, fmt.Errorf("get trip %s: %w", id, orchestrator.ErrNotFound)
	}
	return t, nil
}

// flow runs one order to its end: tell the rider it arrived, have a driver
// assigned, record the outcome, tell the rider. A step that still fails
// after the retries ends the flow there (TripAbandoned).
func (s *Service) flow(ctx context.Context, t orchestrator.Trip) {
	ctx, span := tracing.Start(ctx, "trip flow", trace.SpanKindInternal, tracing.TripID.String(t.ID))
	defer span.End()
	log := s.log.With().Str("tripId", t.ID).Str("traceId", tracing.TraceID(ctx)).Logger()

	if err := s.call(ctx, func() error { return s.steps.TripReceived(ctx, t) }); err != nil {
		s.abandon(log, span, "trip-received", err)
		return
	}
	var o Outcome
	if err := s.call(ctx, func() (err error) { o, err = s.steps.AssignDriver(ctx, t); return err }); err != nil {
		s.abandon(log, span, "assign-driver", err)
		return
	}
	t, tell, step := s.record(t, o)
	if err := s.call(ctx, func() error { return tell(ctx, t, o) }); err != nil {
		s.abandon(log, span, step, err)
		return
	}
	log.Info().Str("status", string(t.Status)).Msg("trip flow done")
}

// record applies the driver service's outcome to the trip in memory, and
// returns it with the step that tells the rider, and its name.
func (s *Service) record(t orchestrator.Trip, o Outcome) (orchestrator.Trip, func(context.Context, orchestrator.Trip, Outcome) error, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t = s.trips[t.ID]
	if o.Driver != nil {
		if changed, _ := t.AssignDriver(*o.Driver, o.ETASeconds, o.DecidedAt); changed {
			s.metrics.TripAssigned(o.DecidedAt.Sub(t.RequestedAt))
		}
		s.trips[t.ID] = t
		return t, s.steps.DriverAssigned, "driver-assigned"
	}
	if changed, _ := t.MarkNoDriver(o.DecidedAt); changed {
		s.metrics.TripNoDriver()
	}
	s.trips[t.ID] = t
	return t, s.steps.NoDriver, "no-driver"
}

// call runs a step, retrying it after a pause while it fails with
// ErrRetryable, at most retry.Attempts times in all.
func (s *Service) call(ctx context.Context, step func() error) error {
	var err error
	for attempt := range s.retry.Attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(s.retry.Pause):
			}
		}
		if err = step(); err == nil || !errors.Is(err, ErrRetryable) {
			return err
		}
	}
	return fmt.Errorf("gave up after %d attempts: %w", s.retry.Attempts, err)
}

// abandon logs and counts a flow that gave up on step: the trip stays as
// it is in memory, and the rider hears nothing more.
func (s *Service) abandon(log zerolog.Logger, span trace.Span, step string, err error) {
	s.metrics.TripAbandoned(step)
	span.RecordError(err)
	tracing.Fail(span, "abandoned at "+step)
	log.Error().Err(err).Str("step", step).Msg("trip flow abandoned")
}
