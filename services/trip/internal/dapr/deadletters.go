package dapr

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/trip/internal/app"
)

// deadLettersKey holds the dead-letter box in the service's state store.
const deadLettersKey = "dead-letters"

// DeadLetterStore keeps the dead-letter box in the service's own state
// store. It implements app.DeadLetterStore.
type DeadLetterStore struct {
	sidecar *Sidecar
}

// NewDeadLetterStore returns the dead-letter store behind the sidecar.
func NewDeadLetterStore(s *Sidecar) *DeadLetterStore {
	return &DeadLetterStore{sidecar: s}
}

type deadLettersRecord struct {
	Count int                `json:"count"`
	Items []deadLetterRecord `json:"deadLetters"`
}

type deadLetterRecord struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

// Load returns the box and its ETag; an empty box when none is stored.
func (s *DeadLetterStore) Load(ctx context.Context) (app.DeadLetters, string, error) {
	item, err := s.sidecar.client.GetState(ctx, s.sidecar.stateStore, deadLettersKey, nil)
	if err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("read state: %w", err)
	}
	if len(item.Value) == 0 {
		return app.DeadLetters{}, "", nil
	}
	var r deadLettersRecord
	if err := json.Unmarshal(item.Value, &r); err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("decode stored dead letters: %w", err)
	}
	box := app.DeadLetters{Count: r.Count, Items: make([]app.DeadLetter, len(r.Items))}
	for i, dl := range r.Items {
		box.Items[i] = app.DeadLetter(dl)
	}
	return box, item.Etag, nil
}

// Save replaces the box if its ETag is still version ("" for a box that
// does not exist yet), else app.ErrConflict.
func (s *DeadLetterStore) Save(ctx context.Context, box app.DeadLetters, version string) error {
	r := deadLettersRecord{Count: box.Count, Items: make([]deadLetterRecord, len(box.Items))}
	for i, dl := range box.Items {
		r.Items[i] = deadLetterRecord(dl)
	}
	value, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode dead letters: %w", err)
	}
	if version == "" {
		version = absent
	}
	err = s.sidecar.client.SaveStateWithETag(ctx, s.sidecar.stateStore, deadLettersKey, value, version, nil, firstWrite)
	if status.Code(err) == codes.Aborted { // the sidecar's answer to an ETag mismatch
		return app.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}
