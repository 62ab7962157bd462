package dapr

import (
	"context"
	"encoding/json"
	"fmt"

	daprclient "github.com/dapr/go-sdk/client"

	"github.com/ride-choreography/services/trip/internal/app"
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
// the broker has acknowledged the event.
func (p *Publisher) Publish(ctx context.Context, topic string, event any) error {
	data, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event for %s: %w", topic, err)
	}
	if err := p.sidecar.client.PublishEvent(ctx, p.pubsub, topic, data,
		daprclient.PublishEventWithContentType("application/json")); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}

var _ app.Publisher = (*Publisher)(nil)
