package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dapr/durabletask-go/api"
	"github.com/dapr/durabletask-go/api/protos"
	durable "github.com/dapr/durabletask-go/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/workflow/internal/app"
	"github.com/ride-choreography/services/workflow/internal/workflow"
)

// Engine runs the trips' RequestTrip workflows on Dapr Workflow, through
// the sidecar's gRPC API. It implements app.Engine.
type Engine struct {
	client *durable.Client
}

// NewEngine returns the engine behind the sidecar conn reaches.
func NewEngine(conn grpc.ClientConnInterface) *Engine {
	return &Engine{client: durable.NewClient(conn)}
}

// Start starts the trip's workflow; its instance id is the trip's id.
func (e *Engine) Start(ctx context.Context, t workflow.Trip) error {
	_, err := e.client.ScheduleWorkflow(ctx, WorkflowName, durable.WithInstanceID(t.ID), durable.WithInput(newTripRecord(t)))
	switch {
	case err == nil:
		return nil
	case status.Code(err) == codes.AlreadyExists || strings.Contains(err.Error(), "already exists"):
		return fmt.Errorf("trip %s: %w", t.ID, app.ErrExists)
	}
	return fmt.Errorf("schedule %s for trip %s: %w", WorkflowName, t.ID, err)
}

// Trip returns the trip as its workflow last recorded it: its custom
// status once a driver service's outcome is in, else its input.
func (e *Engine) Trip(ctx context.Context, id string) (workflow.Trip, error) {
	md, err := e.client.FetchWorkflowMetadata(ctx, id, durable.WithFetchPayloads(true))
	if errors.Is(err, api.ErrInstanceNotFound) || status.Code(err) == codes.NotFound || (err == nil && (md == nil || md.InstanceId == "")) {
		return workflow.Trip{}, workflow.ErrNotFound
	}
	if err != nil {
		return workflow.Trip{}, fmt.Errorf("read the workflow of trip %s: %w", id, err)
	}
	meta := (*protos.OrchestrationMetadata)(md)
	raw := meta.GetCustomStatus().GetValue()
	if raw == "" {
		raw = meta.GetInput().GetValue()
	}
	var r tripRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return workflow.Trip{}, fmt.Errorf("read the workflow of trip %s: %q: %w", id, raw, err)
	}
	return r.trip(), nil
}

// Work runs the workflow worker until ctx ends: RequestTrip and its
// activities, calling steps.
func (e *Engine) Work(ctx context.Context, steps *Steps) error {
	registry, err := Registry(steps)
	if err != nil {
		return err
	}
	return e.client.StartWorker(ctx, registry)
}

var _ app.Engine = (*Engine)(nil)
