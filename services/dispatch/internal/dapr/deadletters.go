package dapr

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ride-choreography/services/dispatch/internal/app"
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
	value, etag, err := getState(ctx, s.sidecar, deadLettersKey)
	if err != nil {
		return app.DeadLetters{}, "", err
	}
	if len(value) == 0 {
		return app.DeadLetters{}, "", nil
	}
	var r deadLettersRecord
	if err := json.Unmarshal(value, &r); err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("decode stored dead letters: %w", err)
	}
	box := app.DeadLetters{Count: r.Count, Items: make([]app.DeadLetter, len(r.Items))}
	for i, dl := range r.Items {
		box.Items[i] = app.DeadLetter(dl)
	}
	return box, etag, nil
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
	return saveState(ctx, s.sidecar, deadLettersKey, value, version, nil)
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

// deadLetterOf describes the dead letter delivered as body, and returns
// its traceparent, if any, for the log: its CloudEvent id (or, without one,
// an id made from its content) and original topic, why it was dropped, and
// the event to keep.
func deadLetterOf(body []byte) (app.DeadLetter, string) {
	// Read whatever its size: a dead letter dropped for being too large
	// still has an id and a topic. What cannot be read stays empty; the
	// reason says what is wrong.
	e, _ := decodeEnvelope(body)
	id := cmp.Or(e.ID, contentID(body))
	return app.DeadLetter{ID: id, Topic: e.Topic, Reason: dropReason(e.Topic, body), Event: keptEvent(body)}, e.TraceParent
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

// dropReason runs the checks that dropped the event, those of the handler
// of its topic, on it again, and returns what they find: the error its
// drop logged.
func dropReason(topic string, body []byte) string {
	event, err := readEnvelope(body)
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
		return fmt.Sprintf("not a topic the dispatch service handles: %q", topic)
	}
	if err != nil {
		return err.Error()
	}
	return "the event is valid: it was not dropped, its delivery failed"
}

// contentID identifies a dead letter that has no CloudEvent id.
func contentID(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:8])
}
