package dapr

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ride-choreography/services/driver/internal/app"
)

// deadLettersKey is the state key of the dead letters.
const deadLettersKey = "dead-letters"

// deadLettersRecord is the dead letters as stored under dead-letters, in
// the shape GET /dead-letters answers.
type deadLettersRecord struct {
	Count       int                `json:"count"`
	DeadLetters []deadLetterRecord `json:"deadLetters"`
}

type deadLetterRecord struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

// DeadLetters implements app.DeadLetterStore.
func (s *StateStore) DeadLetters(ctx context.Context) (app.DeadLetters, string, error) {
	item, err := s.client.GetState(ctx, s.name, deadLettersKey, nil)
	if err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("get %s: %w", deadLettersKey, err)
	}
	if len(item.Value) == 0 {
		return app.DeadLetters{}, "", nil
	}
	var rec deadLettersRecord
	if err := json.Unmarshal(item.Value, &rec); err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("decode %s: %w", deadLettersKey, err)
	}
	dl := app.DeadLetters{Count: rec.Count, Items: make([]app.DeadLetter, len(rec.DeadLetters))}
	for i, r := range rec.DeadLetters {
		dl.Items[i] = app.DeadLetter(r)
	}
	return dl, item.Etag, nil
}

// SaveDeadLetters implements app.DeadLetterStore.
func (s *StateStore) SaveDeadLetters(ctx context.Context, dl app.DeadLetters, etag string) error {
	rec := deadLettersRecord{Count: dl.Count, DeadLetters: make([]deadLetterRecord, len(dl.Items))}
	for i, d := range dl.Items {
		rec.DeadLetters[i] = deadLetterRecord(d)
	}
	value, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode %s: %w", deadLettersKey, err)
	}
	return s.save(ctx, deadLettersKey, value, etag)
}

var _ app.DeadLetterStore = (*StateStore)(nil)
