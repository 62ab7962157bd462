package dapr

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/otel/trace"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/tracing"
)

// Publisher publishes events through the sidecar's pub/sub component. It
// implements app.Publisher.
type Publisher struct {
	client client.Client
	pubsub string
}

// NewPublisher returns a Publisher to the pub/sub component named pubsub
// behind sidecar.
func NewPublisher(sidecar *Sidecar, pubsub string) *Publisher {
	return &Publisher{client: sidecar.client, pubsub: pubsub}
}

// Publish encodes event as JSON and publishes it to topic, in a span of
// ctx's trace, which the event carries on.
func (p *Publisher) Publish(ctx context.Context, topic string, event any) (err error) {
	ctx, span := tracing.Start(ctx, topic+" publish", trace.SpanKindProducer, tracing.Topic.String(topic))
	defer func() { tracing.End(span, err) }()
	data, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event for %s: %w", topic, err)
	}
	if err := p.client.PublishEvent(ctx, p.pubsub, topic, data, client.PublishEventWithContentType("application/json")); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}

var _ app.Publisher = (*Publisher)(nil)
