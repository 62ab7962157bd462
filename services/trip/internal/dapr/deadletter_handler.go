package dapr

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/ride-choreography/services/trip/internal/app"
)

const (
	// maxDeadLetterBytes is how much of a dead letter's body is read; the
	// rest is ignored, so that any body is stored, never retried for ever.
	// It is well above maxEventBytes, so that an event dropped for its size
	// still arrives whole, with its id, unless it is larger than this.
	maxDeadLetterBytes = 1 << 20
	// maxKeptEventBytes bounds the event kept with a dead letter, and so,
	// with the number of dead letters kept, the record that holds them.
	maxKeptEventBytes = 16 << 10
)

// DeadLetter handles the service's dead-letter topic: it keeps every
// event the service dropped, with the reason, for GET /dead-letters. It
// never drops: a dead letter that cannot be stored yet is retried.
func (s *Subscriber) DeadLetter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxDeadLetterBytes))
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

// deadLetterOf describes a forwarded event: its CloudEvent id (or, without
// one, an id made from its content), original topic, why it was dropped,
// and the event to keep. The reason is found again by running the topic's
// decoder on it: the same check that dropped it.
func deadLetterOf(body []byte) app.DeadLetter {
	var id, topic string
	// What cannot be read stays empty; the reason says what is wrong.
	_ = decodeObject(body, property{"id", &id}, property{"topic", &topic})
	if id == "" {
		id = contentID(body)
	}
	return app.DeadLetter{ID: id, Topic: topic, Reason: dropReason(topic, body), Event: keptEvent(body)}
}

// keptEvent returns body as a dead letter keeps it: the JSON as delivered,
// or, when body is not JSON or is longer than maxKeptEventBytes, a JSON
// string holding its start.
func keptEvent(body []byte) json.RawMessage {
	if len(body) <= maxKeptEventBytes && json.Valid(body) {
		return body
	}
	// A Go string always encodes (invalid UTF-8 becomes U+FFFD).
	s, _ := json.Marshal(string(body[:min(len(body), maxKeptEventBytes)]))
	return s
}

func dropReason(topic string, body []byte) string {
	event, err := decodeCloudEvent(body)
	if err != nil {
		return err.Error()
	}
	switch topic {
	case TopicTripCreated:
		_, err = decodeTripCreated(event.Data)
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
	return "the event is valid, but names a trip this service never stored, contradicts the trip's outcome, or orders a trip the service refuses (see the log line with this event id)"
}

// contentID identifies a dead letter that has no CloudEvent id.
func contentID(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:8])
}
