package dapr

import (
	"context"
	"fmt"

	"github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/notification"
)

// StateStore keeps riders' notification histories in a Dapr state store,
// one key per rider, "rider-<riderId>". Writes use ETags and first-write-
// wins concurrency, so a write based on an outdated read fails with
// app.ErrConflict instead of overwriting. It satisfies app.Store.
type StateStore struct {
	client client.Client
	name   string
}

// Load returns the rider's history and its ETag; an empty history and ETag
// for a rider not stored yet.
func (s *StateStore) Load(ctx context.Context, riderID string) (notification.History, string, error) {
	key := riderKey(riderID)
	item, err := s.client.GetState(withTraceParent(ctx), s.name, key, nil)
	if err != nil {
		return notification.History{}, "", fmt.Errorf("get state %s: %w", key, err)
	}
	if len(item.Value) == 0 {
		return notification.History{}, item.Etag, nil
	}
	h, err := decodeHistory(item.Value)
	if err != nil {
		return notification.History{}, "", fmt.Errorf("decode state %s: %w", key, err)
	}
	return h, item.Etag, nil
}

// Save writes the rider's history if the stored one still has the given
// ETag (with an empty ETag: if none is stored yet); else it returns an
// error wrapping app.ErrConflict.
func (s *StateStore) Save(ctx context.Context, riderID string, h notification.History, etag string) error {
	key := riderKey(riderID)
	data, err := encodeHistory(h)
	if err != nil {
		return fmt.Errorf("encode state %s: %w", key, err)
	}
	err = s.client.SaveStateWithETag(withTraceParent(ctx), s.name, key, data, etag, nil,
		client.WithConcurrency(client.StateConcurrencyFirstWrite),
		client.WithConsistency(client.StateConsistencyStrong))
	if status.Code(err) == codes.Aborted {
		// Dapr's answer to an ETag mismatch.
		return fmt.Errorf("save state %s: %w", key, app.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save state %s: %w", key, err)
	}
	return nil
}

func riderKey(riderID string) string {
	return "rider-" + riderID
}

// withTraceParent passes the trace context of the event being handled on
// to the sidecar, so that the state calls join the event's trace.
func withTraceParent(ctx context.Context) context.Context {
	if tp := app.TraceParent(ctx); tp != "" {
		return metadata.AppendToOutgoingContext(ctx, "traceparent", tp)
	}
	return ctx
}
