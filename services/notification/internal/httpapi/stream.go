package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// handleStream follows the rider's notifications as Server-Sent Events:
// first those after the client's Last-Event-ID (all of them without one),
// then each new one as it is stored. Notifications stored by any replica
// show up because the stream re-reads the history every poll; those
// stored by this process show up at once. The stream ends when the client
// goes away or stopping is closed.
func handleStream(logger zerolog.Logger, riders Riders, stopping <-chan struct{}, poll, heartbeat time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		riderID, err := riderIDOf(r)
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		// Watch before the first read, so that nothing stored in between
		// is missed.
		wake, stop := riders.Watch(riderID)
		defer stop()
		h, err := riders.History(r.Context(), riderID)
		if err != nil {
			writeError(logger, w, r, err)
			return
		}

		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		s := eventStream{w: w, rc: http.NewResponseController(w), last: r.Header.Get("Last-Event-ID")}
		if err := s.send(h); err != nil {
			return
		}

		polls := time.NewTicker(poll)
		defer polls.Stop()
		heartbeats := time.NewTicker(heartbeat)
		defer heartbeats.Stop()
		failing := false
		for {
			select {
			case <-r.Context().Done():
				return
			case <-stopping:
				return
			case <-heartbeats.C:
				if err := s.heartbeat(); err != nil {
					return
				}
				continue
			case <-polls.C:
			case <-wake:
			}
			h, err := riders.History(r.Context(), riderID)
			if err != nil {
				// Keep the stream open: the next poll may succeed. Log
				// only the first failure of a run of them.
				if !failing && r.Context().Err() == nil {
					logger.Warn().Str("riderId", riderID).Err(err).Msg("notification stream cannot read history")
				}
				failing = true
				continue
			}
			failing = false
			if err := s.send(h); err != nil {
				return
			}
		}
	})
}

// eventStream writes a rider's notifications as Server-Sent Events, each
// once.
type eventStream struct {
	w  io.Writer
	rc *http.ResponseController
	// last is the ID of the last notification the client has.
	last string
}

// send writes the notifications of h the client does not have yet, and
// flushes. An error means the client is gone.
func (s *eventStream) send(h notification.History) error {
	for _, n := range h.Since(s.last) {
		data, err := json.Marshal(toNotificationJSON(n))
		if err != nil {
			return fmt.Errorf("encode notification %s: %w", n.ID(), err)
		}
		if _, err := fmt.Fprintf(s.w, "id: %s\nevent: notification\ndata: %s\n\n", n.ID(), data); err != nil {
			return err
		}
		s.last = n.ID()
	}
	return s.rc.Flush()
}

// heartbeat writes a comment, which clients ignore, so that proxies and
// clients see the connection is alive.
func (s *eventStream) heartbeat() error {
	if _, err := io.WriteString(s.w, ": heartbeat\n\n"); err != nil {
		return err
	}
	return s.rc.Flush()
}
