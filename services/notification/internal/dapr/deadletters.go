package dapr

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dapr/go-sdk/client"

	"github.com/ride-choreography/services/notification/internal/deadletter"
)

// deadLettersKey is the state key of the service's list of dead letters.
const deadLettersKey = "dead-letters"

// DeadLetterStore keeps the service's list of dead letters in its Dapr
// state store, under one key, "dead-letters". Writes use ETags like
// StateStore's. It satisfies app.DeadLetterStore.
type DeadLetterStore struct {
	client client.Client
	name   string
}

// Load returns the list and its ETag; an empty list and ETag when none is
// stored yet.
func (s *DeadLetterStore) Load(ctx context.Context) (deadletter.List, string, error) {
	value, etag, err := getState(ctx, s.client, s.name, deadLettersKey)
	if err != nil {
		return deadletter.List{}, "", err
	}
	if len(value) == 0 {
		return deadletter.List{}, etag, nil
	}
	ls, err := decodeDeadLetters(value)
	if err != nil {
		return deadletter.List{}, "", fmt.Errorf("decode state %s: %w", deadLettersKey, err)
	}
	return ls, etag, nil
}

// Save writes the list if the stored one still has the given ETag (with an
// empty ETag: if none is stored yet); else it returns an error wrapping
// app.ErrConflict.
func (s *DeadLetterStore) Save(ctx context.Context, ls deadletter.List, etag string) error {
	value, err := encodeDeadLetters(ls)
	if err != nil {
		return fmt.Errorf("encode state %s: %w", deadLettersKey, err)
	}
	return saveState(ctx, s.client, s.name, deadLettersKey, value, etag)
}

// storedDeadLetters is how the list of dead letters is kept in the state
// store. Count is the number of letters ever kept, which can be more than
// the letters still there.
type storedDeadLetters struct {
	Count       int                `json:"count"`
	DeadLetters []storedDeadLetter `json:"deadLetters"`
}

type storedDeadLetter struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

func encodeDeadLetters(ls deadletter.List) ([]byte, error) {
	doc := storedDeadLetters{Count: ls.Count(), DeadLetters: []storedDeadLetter{}}
	for _, l := range ls.Letters() {
		doc.DeadLetters = append(doc.DeadLetters, storedDeadLetter{
			ID: l.ID, Topic: l.Topic, ReceivedAt: l.ReceivedAt, Reason: l.Reason, Event: l.Event,
		})
	}
	return json.Marshal(doc)
}

func decodeDeadLetters(data []byte) (deadletter.List, error) {
	var doc storedDeadLetters
	if err := json.Unmarshal(data, &doc); err != nil {
		return deadletter.List{}, err
	}
	letters := make([]deadletter.Letter, 0, len(doc.DeadLetters))
	for _, l := range doc.DeadLetters {
		letters = append(letters, deadletter.Letter{
			ID: l.ID, Topic: l.Topic, ReceivedAt: l.ReceivedAt, Reason: l.Reason, Event: l.Event,
		})
	}
	return deadletter.NewList(letters, doc.Count), nil
}
