package app

import (
	"context"
	"errors"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// ErrConflict means a Store.Save lost a race: the history changed since it
// was loaded (its ETag no longer matches).
var ErrConflict = errors.New("history changed concurrently")

// Store keeps each rider's notification history. Load returns an empty
// history and an empty ETag for a rider it has never seen. Save writes h
// only if the stored history still has the given ETag (an empty ETag: only
// if there is none yet), else it returns an error wrapping ErrConflict.
type Store interface {
	Load(ctx context.Context, riderID string) (h notification.History, etag string, err error)
	Save(ctx context.Context, riderID string, h notification.History, etag string) error
}
