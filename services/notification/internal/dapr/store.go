package dapr

import (
	"context"
	"fmt"

	daprclient "github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/notification"
	"github.com/ride-choreography/services/notification/internal/tracing"
)

// HistoryStore keeps riders' notification histories in the service's own
// Dapr state store, one key per rider, "rider-<riderId>". It implements
// app.Store.
//
// Writes use ETags and first-write-wins concurrency, so a write based on
// an outdated read fails with app.ErrConflict instead of overwriting.
//
// It remembers the histories it saved last (Recent), so that a rider's
// next notification, nearly always moments later, needs no load first.
type HistoryStore struct {
	sidecar *Sidecar
	recent  *recentHistories
}

// NewHistoryStore returns the history store behind the sidecar.
func NewHistoryStore(s *Sidecar) *HistoryStore {
	return &HistoryStore{sidecar: s, recent: newRecentHistories(recentSize)}
}

// Recent implements app.Store.
func (s *HistoryStore) Recent(riderID string) (notification.History, string, bool) {
	return s.recent.get(riderID)
}

// Load returns the rider's history and its ETag; an empty history and ETag
// for a rider not stored yet.
func (s *HistoryStore) Load(ctx context.Context, riderID string) (notification.History, string, error) {
	key := riderKey(riderID)
	value, etag, err := getState(ctx, s.sidecar, key)
	if err != nil {
		return notification.History{}, "", err
	}
	if len(value) == 0 {
		return notification.History{}, etag, nil
	}
	h, err := decodeHistory(value)
	if err != nil {
		return notification.History{}, "", fmt.Errorf("decode state %s: %w", key, err)
	}
	return h, etag, nil
}

// Save writes the rider's history if the stored one still has the given
// ETag (with an empty ETag: if none is stored yet); else it returns an
// error wrapping app.ErrConflict.
func (s *HistoryStore) Save(ctx context.Context, riderID string, h notification.History, etag string) error {
	key := riderKey(riderID)
	value, err := encodeHistory(h)
	if err != nil {
		return fmt.Errorf("encode state %s: %w", key, err)
	}
	if err := saveState(ctx, s.sidecar, key, value, etag); err != nil {
		s.recent.forget(riderID)
		return err
	}
	if next, ok := etagAfter(etag); ok {
		s.recent.put(riderID, h, next)
	} else {
		s.recent.forget(riderID)
	}
	return nil
}

func riderKey(riderID string) string {
	return "rider-" + riderID
}

// getState reads key from the state store, with its ETag: an empty value
// and ETag when the key is not stored.
func getState(ctx context.Context, s *Sidecar, key string) (value []byte, etag string, err error) {
	ctx, span := tracing.Start(ctx, "state get", trace.SpanKindClient, stateKey.String(key))
	defer func() { tracing.End(span, err) }()
	item, err := s.client.GetState(ctx, s.stateStore, key, nil)
	if err != nil {
		return nil, "", fmt.Errorf("get state %s: %w", key, err)
	}
	return item.Value, item.Etag, nil
}

// saveState writes value under key if the stored value still has the given
// ETag (with an empty ETag: if none is stored yet); else it returns an
// error wrapping app.ErrConflict.
func saveState(ctx context.Context, s *Sidecar, key string, value []byte, etag string) (err error) {
	ctx, span := tracing.Start(ctx, "state save", trace.SpanKindClient, stateKey.String(key))
	defer func() { tracing.End(span, err) }()
	if etag == "" {
		// The ETag that the Redis state store reads as "nothing stored
		// yet": a lost race is then an ETag mismatch, answered at once. With
		// no ETag at all it would be a plain error, which the resiliency
		// policy retries for seconds and the circuit breaker counts.
		etag = "0"
	}
	err = s.client.SaveStateWithETag(ctx, s.stateStore, key, value, etag, nil,
		daprclient.WithConcurrency(daprclient.StateConcurrencyFirstWrite),
		daprclient.WithConsistency(daprclient.StateConsistencyStrong))
	if status.Code(err) == codes.Aborted {
		// Dapr's answer to an ETag mismatch.
		return fmt.Errorf("save state %s: %w", key, app.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save state %s: %w", key, err)
	}
	return nil
}

// stateKey is the attribute of a state call's span that names the key.
const stateKey = attribute.Key("state.key")
