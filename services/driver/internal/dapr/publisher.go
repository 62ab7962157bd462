package dapr

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/metadata"

	"github.com/ride-choreography/services/driver/internal/app"
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

// Publish encodes event as JSON and publishes it to topic. The traceparent
// carried by ctx (app.WithTraceParent) goes along, so the trace continues.
func (p *Publisher) Publish(ctx context.Context, topic string, event any) error {
	data, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event for %s: %w", topic, err)
	}
	if tp := app.TraceParent(ctx); tp != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", tp)
	}
	if err := p.client.PublishEvent(ctx, p.pubsub, topic, data, client.PublishEventWithContentType("application/json")); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}

var _ app.Publisher = (*Publisher)(nil)
