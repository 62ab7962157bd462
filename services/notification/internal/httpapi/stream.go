package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// handleStream follows the rider's notifications as Server-Sent Events:
// first those after the client's Last-Event-ID (all of them without one),
// then each new one as it is stored. Notifications stored by any replica
// show up because the stream re-reads the history every poll; those
// stored by this process show up at once. The stream ends when the client
// goes away or stopping is closed. A rider holds at most as many streams
// at once as slots allows; one more is refused (errTooManyStreams) until
// one of theirs ends.
func handleStream(logger zerolog.Logger, riders Riders, slots *streamSlots, stopping <-chan struct{}, poll, heartbeat time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		riderID, err := riderIDOf(r)
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		if !slots.take(riderID) {
			writeError(logger, w, r, fmt.Errorf("rider %s: %w", riderID, errTooManyStreams))
			return
		}
		defer slots.give(riderID)
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

// streamWriteTimeout bounds each write to a notification stream: a client
// that reads nothing for this long is cut off.
const streamWriteTimeout = 10 * time.Second

// eventStream writes a rider's notifications as Server-Sent Events, each
// once. The server's WriteTimeout bounds a request, and a stream is meant
// to outlive it: each write gets a deadline of its own instead,
// streamWriteTimeout, so that a client who stops reading is let go. (Its
// ReadTimeout ends with the request header, a GET having no body: net/http
// lifts the read deadline then, to notice the client going away.)
type eventStream struct {
	w  io.Writer
	rc *http.ResponseController
	// last is the ID of the last notification the client has.
	last string
}

// send writes the notifications of h the client does not have yet, and
// flushes. An error means the client is gone.
func (s *eventStream) send(h notification.History) error {
	if err := s.deadline(); err != nil {
		return err
	}
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
	if err := s.deadline(); err != nil {
		return err
	}
	if _, err := io.WriteString(s.w, ": heartbeat\n\n"); err != nil {
		return err
	}
	return s.rc.Flush()
}

// deadline gives the next write streamWriteTimeout (with no deadline at
// all where the writer has none, as in a test's recorder).
func (s *eventStream) deadline() error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// errTooManyStreams means the rider has as many notification streams open
// as they may.
var errTooManyStreams = errors.New("too many notification streams open")

// streamSlots bounds the notification streams each rider has open at once,
// so that one client cannot hold any number of connections and the polls
// they make. It counts the streams of this process only: with several
// replicas behind a load balancer a rider may hold max on each.
type streamSlots struct {
	max  int
	mu   sync.Mutex
	open map[string]int // by rider id; a rider with none is not in it
}

func newStreamSlots(max int) *streamSlots {
	return &streamSlots{max: max, open: map[string]int{}}
}

// take takes one of the rider's slots and reports whether one was free.
func (s *streamSlots) take(riderID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[riderID] >= s.max {
		return false
	}
	s.open[riderID]++
	return true
}

// give gives back a slot the rider took.
func (s *streamSlots) give(riderID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[riderID] <= 1 {
		delete(s.open, riderID)
		return
	}
	s.open[riderID]--
}
