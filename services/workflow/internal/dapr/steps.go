package dapr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ride-choreography/services/workflow/internal/workflow"
)

// Steps invokes the driver and notification services' steps (their
// POST /steps/... routes) through the sidecar, with Dapr service
// invocation: what RequestTrip's activities do. The bodies are the events
// the choreography publishes, so the services validate them with the same
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

func newTripCreated(t workflow.Trip) tripCreated {
	return tripCreated{TripID: t.ID, RiderID: t.RiderID, Pickup: point(t.Pickup), Dropoff: point(t.Dropoff), RequestedAt: t.RequestedAt}
}

// TripReceived invokes notification's trip-received step.
func (s *Steps) TripReceived(ctx context.Context, t workflow.Trip) error {
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

// outcome is what the driver service settled for a trip: a driver, or
// none. Event is its answer's event, passed on to the notification step as
// it came.
type outcome struct {
	Driver     *workflow.Driver
	ETASeconds int
	DecidedAt  time.Time
	Event      []byte
}

func newOutcomeRecord(o outcome) outcomeRecord {
	r := outcomeRecord{ETASeconds: o.ETASeconds, DecidedAt: o.DecidedAt, Event: o.Event}
	if o.Driver != nil {
		r.Driver = &driverRecord{ID: o.Driver.ID, Name: o.Driver.Name, Car: carRecord(o.Driver.Car)}
	}
	return r
}

// AssignDriver invokes the driver's assign-driver step and reads its
// outcome.
func (s *Steps) AssignDriver(ctx context.Context, t workflow.Trip) (outcome, error) {
	body, err := json.Marshal(newTripCreated(t))
	if err != nil {
		return outcome{}, fmt.Errorf("encode trip %s: %w", t.ID, err)
	}
	raw, err := s.invoke(ctx, s.driverApp, "steps/assign-driver", body)
	if err != nil {
		return outcome{}, err
	}
	var answer assignAnswer
	if err := json.Unmarshal(raw, &answer); err != nil {
		return outcome{}, fmt.Errorf("assign-driver answered %.200q: %w", raw, err)
	}
	// The answer's event is read as a consumer of its topic reads it:
	// only once its schema accepts it.
	if _, known := eventSchemas[answer.Topic]; known {
		if err := validate(answer.Topic, answer.Event); err != nil {
			return outcome{}, fmt.Errorf("assign-driver answered: %w", err)
		}
	}
	switch answer.Topic {
	case topicDriverAssigned:
		var e driverAssigned
		if err := json.Unmarshal(answer.Event, &e); err != nil {
			return outcome{}, fmt.Errorf("assign-driver answered %.200q: %w", raw, err)
		}
		d := workflow.Driver{ID: e.Driver.ID, Name: e.Driver.Name, Car: workflow.Car(e.Driver.Car)}
		return outcome{Driver: &d, ETASeconds: e.ETASeconds, DecidedAt: e.AssignedAt, Event: answer.Event}, nil
	case topicDriverNotFound:
		var e driverNotFound
		if err := json.Unmarshal(answer.Event, &e); err != nil {
			return outcome{}, fmt.Errorf("assign-driver answered %.200q: %w", raw, err)
		}
		return outcome{DecidedAt: e.DecidedAt, Event: answer.Event}, nil
	}
	return outcome{}, fmt.Errorf("assign-driver answered topic %q, want driver-assigned or driver-not-found", answer.Topic)
}

// tell invokes one of notification's steps that tell the rider the
// outcome, with the driver's answer's event.
func (s *Steps) tell(ctx context.Context, method string, event []byte) error {
	_, err := s.invoke(ctx, s.notificationApp, method, event)
	return err
}

// maxAnswerBytes bounds a step's answer.
const maxAnswerBytes = 64 << 10

// invoke POSTs body to method of appID through the sidecar and returns the
// answer of a 2xx; any other answer, or none, is an error, which the
// workflow's retry policy retries.
func (s *Steps) invoke(ctx context.Context, appID, method string, body []byte) ([]byte, error) {
	url := s.sidecar.baseURL + "/v1.0/invoke/" + appID + "/method/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("invoke %s %s: %w", appID, method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.sidecar.stepClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s %s: %w", appID, method, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	switch {
	case err != nil:
		return nil, fmt.Errorf("invoke %s %s: read answer: %w", appID, method, err)
	case resp.StatusCode/100 == 2:
		return answer, nil
	}
	return nil, fmt.Errorf("invoke %s %s: %s %.200s", appID, method, resp.Status, answer)
}
