package dapr

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	daprclient "github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/dispatch"
	"github.com/ride-choreography/services/dispatch/internal/tracing"
)

// BoardStore keeps the dispatchers' board and what is known of each trip
// in the service's own Dapr state store: the board under the key "board",
// each trip under "trip-<tripId>", which expires tripTTL after its last
// change. It implements app.Store.
//
// Writes use ETags and first-write-wins concurrency, so a write based on
// an outdated read fails with app.ErrConflict instead of overwriting.
type BoardStore struct {
	sidecar *Sidecar
}

// NewBoardStore returns the board store behind the sidecar.
func NewBoardStore(s *Sidecar) *BoardStore {
	return &BoardStore{sidecar: s}
}

const boardKey = "board"

// tripTTL is how long a trip is remembered after its last event: far
// longer than any redelivery of its events, which it serves to recognise.
const tripTTL = 24 * time.Hour

// LoadTrip returns what is known of the trip, and its ETag; an unknown
// trip and an empty ETag if nothing is.
func (s *BoardStore) LoadTrip(ctx context.Context, tripID string) (dispatch.Trip, string, error) {
	key := tripKey(tripID)
	value, etag, err := getState(ctx, s.sidecar, key)
	if err != nil || len(value) == 0 {
		return dispatch.Trip{ID: tripID}, etag, err
	}
	var doc storedTrip
	if err := json.Unmarshal(value, &doc); err != nil {
		return dispatch.Trip{}, "", fmt.Errorf("decode state %s: %w", key, err)
	}
	return doc.trip(), etag, nil
}

// SaveTrip writes the trip if the stored one still has the given ETag
// (with an empty ETag: if none is stored yet); else it returns an error
// wrapping app.ErrConflict.
func (s *BoardStore) SaveTrip(ctx context.Context, t dispatch.Trip, etag string) error {
	key := tripKey(t.ID)
	value, err := json.Marshal(storedTripOf(t))
	if err != nil {
		return fmt.Errorf("encode state %s: %w", key, err)
	}
	return saveState(ctx, s.sidecar, key, value, etag, map[string]string{"ttlInSeconds": strconv.Itoa(int(tripTTL.Seconds()))})
}

// LoadBoard returns the board and its ETag; an empty board and ETag when
// none is stored yet.
func (s *BoardStore) LoadBoard(ctx context.Context) (dispatch.Board, string, error) {
	value, etag, err := getState(ctx, s.sidecar, boardKey)
	if err != nil || len(value) == 0 {
		return dispatch.NewBoard(), etag, err
	}
	var doc storedBoard
	if err := json.Unmarshal(value, &doc); err != nil {
		return dispatch.Board{}, "", fmt.Errorf("decode state %s: %w", boardKey, err)
	}
	return doc.board(), etag, nil
}

// SaveBoard writes the board if the stored one still has the given ETag
// (with an empty ETag: if none is stored yet), and returns the ETag it
// then has (etagAfter); else it returns an error wrapping
// app.ErrConflict.
func (s *BoardStore) SaveBoard(ctx context.Context, b dispatch.Board, etag string) (string, error) {
	value, err := json.Marshal(storedBoardOf(b))
	if err != nil {
		return "", fmt.Errorf("encode state %s: %w", boardKey, err)
	}
	if err := saveState(ctx, s.sidecar, boardKey, value, etag, nil); err != nil {
		return "", err
	}
	return etagAfter(etag), nil
}

func tripKey(tripID string) string {
	return "trip-" + tripID
}

// etagAfter guesses the ETag a save over etag leaves ("" or "0": nothing
// stored before). The Redis state store numbers a key's versions 1, 2, 3,
// ... and uses the number as its ETag; a wrong guess (another store,
// another numbering) costs one ETag mismatch and a load, never a lost
// write. "" when etag is not a number.
func etagAfter(etag string) string {
	if etag == "" {
		return "1"
	}
	n, err := strconv.Atoi(etag)
	if err != nil {
		return ""
	}
	return strconv.Itoa(n + 1)
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
func saveState(ctx context.Context, s *Sidecar, key string, value []byte, etag string, meta map[string]string) (err error) {
	ctx, span := tracing.Start(ctx, "state save", trace.SpanKindClient, stateKey.String(key))
	defer func() { tracing.End(span, err) }()
	if etag == "" {
		// The ETag that the Redis state store reads as "nothing stored
		// yet": a lost race is then an ETag mismatch, answered at once. With
		// no ETag at all it would be a plain error, which the resiliency
		// policy retries for seconds and the circuit breaker counts.
		etag = "0"
	}
	err = s.client.SaveStateWithETag(ctx, s.stateStore, key, value, etag, meta,
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
