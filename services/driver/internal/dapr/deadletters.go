package dapr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ride-choreography/services/driver/internal/app"
)

// deadLettersKey is the state key of the dead letters.
const deadLettersKey = "dead-letters"

// DeadLetterStore keeps the dead letters in the service's own state store.
// It implements app.DeadLetterStore. Its writes use first-write
// concurrency, as the DriverStore's do.
type DeadLetterStore struct {
	sidecar *Sidecar
}

// NewDeadLetterStore returns the dead-letter store behind the sidecar.
func NewDeadLetterStore(s *Sidecar) *DeadLetterStore {
	return &DeadLetterStore{sidecar: s}
}

const (
	// maxDeadLetterBytes is the most of a dead letter's body read: well
	// above maxEventBytes, so that an event dropped for its size still
	// arrives with its id. The rest of a longer body is left unread.
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
	dl := app.DeadLetter{Reason: dropReason(body), Event: keptEvent(body)}
	// Read whatever its size: a dead letter dropped for being too large
	// still has an id and a topic.
	e, _ := decodeEnvelope(body)
	dl.ID, dl.Topic = e.ID, e.Topic
	if dl.ID == "" {
		dl.ID = contentID(body)
	}
	return dl, e.TraceParent
}

// dropReason runs the checks that dropped the event, those of the handler
// of trip-created (the one subscription with a dead-letter topic), on it
// again, and returns what they find: the error its drop logged.
func dropReason(body []byte) string {
	e, err := readEnvelope(body)
	if err == nil {
		_, err = decodeTripCreated(e.RawData)
	}
	if err != nil {
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

// deadLettersRecord is the dead letters as stored under dead-letters, in
// the shape GET /dead-letters answers.
type deadLettersRecord struct {
	Count       int                `json:"count"`
	DeadLetters []deadLetterRecord `json:"deadLetters"`
}

type deadLetterRecord struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

// Load implements app.DeadLetterStore.
func (s *DeadLetterStore) Load(ctx context.Context) (app.DeadLetters, string, error) {
	item, err := s.sidecar.client.GetState(ctx, s.sidecar.stateStore, deadLettersKey, nil)
	if err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("get %s: %w", deadLettersKey, err)
	}
	if len(item.Value) == 0 {
		return app.DeadLetters{}, "", nil
	}
	var rec deadLettersRecord
	if err := json.Unmarshal(item.Value, &rec); err != nil {
		return app.DeadLetters{}, "", fmt.Errorf("decode %s: %w", deadLettersKey, err)
	}
	dl := app.DeadLetters{Count: rec.Count, Items: make([]app.DeadLetter, len(rec.DeadLetters))}
	for i, r := range rec.DeadLetters {
		dl.Items[i] = app.DeadLetter(r)
	}
	return dl, item.Etag, nil
}

// Save implements app.DeadLetterStore.
func (s *DeadLetterStore) Save(ctx context.Context, dl app.DeadLetters, etag string) error {
	rec := deadLettersRecord{Count: dl.Count, DeadLetters: make([]deadLetterRecord, len(dl.Items))}
	for i, d := range dl.Items {
		rec.DeadLetters[i] = deadLetterRecord(d)
	}
	value, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode %s: %w", deadLettersKey, err)
	}
	return s.sidecar.save(ctx, deadLettersKey, value, etag)
}

var _ app.DeadLetterStore = (*DeadLetterStore)(nil)
