package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/deadletter"
)

// DeadLetters keeps the events the service dropped, as Dapr hands them
// back on the service's dead-letter topic, so that they can be seen.
type DeadLetters struct {
	store DeadLetterStore
	now   func() time.Time
	log   zerolog.Logger
}

// NewDeadLetters returns DeadLetters that keeps its list in store and
// stamps letters with the time now returns.
func NewDeadLetters(store DeadLetterStore, now func() time.Time, logger zerolog.Logger) *DeadLetters {
	return &DeadLetters{store: store, now: now, log: logger}
}

// Keep adds l, received now, to the list, unless a letter with its ID is
// kept already: a duplicate is not an error, the letter is kept. It loads
// the list again and retries when another writer changed it in between,
// at most saveAttempts times.
func (d *DeadLetters) Keep(ctx context.Context, l deadletter.Letter) error {
	l.ReceivedAt = d.now().UTC()
	for attempt := 1; ; attempt++ {
		ls, etag, err := d.store.Load(ctx)
		if err != nil {
			return fmt.Errorf("keep dead letter %s: %w", l.ID, err)
		}
		if !ls.Add(l) {
			return nil
		}
		err = d.store.Save(ctx, ls, etag)
		if errors.Is(err, ErrConflict) && attempt < saveAttempts {
			continue
		}
		if err != nil {
			return fmt.Errorf("keep dead letter %s: %w", l.ID, err)
		}
		d.log.Warn().
			Str("eventId", l.ID).
			Str("topic", l.Topic).
			Str("reason", l.Reason).
			Str("traceId", TraceID(ctx)).
			Msg("dead letter stored")
		return nil
	}
}

// List returns the dead letters kept, oldest first, and how many there were
// in all.
func (d *DeadLetters) List(ctx context.Context) (deadletter.List, error) {
	ls, _, err := d.store.Load(ctx)
	if err != nil {
		return deadletter.List{}, fmt.Errorf("read dead letters: %w", err)
	}
	return ls, nil
}
