package httpapi

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/deadletter"
)

// The service's dead-letter topic, and the route its events are delivered
// to. Dapr publishes there every event the service answers DROP to, as it
// was delivered, with its CloudEvent id and topic attribute unchanged.
const (
	deadLetterTopic = "notification-dead-letters"
	deadLetterPath  = "/events/dead-letters"
)

// reasonValid is the reason kept with a dead letter that the decoders of
// its topic accept: Dapr dead-lettered it without the service dropping it
// (it expired, or Dapr gave up delivering it).
const reasonValid = "none found: the event is valid, so it expired or its delivery gave up"

// handleDeadLetter keeps each event delivered on the dead-letter topic. It
// answers SUCCESS once the letter is kept (a duplicate is kept already) and
// RETRY when it cannot be stored. It never answers DROP: a dead letter has
// nowhere further to go, so even one that is not a CloudEvent is kept.
func handleDeadLetter(logger zerolog.Logger, letters DeadLetters) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := delivery{topic: deadLetterTopic}
		status := statusSuccess
		if err := d.keep(r, letters); err != nil {
			status = statusRetry
			d.log(logger, status, err)
		}
		writeJSON(w, http.StatusOK, statusBody{Status: status})
	})
}

// keep reads a dead letter and keeps it, with the reason its topic's
// handler refused it: the error that the same decoders give again.
func (d *delivery) keep(r *http.Request, letters DeadLetters) error {
	body, err := readEvent(r)
	if err != nil {
		return err
	}
	var ce cloudEvent
	_ = json.Unmarshal(body, &ce) // as far as it goes: the decoders below say what is wrong
	original := delivery{topic: ce.Topic}
	reason := reasonValid
	if _, err := original.decode(body); err != nil {
		reason = err.Error()
	}
	l := deadletter.Letter{
		ID:     cmp.Or(ce.ID, contentID(body)),
		Topic:  ce.Topic,
		Reason: reason,
		Event:  asJSON(body),
	}
	ctx := app.WithTraceParent(r.Context(), ce.TraceParent)
	d.eventID, d.tripID, d.traceID = l.ID, original.tripID, app.TraceID(ctx)
	return letters.Keep(ctx, l)
}

// contentID identifies a dead letter without a CloudEvent id by its
// content, so that it too is kept once.
func contentID(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// asJSON returns body compacted when it is JSON, else a JSON string of it.
func asJSON(body []byte) json.RawMessage {
	var compact bytes.Buffer
	if utf8.Valid(body) && json.Compact(&compact, body) == nil {
		return compact.Bytes()
	}
	s, _ := json.Marshal(string(body)) // a string always encodes
	return s
}

// deadLettersJSON is the body of GET /dead-letters.
type deadLettersJSON struct {
	Count       int              `json:"count"`
	DeadLetters []deadLetterJSON `json:"deadLetters"`
}

type deadLetterJSON struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

// handleDeadLetters answers with the dead letters kept, oldest first, and
// the count of all ever kept.
func handleDeadLetters(logger zerolog.Logger, letters DeadLetters) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ls, err := letters.List(r.Context())
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		body := deadLettersJSON{Count: ls.Count(), DeadLetters: []deadLetterJSON{}}
		for _, l := range ls.Letters() {
			body.DeadLetters = append(body.DeadLetters, deadLetterJSON{
				ID: l.ID, Topic: l.Topic, ReceivedAt: l.ReceivedAt, Reason: l.Reason, Event: l.Event,
			})
		}
		writeJSON(w, http.StatusOK, body)
	})
}
