package dapr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ride-choreography/services/orchestrator/internal/app"
	"github.com/ride-choreography/services/orchestrator/internal/orchestrator"
)

// Steps invokes the driver and notification services' steps (their
// POST /steps/... routes) through the sidecar, with Dapr service
// invocation. It implements app.Steps. The bodies are the events the
// choreography publishes, so the services validate them with the same
// schemas.
type Steps struct {
	sidecar         *Sidecar
	driverApp       string
	notificationApp string
}

// NewSteps returns the steps of the apps with the Dapr app ids given.
func NewSteps(s *Sidecar, driverApp, notificationApp string) *Steps {
	return &Steps{sidecar: s, driverApp: driverApp, notificationApp: notificationApp}
}

// tripCreated is the body of the steps about a new trip: the data of a
// trip-created event (contracts/schemas/trip-created.schema.json).
type tripCreated struct {
	TripID      string    `json:"tripId"`
	RiderID     string    `json:"riderId"`
	Pickup      point     `json:"pickup"`
	Dropoff     point     `json:"dropoff"`
	RequestedAt time.Time `json:"requestedAt"`
}

type point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

func newTripCreated(t orchestrator.Trip) tripCreated {
	return tripCreated{TripID: t.ID, RiderID: t.RiderID, Pickup: point(t.Pickup), Dropoff: point(t.Dropoff), RequestedAt: t.RequestedAt}
}

// TripReceived invokes notification's trip-received step.
func (s *Steps) TripReceived(ctx context.Context, t orchestrator.Trip) error {
	body, err := json.Marshal(newTripCreated(t))
	if err != nil {
		return fmt.Errorf("encode trip %s: %w", t.ID, err)
	}
	_, err = s.invoke(ctx, s.notificationApp, "steps/trip-received", body)
	return err
}

// assignAnswer is the driver's answer to assign-driver: the event the
// choreography would have published, and its topic.
type assignAnswer struct {
	Topic string          `json:"topic"`
	Event json.RawMessage `json:"event"`
}

// driverAssigned and driverNotFound are what the orchestrator reads of the
// answer's event (contracts/schemas).
type driverAssigned struct {
	Driver struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Car  struct {
			Make  string `json:"make"`
			Model string `json:"model"`
			Color string `json:"color"`
			Plate string `json:"plate"`
		} `json:"car"`
	} `json:"driver"`
	ETASeconds int       `json:"etaSeconds"`
	AssignedAt time.Time `json:"assignedAt"`
}

type driverNotFound struct {
	Reason    string    `json:"reason"`
	DecidedAt time.Time `json:"decidedAt"`
}

// AssignDriver invokes the driver's assign-driver step and reads its
// outcome.
func (s *Steps) AssignDriver(ctx context.Context, t orchestrator.Trip) (app.Outcome, error) {
	body, err := json.Marshal(newTripCreated(t))
	if err != nil {
		return app.Outcome{}, fmt.Errorf("encode trip %s: %w", t.ID, err)
	}
	raw, err := s.invoke(ctx, s.driverApp, "steps/assign-driver", body)
	if err != nil {
		return app.Outcome{}, err
	}
	var answer assignAnswer
	if err := json.Unmarshal(raw, &answer); err != nil {
		return app.Outcome{}, fmt.Errorf("assign-driver answered %.200q: %w", raw, err)
	}
	// The answer's event is read as a consumer of its topic reads it:
	// only once its schema accepts it.
	if _, known := eventSchemas[answer.Topic]; known {
		if err := validate(answer.Topic, answer.Event); err != nil {
			return app.Outcome{}, fmt.Errorf("assign-driver answered: %w", err)
		}
	}
	switch answer.Topic {
	case topicDriverAssigned:
		var e driverAssigned
		if err := json.Unmarshal(answer.Event, &e); err != nil {
			return app.Outcome{}, fmt.Errorf("assign-driver answered %.200q: %w", raw, err)
		}
		d := orchestrator.Driver{ID: e.Driver.ID, Name: e.Driver.Name, Car: orchestrator.Car(e.Driver.Car)}
		return app.Outcome{Driver: &d, ETASeconds: e.ETASeconds, DecidedAt: e.AssignedAt, Event: answer.Event}, nil
	case topicDriverNotFound:
		var e driverNotFound
		if err := json.Unmarshal(answer.Event, &e); err != nil {
			return app.Outcome{}, fmt.Errorf("assign-driver answered %.200q: %w", raw, err)
		}
		return app.Outcome{Reason: e.Reason, DecidedAt: e.DecidedAt, Event: answer.Event}, nil
	}
	return app.Outcome{}, fmt.Errorf("assign-driver answered topic %q, want driver-assigned or driver-not-found", answer.Topic)
}

// DriverAssigned invokes notification's driver-assigned step with the
// driver's answer.
func (s *Steps) DriverAssigned(ctx context.Context, _ orchestrator.Trip, o app.Outcome) error {
	_, err := s.invoke(ctx, s.notificationApp, "steps/driver-assigned", o.Event)
	return err
}

// NoDriver invokes notification's no-driver step with the driver's answer.
func (s *Steps) NoDriver(ctx context.Context, _ orchestrator.Trip, o app.Outcome) error {
	_, err := s.invoke(ctx, s.notificationApp, "steps/no-driver", o.Event)
	return err
}

// maxAnswerBytes bounds a step's answer.
const maxAnswerBytes = 64 << 10

// invoke POSTs body to method of appID through the sidecar and returns the
// answer of a 2xx. A call that did not get through, timed out, or was
// answered 5xx or 429 wraps app.ErrRetryable; any other status is the
// step refusing the call.
func (s *Steps) invoke(ctx context.Context, appID, method string, body []byte) ([]byte, error) {
	url := s.sidecar.baseURL + "/v1.0/invoke/" + appID + "/method/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("invoke %s %s: %w", appID, method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.sidecar.stepClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s %s: %w (%w)", appID, method, app.ErrRetryable, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	switch {
	case err != nil:
		return nil, fmt.Errorf("invoke %s %s: read answer: %w (%w)", appID, method, app.ErrRetryable, err)
	case resp.StatusCode/100 == 2:
		return answer, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("invoke %s %s: %s %.200s: %w", appID, method, resp.Status, answer, app.ErrRetryable)
	}
	return nil, fmt.Errorf("invoke %s %s: refused: %s %.200s", appID, method, resp.Status, answer)
}

var _ app.Steps = (*Steps)(nil)
