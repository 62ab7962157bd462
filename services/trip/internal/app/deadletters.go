package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// maxDeadLetters bounds the dead letters kept; the count keeps growing.
const maxDeadLetters = 1000

// DeadLetter is an event the service could never handle, as the sidecar
// forwarded it to the service's dead-letter topic.
type DeadLetter struct {
	ID         string          // the CloudEvent id
	Topic      string          // the topic it was first delivered on
	ReceivedAt time.Time       // when the dead letter was stored
	Reason     string          // why it cannot be handled
	Event      json.RawMessage // the CloudEvent as delivered
}

// DeadLetters is the service's dead-letter box: the newest dead letters,
// oldest first, and how many were ever stored.
type DeadLetters struct {
	Count int
	Items []DeadLetter
}

// DeadLetterStore keeps the dead-letter box.
type DeadLetterStore interface {
	// Load returns the box and an opaque version for Save; an empty box
	// when there is none yet.
	Load(ctx context.Context) (DeadLetters, string, error)
	// Save replaces the box if it is still at version, else ErrConflict.
	Save(ctx context.Context, box DeadLetters, version string) error
}

// DeadLetterBox stores and lists dead letters.
type DeadLetterBox struct {
	store DeadLetterStore
	now   func() time.Time
}

// NewDeadLetterBox returns the box kept in store.
func NewDeadLetterBox(store DeadLetterStore, now func() time.Time) *DeadLetterBox {
	return &DeadLetterBox{store: store, now: now}
}

// Store adds a dead letter unless one with its id is already kept, and
// reports whether it added it. A redelivered dead letter changes nothing.
func (b *DeadLetterBox) Store(ctx context.Context, dl DeadLetter) (bool, error) {
	return retryOnConflict(func() (bool, error) {
		box, version, err := b.store.Load(ctx)
		if err != nil {
			return false, fmt.Errorf("load dead letters: %w", err)
		}
		for _, kept := range box.Items {
			if kept.ID == dl.ID {
				return false, nil
			}
		}
		dl.ReceivedAt = b.now().UTC()
		box.Count++
		box.Items = append(box.Items, dl)
		if len(box.Items) > maxDeadLetters {
			box.Items = box.Items[len(box.Items)-maxDeadLetters:]
		}
		if err := b.store.Save(ctx, box, version); err != nil {
			return false, fmt.Errorf("save dead letters: %w", err)
		}
		return true, nil
	})
}

// List returns the dead-letter box.
func (b *DeadLetterBox) List(ctx context.Context) (DeadLetters, error) {
	box, _, err := b.store.Load(ctx)
	if err != nil {
		return DeadLetters{}, fmt.Errorf("load dead letters: %w", err)
	}
	return box, nil
}
