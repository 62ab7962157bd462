package dapr

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/ride-choreography/services/trip/internal/app"
)

// maxDeadLetterBytes bounds a stored dead letter. It is larger than
// maxEventBytes: an event dropped for being too large still arrives here.
const maxDeadLetterBytes = 1 << 20

// DeadLetter handles the service's dead-letter topic: it keeps every
// event the service dropped, with the reason, for GET /dead-letters. It
// never drops: a dead letter that cannot be stored yet is retried.
func (s *Subscriber) DeadLetter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDeadLetterBytes))
		if err != nil {
			s.logger.Error().Err(err).Str("topic", TopicDeadLetters).Msg("dead letter unreadable, will be redelivered")
			writeStatus(w, statusRetry)
			return
		}
		dl := deadLetterOf(body)
		log := s.logger.With().Str("topic", TopicDeadLetters).Str("eventId", dl.ID).Str("originalTopic", dl.Topic).Logger()
		added, err := s.deadLetters.Store(r.Context(), dl)
		if err != nil {
			log.Error().Err(err).Str("outcome", statusRetry).Msg("dead letter not stored, will be redelivered")
			writeStatus(w, statusRetry)
			return
		}
		if added {
			log.Warn().Str("reason", dl.Reason).Msg("dead letter stored")
		}
		writeStatus(w, statusSuccess)
	})
}

// deadLetterOf describes a forwarded event. The reason is found again by
// running the topic's decoder on it: the same check that dropped it.
func deadLetterOf(body []byte) app.DeadLetter {
	var ce struct {
		ID    string `json:"id"`
		Topic string `json:"topic"`
	}
	if !json.Valid(body) || json.Unmarshal(body, &ce) != nil {
		raw, _ := json.Marshal(string(body))
		return app.DeadLetter{ID: contentID(body), Reason: "not a JSON CloudEvent", Event: raw}
	}
	dl := app.DeadLetter{ID: ce.ID, Topic: ce.Topic, Event: body}
	if dl.ID == "" {
		dl.ID = contentID(body)
	}
	dl.Reason = dropReason(ce.Topic, body)
	return dl
}

func dropReason(topic string, body []byte) string {
	event, err := decodeCloudEvent(bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	switch topic {
	case TopicDriverAssigned:
		_, err = decodeDriverAssigned(event.Data)
	case TopicDriverNotFound:
		_, err = decodeDriverNotFound(event.Data)
	default:
		return fmt.Sprintf("not a topic the trip service handles: %q", topic)
	}
	if err != nil {
		return err.Error()
	}
	return "the event is valid, but names a trip this service never stored or contradicts the trip's outcome (see the log line with this event id)"
}

// contentID identifies a dead letter that has no CloudEvent id.
func contentID(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:8])
}
