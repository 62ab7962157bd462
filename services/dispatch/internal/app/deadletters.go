package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

const (
	// maxDeadLetters bounds the dead letters kept; the count keeps growing.
	maxDeadLetters = 1000
	// maxDeadLettersBytes bounds the size of the dead letters kept, as
	// JSON: they are saved as one state record, in one gRPC message to the
	// sidecar, which takes at most 4 MiB. The oldest go first.
	maxDeadLettersBytes = 1 << 20
)

// DeadLetter is an event the service could never handle, as the sidecar
// forwarded it to the service's dead-letter topic.
type DeadLetter struct {
	// ID is the CloudEvent id; it identifies the dead letter.
	ID string
	// Topic is the topic the event was first delivered on.
	Topic string
	// ReceivedAt is when the dead letter was stored.
	ReceivedAt time.Time
	// Reason is why the event cannot be handled.
	Reason string
	// Event is the CloudEvent as delivered.
	Event json.RawMessage
}

// size is about what the dead letter takes in the saved record.
func (dl DeadLetter) size() int {
	b, _ := json.Marshal(dl)
	return len(b)
}

// DeadLetters is the newest dead letters, oldest first, and how many were
// ever stored.
type DeadLetters struct {
	Count int
	Items []DeadLetter
}

// has reports whether a dead letter with the id is kept.
func (d DeadLetters) has(id string) bool {
	for _, kept := range d.Items {
		if kept.ID == id {
			return true
		}
	}
	return false
}

// with returns d with dl added, the oldest dropped beyond maxDeadLetters
// or maxDeadLettersBytes (dl itself is always kept).
func (d DeadLetters) with(dl DeadLetter) DeadLetters {
	d.Count++
	d.Items = append(d.Items, dl)
	if len(d.Items) > maxDeadLetters {
		d.Items = d.Items[len(d.Items)-maxDeadLetters:]
	}
	total := 0
	for i := len(d.Items) - 1; i >= 0; i-- {
		if total += d.Items[i].size(); total > maxDeadLettersBytes && i < len(d.Items)-1 {
			d.Items = d.Items[i+1:]
			break
		}
	}
	return d
}

// DeadLetterBox keeps the events the service could never handle, so that
// they can be seen.
type DeadLetterBox struct {
	store DeadLetterStore
	now   func() time.Time
}

// NewDeadLetterBox returns the box kept in store; now is the clock.
func NewDeadLetterBox(store DeadLetterStore, now func() time.Time) *DeadLetterBox {
	return &DeadLetterBox{store: store, now: now}
}

// Store keeps dl, received now, unless a dead letter with its id is kept
// already, and reports whether it kept it: a redelivered dead letter
// changes nothing.
func (b *DeadLetterBox) Store(ctx context.Context, dl DeadLetter) (bool, error) {
	dl.ReceivedAt = b.now().UTC()
	for range maxAttempts {
		kept, version, err := b.store.Load(ctx)
		if err != nil {
			return false, fmt.Errorf("store dead letter %s: %w", dl.ID, err)
		}
		if kept.has(dl.ID) {
			return false, nil
		}
		err = b.store.Save(ctx, kept.with(dl), version)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("store dead letter %s: %w", dl.ID, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("store dead letter %s: gave up after %d attempts: %w", dl.ID, maxAttempts, ErrConflict)
}

// List returns the dead letters kept.
func (b *DeadLetterBox) List(ctx context.Context) (DeadLetters, error) {
	kept, _, err := b.store.Load(ctx)
	if err != nil {
		return DeadLetters{}, fmt.Errorf("list dead letters: %w", err)
	}
	return kept, nil
}
