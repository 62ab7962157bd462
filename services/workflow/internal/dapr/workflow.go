package dapr

import (
	"encoding/json"
	"fmt"
	"time"

	durable "github.com/dapr/durabletask-go/workflow"

	"github.com/ride-choreography/services/workflow/internal/workflow"
)

// WorkflowName is the workflow that runs one trip to its end.
const WorkflowName = "RequestTrip"

// The activities of RequestTrip: each calls one step of another service
// (steps.go), which is idempotent by the trip's id, since an activity runs
// at least once (Dapr runs it again after a crash).
const (
	activityTripReceived   = "TripReceived"
	activityAssignDriver   = "AssignDriver"
	activityDriverAssigned = "DriverAssigned"
	activityNoDriver       = "NoDriver"
)

// stepRetry is every activity's retry policy, declared with the flow: a
// step that fails is tried again, 1 s later, then twice as long each time
// up to 30 s, for about 10 minutes in all. Unlike the naive orchestrator's,
// these retries survive a crash: the engine keeps them.
var stepRetry = &durable.RetryPolicy{
	MaxAttempts:          25,
	InitialRetryInterval: time.Second,
	BackoffCoefficient:   2,
	MaxRetryInterval:     30 * time.Second,
}

// RequestTrip is the whole flow of a trip, in one place: tell the rider the
// order arrived, have a driver assigned, record the outcome, tell the
// rider. Its input is the requested trip; its custom status is the trip as
// it stands now, which GET /trips/{id} answers; its output is the final
// trip. Dapr Workflow replays it from its history after a crash, so it
// must stay deterministic: everything it learns comes from activities.
func RequestTrip(ctx *durable.WorkflowContext) (any, error) {
	var t tripRecord
	if err := ctx.GetInput(&t); err != nil {
		return nil, fmt.Errorf("read the trip: %w", err)
	}
	call := func(activity string, input, output any) error {
		return ctx.CallActivity(activity, durable.WithActivityInput(input), durable.WithActivityRetryPolicy(stepRetry)).Await(output)
	}
	if err := call(activityTripReceived, t, nil); err != nil {
		return nil, err
	}
	var o outcomeRecord
	if err := call(activityAssignDriver, t, &o); err != nil {
		return nil, err
	}
	t = t.settled(o)
	status, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	ctx.SetCustomStatus(string(status))
	tell := activityNoDriver
	if o.Driver != nil {
		tell = activityDriverAssigned
	}
	if err := call(tell, o, nil); err != nil {
		return nil, err
	}
	return t, nil
}

// Activities returns RequestTrip's activities, calling steps.
func Activities(steps *Steps) map[string]durable.Activity {
	return map[string]durable.Activity{
		activityTripReceived: func(ctx durable.ActivityContext) (any, error) {
			var t tripRecord
			if err := ctx.GetInput(&t); err != nil {
				return nil, err
			}
			return nil, steps.TripReceived(ctx.Context(), t.trip())
		},
		activityAssignDriver: func(ctx durable.ActivityContext) (any, error) {
			var t tripRecord
			if err := ctx.GetInput(&t); err != nil {
				return nil, err
			}
			o, err := steps.AssignDriver(ctx.Context(), t.trip())
			if err != nil {
				return nil, err
			}
			return newOutcomeRecord(o), nil
		},
		activityDriverAssigned: func(ctx durable.ActivityContext) (any, error) {
			var o outcomeRecord
			if err := ctx.GetInput(&o); err != nil {
				return nil, err
			}
			return nil, steps.tell(ctx.Context(), "steps/driver-assigned", o.Event)
		},
		activityNoDriver: func(ctx durable.ActivityContext) (any, error) {
			var o outcomeRecord
			if err := ctx.GetInput(&o); err != nil {
				return nil, err
			}
			return nil, steps.tell(ctx.Context(), "steps/no-driver", o.Event)
		},
	}
}

// Registry returns the registry of RequestTrip and its activities, for
// the worker.
func Registry(steps *Steps) (*durable.Registry, error) {
	r := durable.NewRegistry()
	if err := r.AddWorkflowN(WorkflowName, RequestTrip); err != nil {
		return nil, err
	}
	for name, a := range Activities(steps) {
		if err := r.AddActivityN(name, a); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// tripRecord is a trip as the workflow keeps it: its input, its custom
// status and its output.
type tripRecord struct {
	ID          string          `json:"tripId"`
	RiderID     string          `json:"riderId"`
	Pickup      point           `json:"pickup"`
	Dropoff     point           `json:"dropoff"`
	Status      workflow.Status `json:"status"`
	RequestedAt time.Time       `json:"requestedAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
	Driver      *driverRecord   `json:"driver,omitempty"`
	ETASeconds  int             `json:"etaSeconds,omitempty"`
}

type driverRecord struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Car  carRecord `json:"car"`
}

type carRecord struct {
	Make  string `json:"make"`
	Model string `json:"model"`
	Color string `json:"color"`
	Plate string `json:"plate"`
}

func newTripRecord(t workflow.Trip) tripRecord {
	r := tripRecord{ID: t.ID, RiderID: t.RiderID, Pickup: point(t.Pickup), Dropoff: point(t.Dropoff),
		Status: t.Status, RequestedAt: t.RequestedAt, UpdatedAt: t.UpdatedAt, ETASeconds: t.ETASeconds}
	if t.Driver != nil {
		r.Driver = &driverRecord{ID: t.Driver.ID, Name: t.Driver.Name, Car: carRecord(t.Driver.Car)}
	}
	return r
}

func (r tripRecord) trip() workflow.Trip {
	t := workflow.Trip{ID: r.ID, RiderID: r.RiderID, Pickup: workflow.Point(r.Pickup), Dropoff: workflow.Point(r.Dropoff),
		Status: r.Status, RequestedAt: r.RequestedAt, UpdatedAt: r.UpdatedAt, ETASeconds: r.ETASeconds}
	if r.Driver != nil {
		t.Driver = &workflow.Driver{ID: r.Driver.ID, Name: r.Driver.Name, Car: workflow.Car(r.Driver.Car)}
	}
	return t
}

// settled returns the trip with the driver service's outcome applied.
func (r tripRecord) settled(o outcomeRecord) tripRecord {
	t := r.trip()
	if o.Driver != nil {
		_, _ = t.AssignDriver(workflow.Driver{ID: o.Driver.ID, Name: o.Driver.Name, Car: workflow.Car(o.Driver.Car)}, o.ETASeconds, o.DecidedAt)
	} else {
		_, _ = t.MarkNoDriver(o.DecidedAt)
	}
	return newTripRecord(t)
}

// outcomeRecord is the driver service's outcome as the workflow keeps it.
type outcomeRecord struct {
	Driver     *driverRecord   `json:"driver,omitempty"`
	ETASeconds int             `json:"etaSeconds,omitempty"`
	DecidedAt  time.Time       `json:"decidedAt"`
	Event      json.RawMessage `json:"event"`
}
