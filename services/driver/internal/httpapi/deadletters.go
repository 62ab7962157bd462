package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
)

const (
	// maxDeadLetterBytes is the most of a dead letter's body read: well
	// above maxEventBytes, so that an event dropped for its size still
	// arrives with its id. The rest of a longer body is left unread.
	maxDeadLetterBytes = 1 << 20
	// maxKeptEventBytes bounds the event kept with a dead letter, and so,
	// with the number of dead letters kept, the record that holds them.
	maxKeptEventBytes = 16 << 10
)

type deadLettersResponse struct {
	Count       int                  `json:"count"`
	DeadLetters []deadLetterResponse `json:"deadLetters"`
}

type deadLetterResponse struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

// handleListDeadLetters answers GET /dead-letters: the events the service
// could never handle, oldest first, and how many there ever were.
func handleListDeadLetters(logger zerolog.Logger, deadLetters DeadLetters) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept, err := deadLetters.List(r.Context())
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		resp := deadLettersResponse{Count: kept.Count, DeadLetters: make([]deadLetterResponse, len(kept.Items))}
		for i, dl := range kept.Items {
			resp.DeadLetters[i] = deadLetterResponse(dl)
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// handleDeadLetter receives the service's dead letters, the events it
// dropped that daprd forwarded to its dead-letter topic, and keeps them for
// GET /dead-letters. It answers SUCCESS once a dead letter is kept, RETRY
// while it cannot be, and never DROP: whatever arrives is kept.
func handleDeadLetter(logger zerolog.Logger, deadLetters DeadLetters) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := logger.With().Str("topic", app.TopicDeadLetters).Logger()
		body, err := readBody(r, maxDeadLetterBytes)
		if err != nil {
			writeEventStatus(w, log, statusRetry, err)
			return
		}
		dl := deadLetterOf(body)
		log = log.With().Str("eventId", dl.ID).Logger()
		stored, err := deadLetters.Store(r.Context(), dl)
		if err != nil {
			writeEventStatus(w, log, statusRetry, err)
			return
		}
		if stored {
			log.Warn().Str("originalTopic", dl.Topic).Str("reason", dl.Reason).Msg("dead letter stored")
		}
		writeEventStatus(w, log, statusSuccess, nil)
	})
}

// deadLetterOf describes the dead letter delivered as body: its CloudEvent
// id (or, without one, an id made from its content) and original topic,
// why it was dropped, and the event to keep.
func deadLetterOf(body []byte) app.DeadLetter {
	dl := app.DeadLetter{Reason: dropReason(body), Event: keptEvent(body)}
	var id, topic string
	if decodeObject(body, property{"id", &id}, property{"topic", &topic}) == nil {
		dl.ID, dl.Topic = id, topic
	}
	if dl.ID == "" {
		dl.ID = contentID(body)
	}
	return dl
}

// dropReason runs the check that dropped the event, the trip-created
// decoder, on it again, and returns what it finds.
func dropReason(body []byte) string {
	if _, err := decodeTripCreated(body); err != nil {
		return err.Error()
	}
	return "the event is valid: it was not dropped, its delivery failed"
}

// keptEvent returns body as a dead letter keeps it: the JSON as delivered,
// or, when body is not JSON or is longer than maxKeptEventBytes, a JSON
// string holding its start.
func keptEvent(body []byte) json.RawMessage {
	if len(body) <= maxKeptEventBytes && json.Valid(body) {
		return json.RawMessage(body)
	}
	// A Go string always encodes (invalid UTF-8 becomes U+FFFD).
	s, _ := json.Marshal(string(body[:min(len(body), maxKeptEventBytes)]))
	return s
}

// contentID identifies a dead letter that has no CloudEvent id, so that
// its redeliveries are still kept once.
func contentID(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:8])
}
