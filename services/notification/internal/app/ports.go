package app

import (
	"context"
	"errors"

	"github.com/ride-choreography/services/notification/internal/deadletter"
	"github.com/ride-choreography/services/notification/internal/notification"
)

// ErrConflict means a Save lost a race: what it would overwrite changed
// since it was loaded (its ETag no longer matches).
var ErrConflict = errors.New("changed concurrently")

// Store keeps each rider's notification history. Load returns an empty
// history and an empty ETag for a rider it has never seen. Save writes h
// only if the stored history still has the given ETag (an empty ETag: only
// if there is none yet), else it returns an error wrapping ErrConflict.
//
// Recent returns the rider's history as this process last saved it, with
// the ETag that save left, while it remembers it. It costs no call to the
// store and may be stale (another replica saved since), so it serves only
// as the starting point of a Save that ErrConflict then corrects.
type Store interface {
	Load(ctx context.Context, riderID string) (h notification.History, etag string, err error)
	Save(ctx context.Context, riderID string, h notification.History, etag string) error
	Recent(riderID string) (h notification.History, etag string, ok bool)
}

// DeadLetterStore keeps the service's one list of dead letters. Load
// returns an empty list and an empty ETag when none is stored yet. Save
// writes ls only if the stored list still has the given ETag (an empty
// ETag: only if there is none yet), else it returns an error wrapping
// ErrConflict.
type DeadLetterStore interface {
	Load(ctx context.Context) (ls deadletter.List, etag string, err error)
	Save(ctx context.Context, ls deadletter.List, etag string) error
}
