package testkit

import (
	"context"
	"sync"

	"github.com/ride-choreography/services/driver/internal/tracing"
)

// Message is one event a Publisher published.
type Message struct {
	Topic string
	Event any
	// TraceID is the trace the message was published in.
	TraceID string
}

// Publisher is an app.Publisher that remembers what it published.
type Publisher struct {
	// Err, when set, fails every Publish, and nothing is recorded.
	Err error

	mu        sync.Mutex
	published []Message
}

// Publish implements app.Publisher.
func (p *Publisher) Publish(ctx context.Context, topic string, event any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return p.Err
	}
	p.published = append(p.published, Message{Topic: topic, Event: event, TraceID: tracing.TraceID(ctx)})
	return nil
}

// Published returns every message published so far, in order.
func (p *Publisher) Published() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.published...)
}
