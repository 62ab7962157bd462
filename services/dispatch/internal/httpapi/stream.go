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

	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

// handleBoardStream follows the board as Server-Sent Events: the picture
// at once, then again each time this process changes the board, and every
// poll (with the changes of other replicas, and the waits grown longer).
// The stream ends when the client goes away or stopping is closed. A
// dispatcher holds at most as many streams at once as slots allows; one
// more is refused (errTooManyStreams) until one of theirs ends.
func handleBoardStream(logger zerolog.Logger, board Board, slots *streamSlots, stopping <-chan struct{}, poll time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dispatcher := dispatcherOf(r)
		if !slots.take(dispatcher) {
			writeError(logger, w, r, fmt.Errorf("dispatcher %s: %w", dispatcher, errTooManyStreams))
			return
		}
		defer slots.give(dispatcher)
		// Watch before the first read, so that nothing changed in between
		// is missed.
		wake, stop := board.Watch()
		defer stop()
		p, err := board.Picture(r.Context())
		if err != nil {
			writeError(logger, w, r, err)
			return
		}

		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		s := eventStream{w: w, rc: http.NewResponseController(w)}
		if err := s.send(p); err != nil {
			return
		}

		polls := time.NewTicker(poll)
		defer polls.Stop()
		failing := false
		for {
			select {
			case <-r.Context().Done():
				return
			case <-stopping:
				return
			case <-polls.C:
			case <-wake:
			}
			p, err := board.Picture(r.Context())
			if err != nil {
				// Keep the stream open: the next poll may succeed. Log
				// only the first failure of a run of them.
				if !failing && r.Context().Err() == nil {
					logger.Warn().Err(err).Msg("board stream cannot read the board")
				}
				failing = true
				continue
			}
			failing = false
			if err := s.send(p); err != nil {
				return
			}
		}
	})
}

// streamWriteTimeout bounds each write to a board stream: a client
// that reads nothing for this long is cut off.
const streamWriteTimeout = 10 * time.Second

// eventStream writes pictures of the board as Server-Sent Events. The server's WriteTimeout bounds a request, and a stream is meant
// to outlive it: each write gets a deadline of its own instead,
// streamWriteTimeout, so that a client who stops reading is let go. (Its
// ReadTimeout ends with the request header, a GET having no body: net/http
// lifts the read deadline then, to notice the client going away.)
type eventStream struct {
	w  io.Writer
	rc *http.ResponseController
}

// send writes p as an event "board", and flushes. An error means the
// client is gone.
func (s *eventStream) send(p dispatch.Picture) error {
	if err := s.deadline(); err != nil {
		return err
	}
	data, err := json.Marshal(toPictureJSON(p))
	if err != nil {
		return fmt.Errorf("encode board: %w", err)
	}
	if _, err := fmt.Fprintf(s.w, "event: board\ndata: %s\n\n", data); err != nil {
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

// errTooManyStreams means the dispatcher has as many board streams open as
// they may.
var errTooManyStreams = errors.New("too many board streams open")

// streamSlots bounds the board streams each dispatcher has open at once,
// so that one client cannot hold any number of connections and the polls
// they make. It counts the streams of this process only: with several
// replicas behind a load balancer a dispatcher may hold max on each.
type streamSlots struct {
	max  int
	mu   sync.Mutex
	open map[string]int // by dispatcher; one with none is not in it
}

func newStreamSlots(max int) *streamSlots {
	return &streamSlots{max: max, open: map[string]int{}}
}

// take takes one of the dispatcher's slots and reports whether one was free.
func (s *streamSlots) take(who string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[who] >= s.max {
		return false
	}
	s.open[who]++
	return true
}

// give gives back a slot the dispatcher took.
func (s *streamSlots) give(who string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[who] <= 1 {
		delete(s.open, who)
		return
	}
	s.open[who]--
}
