package dapr_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/dapr"
	"github.com/ride-choreography/services/trip/internal/dapr/daprtest"
)

var tripCreated = app.TripCreated{
	TripID:      tripID,
	RiderID:     "rider-42",
	Pickup:      app.Point{Lat: 50.0755, Lon: 14.4378},
	Dropoff:     app.Point{Lat: 50.087, Lon: 14.4208},
	RequestedAt: requestedAt,
}

const tripCreatedData = `{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42",` +
	`"pickup":{"lat":50.0755,"lon":14.4378},"dropoff":{"lat":50.087,"lon":14.4208},"requestedAt":"2026-11-27T09:30:00Z"}`

func TestPublisher(t *testing.T) {
	sidecar, fake := connect(t)

	if err := dapr.NewPublisher(sidecar, "pubsub").Publish(t.Context(), app.TopicTripCreated, tripCreated); err != nil {
		t.Fatalf("Publish() error = %v", err)
	}

	want := []daprtest.Published{{
		PubsubName:  "pubsub",
		Topic:       "trip-created",
		Data:        []byte(tripCreatedData),
		ContentType: "application/json",
	}}
	if diff := cmp.Diff(want, fake.Published()); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

// An error the sidecar answered says whether the broker may have the
// event anyway.
func TestPublisherSidecarErrors(t *testing.T) {
	tests := []struct {
		code        codes.Code
		mayHaveIt   bool
		description string
	}{
		{code: codes.Internal, description: "the broker refused it"},
		{code: codes.InvalidArgument, description: "no such pub/sub component"},
		{code: codes.NotFound, description: "no such topic"},
		{code: codes.Unavailable, description: "the sidecar is not there"},
		{code: codes.Unknown, mayHaveIt: true, description: "the answer was lost"},
		{code: codes.Canceled, mayHaveIt: true, description: "the call was cut off"},
		{code: codes.DeadlineExceeded, mayHaveIt: true, description: "the sidecar gave up waiting for the broker"},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			sidecar, fake := connect(t)
			fake.FailPublish(status.Error(tt.code, tt.description))

			err := dapr.NewPublisher(sidecar, "pubsub").Publish(t.Context(), app.TopicTripCreated, tripCreated)

			if status.Code(err) != tt.code || !strings.Contains(err.Error(), "trip-created") {
				t.Fatalf("Publish() error = %v, want one naming the topic and wrapping code %v", err, tt.code)
			}
			if got := errors.Is(err, app.ErrOutcomeUnknown); got != tt.mayHaveIt {
				t.Errorf("Publish() error = %v: errors.Is(err, ErrOutcomeUnknown) = %v, want %v", err, got, tt.mayHaveIt)
			}
		})
	}
}

// A publish the caller gave up on may have reached the broker: here it
// has.
func TestPublisherCutOff(t *testing.T) {
	tests := []struct {
		name     string
		giveUp   func(context.Context) (context.Context, context.CancelFunc)
		wantCode codes.Code
	}{
		{
			name: "cancelled",
			giveUp: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			},
			wantCode: codes.Canceled,
		},
		{
			name: "timed out",
			giveUp: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 100*time.Millisecond)
			},
			wantCode: codes.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sidecar, fake := connect(t)
			_, release := fake.Hold()
			t.Cleanup(release)
			ctx, cancel := tt.giveUp(t.Context())
			defer cancel()

			err := dapr.NewPublisher(sidecar, "pubsub").Publish(ctx, app.TopicTripCreated, tripCreated)

			if !errors.Is(err, app.ErrOutcomeUnknown) || status.Code(err) != tt.wantCode {
				t.Errorf("Publish() error = %v, want one wrapping %v and code %v", err, app.ErrOutcomeUnknown, tt.wantCode)
			}
			if n := len(fake.Published()); n != 1 {
				t.Errorf("%d events published, want 1", n)
			}
		})
	}
}

func TestPublisherWithoutSidecar(t *testing.T) {
	_, opts := daprtest.Start(t)
	opts.GRPCPort = closedPort(t)

	err := dapr.NewPublisher(dial(t, opts), "pubsub").Publish(t.Context(), app.TopicTripCreated, tripCreated)

	if status.Code(err) != codes.Unavailable || errors.Is(err, app.ErrOutcomeUnknown) {
		t.Errorf("Publish() error = %v, want one wrapping code Unavailable, not %v", err, app.ErrOutcomeUnknown)
	}
}

func TestPublisherUnencodableEvent(t *testing.T) {
	sidecar, fake := connect(t)

	err := dapr.NewPublisher(sidecar, "pubsub").Publish(t.Context(), app.TopicTripCreated, map[string]any{"f": func() {}})

	if err == nil || errors.Is(err, app.ErrOutcomeUnknown) {
		t.Errorf("Publish() error = %v, want an encoding error, not %v", err, app.ErrOutcomeUnknown)
	}
	if n := len(fake.Published()); n != 0 {
		t.Errorf("%d events published, want none", n)
	}
}
