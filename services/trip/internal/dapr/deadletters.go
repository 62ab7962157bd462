package dapr

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dapr/go-sdk/service/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/trip/internal/app"
)

// deadLettersKey holds the dead-letter box in the service's state store.
const deadLettersKey = "dead-letters"

// DeadLetterStore keeps the dead-letter box in the service's own state
// store. It implements app.DeadLetterStore.
type DeadLetterStore struct {
	sidecar *Sidecar
}

// NewDeadLetterStore returns the dead-letter store behind the sidecar.
func NewDeadLetterStore(s *Sidecar) *DeadLetterStore {
	return &DeadLetterStore{sidecar: s}
}

type deadLettersRecord struct {
	Count int                `json:"count"`
	Items []deadLetterRecord `json:"deadLetters"`
}

type deadLetterRecord struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

// Load returns the box and its ETag; an empty box when none is stored.
func (s *DeadLetterStore) Load(ctx context.Context) (app.DeadLetters, string, error) {
	item, err := s.sidecar.client.GetState(ctx, s.sidecar.stateStore, deadLettersKey, nil)
	if err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("read state: %w", err)
	}
	if len(item.Value) == 0 {
		return app.DeadLetters{}, "", nil
	}
	var r deadLettersRecord
	if err := json.Unmarshal(item.Value, &r); err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("decode stored dead letters: %w", err)
	}
	box := app.DeadLetters{Count: r.Count, Items: make([]app.DeadLetter, len(r.Items))}
	for i, dl := range r.Items {
		box.Items[i] = app.DeadLetter(dl)
	}
	return box, item.Etag, nil
}

// Save replaces the box if its ETag is still version ("" for a box that
// does not exist yet), else app.ErrConflict.
func (s *DeadLetterStore) Save(ctx context.Context, box app.DeadLetters, version string) error {
	r := deadLettersRecord{Count: box.Count, Items: make([]deadLetterRecord, len(box.Items))}
	for i, dl := range box.Items {
		r.Items[i] = deadLetterRecord(dl)
	}
	value, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode dead letters: %w", err)
	}
	if version == "" {
		version = absent
	}
	err = s.sidecar.client.SaveStateWithETag(ctx, s.sidecar.stateStore, deadLettersKey, value, version, nil, firstWrite)
	if status.Code(err) == codes.Aborted { // the sidecar's answer to an ETag mismatch
		return app.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

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
			writeStatus(w, common.SubscriptionResponseStatusRetry)
			return
		}
		dl := deadLetterOf(body)
		log := s.logger.With().Str("topic", TopicDeadLetters).Str("eventId", dl.ID).Str("originalTopic", dl.Topic).Logger()
		added, err := s.deadLetters.Store(r.Context(), dl)
		if err != nil {
			log.Error().Err(err).Str("outcome", string(common.SubscriptionResponseStatusRetry)).Msg("dead letter not stored, will be redelivered")
			writeStatus(w, common.SubscriptionResponseStatusRetry)
			return
		}
		if added {
			log.Warn().Str("reason", dl.Reason).Msg("dead letter stored")
		}
		writeStatus(w, common.SubscriptionResponseStatusSuccess)
	})
}

// deadLetterOf describes a forwarded event: its CloudEvent id (or, without
// one, an id made from its content), original topic, why it was dropped,
// and the event to keep. The reason is found again by running the topic's
// decoder on it: the same check that dropped it.
func deadLetterOf(body []byte) app.DeadLetter {
	// What cannot be read stays empty; the reason says what is wrong.
	event, _ := decodeEnvelope(body)
	id := cmp.Or(event.ID, contentID(body))
	return app.DeadLetter{ID: id, Topic: event.Topic, Reason: dropReason(event.Topic, body), Event: keptEvent(body)}
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
	event, err := parseEvent(body)
	if err != nil {
		return err.Error()
	}
	switch topic {
	case TopicTripCreated:
		_, err = decodeTripCreated(event.RawData)
	case TopicDriverAssigned:
		_, err = decodeDriverAssigned(event.RawData)
	case TopicDriverNotFound:
		_, err = decodeDriverNotFound(event.RawData)
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
