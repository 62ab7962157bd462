package dapr_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/dapr/daprtest"
	"github.com/ride-choreography/services/driver/internal/tracing"
)

func TestPublisher(t *testing.T) {
	sidecar, fake := connect(t)
	publisher := dapr.NewPublisher(sidecar, "pubsub")
	const traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	event := app.DriverNotFound{
		TripID: "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", RiderID: "rider-42",
		Reason: "no driver became free within 60s", DecidedAt: time.Date(2026, 11, 27, 9, 31, 0, 0, time.UTC),
	}

	ctx := tracing.ContinueTrace(context.Background(), traceParent)
	if err := publisher.Publish(ctx, app.TopicDriverNotFound, event); err != nil {
		t.Fatalf("Publish() error = %v", err)
	}

	want := []daprtest.Published{{
		PubsubName:  "pubsub",
		Topic:       "driver-not-found",
		Data:        []byte(`{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42","reason":"no driver became free within 60s","decidedAt":"2026-11-27T09:31:00Z"}`),
		ContentType: "application/json",
		TraceParent: traceParent,
	}}
	if diff := cmp.Diff(want, fake.Published()); diff != "" {
		t.Errorf("published mismatch (-want +got):\n%s", diff)
	}
}
