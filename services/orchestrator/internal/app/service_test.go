package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/orchestrator/internal/app"
	"github.com/ride-choreography/services/orchestrator/internal/orchestrator"
)

var (
	now    = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	jarda  = orchestrator.Driver{ID: "jarda", Name: "Jarda", Car: orchestrator.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
	order  = orchestrator.Order{RiderID: "rider-42", Pickup: orchestrator.Point{Lat: 50.0755, Lon: 14.4378}, Dropoff: orchestrator.Point{Lat: 50.1, Lon: 14.26}}
	noWait = app.Retry{Attempts: 3, Pause: time.Millisecond}
)

// fakeSteps records the steps called, and fails each with the errors
// queued for it first.
type fakeSteps struct {
	mu      sync.Mutex
	calls   []string
	fail    map[string][]error
	outcome app.Outcome
	done    chan struct{} // closed by the last step of a flow
}

func newFakeSteps(outcome app.Outcome) *fakeSteps {
	return &fakeSteps{fail: map[string][]error{}, outcome: outcome, done: make(chan struct{})}
}

func (f *fakeSteps) step(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	if errs := f.fail[name]; len(errs) > 0 {
		f.fail[name] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeSteps) TripReceived(context.Context, orchestrator.Trip) error {
	return f.step("trip-received")
}

func (f *fakeSteps) AssignDriver(context.Context, orchestrator.Trip) (app.Outcome, error) {
	return f.outcome, f.step("assign-driver")
}

func (f *fakeSteps) DriverAssigned(context.Context, orchestrator.Trip, app.Outcome) error {
	defer close(f.done)
	return f.step("driver-assigned")
}

func (f *fakeSteps) NoDriver(context.Context, orchestrator.Trip, app.Outcome) error {
	defer close(f.done)
	return f.step("no-driver")
}

func (f *fakeSteps) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakeMetrics records what was counted.
type fakeMetrics struct {
	mu      sync.Mutex
	counted []string
}

func (m *fakeMetrics) count(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counted = append(m.counted, s)
}
func (m *fakeMetrics) TripOrdered() { m.count("ordered") }
func (m *fakeMetrics) TripAssigned(waited time.Duration) {
	m.count(fmt.Sprint("assigned after ", waited))
}
func (m *fakeMetrics) TripNoDriver()             { m.count("no driver") }
func (m *fakeMetrics) TripAbandoned(step string) { m.count("abandoned at " + step) }

func (m *fakeMetrics) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.counted...)
}

func newService(steps app.Steps, m app.Metrics) *app.Service {
	return app.NewService(steps, m, noWait, zerolog.Nop(), func() time.Time { return now }, func() string { return "trip-1" })
}

func assigned() app.Outcome {
	d := jarda
	return app.Outcome{Driver: &d, ETASeconds: 60, DecidedAt: now.Add(2 * time.Second)}
}

