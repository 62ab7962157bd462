package dapr

import (
	"context"
	"encoding/json"
	"fmt"

	daprclient "github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/tracing"
)

// Publisher publishes events through the sidecar's pub/sub component. It
// implements app.Publisher.
type Publisher struct {
	sidecar *Sidecar
	pubsub  string
}

// NewPublisher returns a Publisher to the pub/sub component named pubsub
// behind the sidecar.
func NewPublisher(s *Sidecar, pubsub string) *Publisher {
	return &Publisher{sidecar: s, pubsub: pubsub}
}

// Publish encodes event as JSON and publishes it to topic. It returns once
// the broker has acknowledged the event. An error wraps
// app.ErrOutcomeUnknown when the request may have reached the sidecar and
// been carried out all the same: it was cancelled or timed out, or the
// answer was lost.
func (p *Publisher) Publish(ctx context.Context, topic string, event any) (err error) {
	ctx, span := tracing.Start(ctx, topic+" publish", trace.SpanKindProducer, tracing.Topic.String(topic))
	defer func() { tracing.End(span, err) }()
	data, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event for %s: %w", topic, err)
	}
	err = p.sidecar.client.PublishEvent(ctx, p.pubsub, topic, data, daprclient.PublishEventWithContentType("application/json"))
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil || mayHaveHappened(err):
		return fmt.Errorf("publish to %s: %w (%w)", topic, app.ErrOutcomeUnknown, err)
	}
	return fmt.Errorf("publish to %s: %w", topic, err)
}

// mayHaveHappened reports whether a failed call may have been carried out
// by the sidecar: it gave up waiting (DeadlineExceeded, Canceled) or the
// connection broke mid-call (Unknown). An error the sidecar answered
// itself, or a connection that never opened (Unavailable), means it was
// not.
func mayHaveHappened(err error) bool {
	switch status.Code(err) {
	case codes.DeadlineExceeded, codes.Canceled, codes.Unknown:
		return true
	}
	return false
}

var _ app.Publisher = (*Publisher)(nil)