// waitForTrip waits until the trip's status is want.
func waitForTrip(t *testing.T, s *app.Service, id string, want orchestrator.Status) orchestrator.Trip {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := s.Trip(t.Context(), id)
		if err == nil && got.Status == want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("trip %s is %v (%v), want %s", id, got.Status, err, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOrderRunsTheStepsInTurn(t *testing.T) {
	steps, m := newFakeSteps(assigned()), &fakeMetrics{}
	s := newService(steps, m)

	placed, replayed, err := s.Order(t.Context(), order, "")
	if err != nil || replayed || placed.Status != orchestrator.StatusRequested {
		t.Fatalf("Order() = %+v, %v, %v; want a requested trip", placed, replayed, err)
	}
	got := waitForTrip(t, s, placed.ID, orchestrator.StatusDriverAssigned)
	if got.Driver == nil || *got.Driver != jarda || got.ETASeconds != 60 {
		t.Errorf("trip %+v, want Jarda in 60 s", got)
	}
	<-steps.done
	if diff := cmp.Diff([]string{"trip-received", "assign-driver", "driver-assigned"}, steps.called()); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ordered", "assigned after 2s"}, m.all()); diff != "" {
		t.Errorf("counted (-want +got):\n%s", diff)
	}
}

func TestNoDriverIsToldAsSuch(t *testing.T) {
	steps := newFakeSteps(app.Outcome{Reason: "no driver became free within 60s", DecidedAt: now.Add(time.Minute)})
	s := newService(steps, &fakeMetrics{})
	placed, _, _ := s.Order(t.Context(), order, "")
	waitForTrip(t, s, placed.ID, orchestrator.StatusNoDriver)
	<-steps.done
	if got := steps.called(); got[len(got)-1] != "no-driver" {
		t.Errorf("steps %v, want the rider told no driver came", got)
	}
}

func TestAStepIsRetriedThenSucceeds(t *testing.T) {
	steps := newFakeSteps(assigned())
	steps.fail["assign-driver"] = []error{fmt.Errorf("driver down: %w", app.ErrRetryable), fmt.Errorf("still down: %w", app.ErrRetryable)}
	s := newService(steps, &fakeMetrics{})
	placed, _, _ := s.Order(t.Context(), order, "")
	waitForTrip(t, s, placed.ID, orchestrator.StatusDriverAssigned)
	<-steps.done
	want := []string{"trip-received", "assign-driver", "assign-driver", "assign-driver", "driver-assigned"}
	if diff := cmp.Diff(want, steps.called()); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

// After its attempts the flow gives up: the trip stays requested for good,
// and the rider hears nothing more. The naive orchestrator's way.
func TestAStepThatKeepsFailingAbandonsTheTrip(t *testing.T) {
	steps, m := newFakeSteps(assigned()), &fakeMetrics{}
	down := fmt.Errorf("driver down: %w", app.ErrRetryable)
	steps.fail["assign-driver"] = []error{down, down, down}
	s := newService(steps, m)
	placed, _, _ := s.Order(t.Context(), order, "")

	deadline := time.Now().Add(5 * time.Second)
	for len(m.all()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if diff := cmp.Diff([]string{"ordered", "abandoned at assign-driver"}, m.all()); diff != "" {
		t.Errorf("counted (-want +got):\n%s", diff)
	}
	if got, _ := s.Trip(t.Context(), placed.ID); got.Status != orchestrator.StatusRequested {
		t.Errorf("abandoned trip is %s, want requested", got.Status)
	}
	if diff := cmp.Diff([]string{"trip-received", "assign-driver", "assign-driver", "assign-driver"}, steps.called()); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestARefusedStepIsNotRetried(t *testing.T) {
	steps, m := newFakeSteps(assigned()), &fakeMetrics{}
	steps.fail["trip-received"] = []error{errors.New("refused: 400 Bad Request")}
	s := newService(steps, m)
	s.Order(t.Context(), order, "")
	deadline := time.Now().Add(5 * time.Second)
	for len(m.all()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if diff := cmp.Diff([]string{"trip-received"}, steps.called()); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestIdempotencyKey(t *testing.T) {
	steps := newFakeSteps(assigned())
	s := newService(steps, &fakeMetrics{})
	first, replayed, err := s.Order(t.Context(), order, "key-1")
	if err != nil || replayed {
		t.Fatalf("first Order() = %v, %v", replayed, err)
	}
	again, replayed, err := s.Order(t.Context(), order, "key-1")
	if err != nil || !replayed || again.ID != first.ID {
		t.Errorf("replayed Order() = %+v, %v, %v; want the first trip, replayed", again, replayed, err)
	}
	other := order
	other.Dropoff = orchestrator.Point{Lat: 50.2, Lon: 14.3}
	if _, _, err := s.Order(t.Context(), other, "key-1"); !errors.Is(err, app.ErrIdempotencyKeyReused) {
		t.Errorf("Order() with the key and another order = %v, want ErrIdempotencyKeyReused", err)
	}
	<-steps.done
	if got := steps.called(); len(got) != 3 {
		t.Errorf("steps %v: a replay started a second flow", got)
	}
}

func TestUnknownTrip(t *testing.T) {
	s := newService(newFakeSteps(assigned()), &fakeMetrics{})
	if _, err := s.Trip(t.Context(), "nope"); !errors.Is(err, orchestrator.ErrNotFound) {
		t.Errorf("Trip() = %v, want trip.ErrNotFound", err)
	}
}

func TestInvalidOrderStartsNothing(t *testing.T) {
	steps, m := newFakeSteps(assigned()), &fakeMetrics{}
	s := newService(steps, m)
	if _, _, err := s.Order(t.Context(), orchestrator.Order{RiderID: ""}, ""); !errors.Is(err, orchestrator.ErrInvalidOrder) {
		t.Errorf("Order() = %v, want trip.ErrInvalidOrder", err)
	}
	time.Sleep(10 * time.Millisecond)
	if len(steps.called()) != 0 || len(m.all()) != 0 {
		t.Errorf("an invalid order ran %v and counted %v", steps.called(), m.all())
	}
}
