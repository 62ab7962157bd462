package dapr_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	commonv1 "github.com/dapr/dapr/pkg/proto/common/v1"
	"github.com/dapr/go-sdk/service/common"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/contracttest"
	"github.com/ride-choreography/services/dispatch/internal/dapr"
	"github.com/ride-choreography/services/dispatch/internal/dapr/daprtest"
)

var receivedAt = time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)

// poison is a dead letter as the box keeps it.
func poison(id string) app.DeadLetter {
	return app.DeadLetter{
		ID:         id,
		Topic:      "trip-created",
		ReceivedAt: receivedAt,
		Reason:     "invalid event: riderId is missing",
		Event:      json.RawMessage(`{"specversion":"1.0","id":"` + id + `","topic":"trip-created"}`),
	}
}

const poisonRecord = `{"count":3,"deadLetters":[{"id":"e-1","topic":"trip-created","receivedAt":"2026-11-27T09:30:02Z",` +
	`"reason":"invalid event: riderId is missing","event":{"specversion":"1.0","id":"e-1","topic":"trip-created"}}]}`

func TestDeadLetterStoreLoadsNothingStored(t *testing.T) {
	fake, opts := daprtest.Start(t)

	box, etag, err := dapr.NewDeadLetterStore(dial(t, opts)).Load(t.Context())

	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if diff := cmp.Diff(app.DeadLetters{}, box); diff != "" || etag != "" {
		t.Errorf("Load() = etag %q, box (-want +got):\n%s, want an empty box and no etag", etag, diff)
	}
	if diff := cmp.Diff([]string{"dead-letters"}, fake.Reads()); diff != "" {
		t.Errorf("keys read (-want +got):\n%s", diff)
	}
}

func TestDeadLetterStoreSavesAndLoads(t *testing.T) {
	fake, opts := daprtest.Start(t)
	store := dapr.NewDeadLetterStore(dial(t, opts))
	box := app.DeadLetters{Count: 3, Items: []app.DeadLetter{poison("e-1")}}

	if err := store.Save(t.Context(), box, ""); err != nil {
		t.Fatalf("Save() of a new box: %v", err)
	}
	got, etag, err := store.Load(t.Context())
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if diff := cmp.Diff(box, got); diff != "" || etag != "1" {
		t.Errorf("Load() = etag %q, want 1, box (-want +got):\n%s", etag, diff)
	}

	box.Count++
	box.Items = append(box.Items, poison("e-2"))
	if err := store.Save(t.Context(), box, etag); err != nil {
		t.Fatalf("Save() with the ETag loaded: %v", err)
	}
	got, etag, err = store.Load(t.Context())
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if diff := cmp.Diff(box, got); diff != "" || etag != "2" {
		t.Errorf("Load() = etag %q, want 2, box (-want +got):\n%s", etag, diff)
	}

	saves := fake.Saves()
	if len(saves) != 2 {
		t.Fatalf("saves = %v, want 2", saves)
	}
	// A box not stored yet is written as "nothing stored yet", never
	// blindly; the record is what GET /dead-letters answers.
	want := &commonv1.StateItem{
		Key:   "dead-letters",
		Etag:  &commonv1.Etag{Value: "0"},
		Value: []byte(poisonRecord),
		Options: &commonv1.StateOptions{
			Concurrency: commonv1.StateOptions_CONCURRENCY_FIRST_WRITE,
			Consistency: commonv1.StateOptions_CONSISTENCY_STRONG,
		},
	}
	if diff := cmp.Diff(want, saves[0], protocmp.Transform()); diff != "" {
		t.Errorf("first save (-want +got):\n%s", diff)
	}
	if saves[1].GetEtag().GetValue() != "1" || saves[1].GetOptions().GetConcurrency() != commonv1.StateOptions_CONCURRENCY_FIRST_WRITE {
		t.Errorf("second save = %v, want first-write at etag 1", saves[1])
	}
}

func TestDeadLetterStoreSidecarFailing(t *testing.T) {
	fake, opts := daprtest.Start(t)
	fake.Put("dead-letters", []byte(poisonRecord))
	fake.FailState(status.Error(codes.Unavailable, "redis down"))
	store := dapr.NewDeadLetterStore(dial(t, opts))

	if _, _, err := store.Load(t.Context()); status.Code(err) != codes.Unavailable {
		t.Errorf("Load() error = %v, want one wrapping code Unavailable", err)
	}
	err := store.Save(t.Context(), app.DeadLetters{Count: 4, Items: []app.DeadLetter{poison("e-2")}}, "1")
	if status.Code(err) != codes.Unavailable || errors.Is(err, app.ErrConflict) {
		t.Errorf("Save() error = %v, want one wrapping code Unavailable, not %v", err, app.ErrConflict)
	}
}

func TestDeadLetterStoreCorruptRecord(t *testing.T) {
	fake, opts := daprtest.Start(t)
	fake.Put("dead-letters", []byte(`{"deadLetters":`))

	if _, _, err := dapr.NewDeadLetterStore(dial(t, opts)).Load(t.Context()); err == nil {
		t.Error("Load() of a corrupt record: no error")
	}
}

// The box the service builds on the store: each dead letter once, newest
// last, the last 1000 kept, the count of all.
func TestDeadLetterBoxOnTheStore(t *testing.T) {
	fake, opts := daprtest.Start(t)
	store := dapr.NewDeadLetterStore(dial(t, opts))
	full := app.DeadLetters{Count: 1500}
	for i := range 1000 {
		full.Items = append(full.Items, poison(fmt.Sprintf("e-%d", 500+i)))
	}
	if err := store.Save(t.Context(), full, ""); err != nil {
		t.Fatal(err)
	}
	box := app.NewDeadLetterBox(store, func() time.Time { return receivedAt })

	for _, id := range []string{"e-1500", "e-1499", "e-1500"} {
		dl := poison(id)
		dl.ReceivedAt = time.Time{} // the box sets it
		if _, err := box.Store(t.Context(), dl); err != nil {
			t.Fatalf("Store(%s) error = %v", id, err)
		}
	}

	got, err := box.List(t.Context())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	want := app.DeadLetters{Count: 1501, Items: append(slices.Clone(full.Items[1:]), poison("e-1500"))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() (-want +got):\n%s", diff)
	}
	if n := len(fake.Saves()); n != 2 {
		t.Errorf("%d saves, want 2: a dead letter kept already is not written again", n)
	}
}

// compact returns the JSON text b without insignificant white space.
func compact(tb testing.TB, b []byte) json.RawMessage {
	tb.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestPoisonEventsAreKeptWithTheReasonTheyWereDropped delivers events that
// can never be handled to their topic, where they are dropped, and then, as
// Dapr does, to the dead-letter topic, where they are kept with the error
// the drop logged, once, and logged once as stored.
func TestPoisonEventsAreKeptWithTheReasonTheyWereDropped(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		body  func(t *testing.T) []byte
		id    string
	}{
		{
			name:  "trip-created without riderId",
			topic: "trip-created",
			body: func(t *testing.T) []byte {
				return exampleWith(t, "trip-created", `"riderId": "rider-42",`, ``)
			},
			id: "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
		},
		{
			name:  "trip-created through the outbox, data a JSON string, latitude out of range",
			topic: "trip-created",
			body: func(t *testing.T) []byte {
				var ce struct{ Data map[string]any }
				if err := json.Unmarshal(contracttest.Example(t, "trip-created"), &ce); err != nil {
					t.Fatal(err)
				}
				ce.Data["pickup"] = map[string]any{"lat": 91, "lon": 14.42}
				b, err := json.Marshal(ce.Data)
				if err != nil {
					t.Fatal(err)
				}
				return cloudEvent(t, "trip-created", string(b))
			},
			id: "event-trip-created",
		},
		{
			name:  "driver-assigned with a negative ETA",
			topic: "driver-assigned",
			body: func(t *testing.T) []byte {
				return exampleWith(t, "driver-assigned", `"etaSeconds": 240`, `"etaSeconds": -1`)
			},
			id: "3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b",
		},
		{
			name:  "driver-not-found with an empty reason and no decidedAt: two violations",
			topic: "driver-not-found",
			body: func(t *testing.T) []byte {
				b := exampleWith(t, "driver-not-found", `"reason": "no driver became free within 60s"`, `"reason": ""`)
				return bytes.Replace(b, []byte(`,
    "decidedAt": "2026-11-27T09:31:00Z"`), nil, 1)
			},
			id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		},
		{
			name:  "a CloudEvent of another spec version",
			topic: "driver-not-found",
			body: func(t *testing.T) []byte {
				return exampleWith(t, "driver-not-found", `"1.0"`, `"0.3"`)
			},
			id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, logs := newSubscriber()
			body := tt.body(t)
			if got := deliver(t, s, tt.topic, body); got != common.SubscriptionResponseStatusDrop {
				t.Fatalf("%s: status %s, want DROP", tt.topic, got)
			}
			dropped := logs.Lines(t, "event dropped")
			if len(dropped) != 1 {
				t.Fatalf("%d event dropped log lines, want 1", len(dropped))
			}

			for range 2 { // a redelivered dead letter is kept and logged once
				if got := deliver(t, s, "dead-letters", body); got != common.SubscriptionResponseStatusSuccess {
					t.Fatalf("dead letter: status %s, want SUCCESS", got)
				}
			}
			reason := dropped[0]["error"].(string)
			want := []app.DeadLetter{{ID: tt.id, Topic: tt.topic, Reason: reason, Event: compact(t, body)}}
			if diff := cmp.Diff(want, rec.letters, cmp.Transformer("compact", func(e json.RawMessage) string {
				return string(compact(t, e))
			})); diff != "" {
				t.Errorf("dead letters mismatch (-want +got):\n%s", diff)
			}
			wantStored := []map[string]any{{
				"level": "warn", "topic": "dispatch-dead-letters", "eventId": tt.id, "traceId": traceID,
				"originalTopic": tt.topic, "reason": reason,
			}}
			if diff := cmp.Diff(wantStored, logs.Lines(t, "dead letter stored")); diff != "" {
				t.Errorf("dead letter stored log (-want +got):\n%s", diff)
			}
			handled := map[string]any{"level": "info", "topic": "dispatch-dead-letters", "eventId": tt.id, "traceId": traceID, "outcome": "SUCCESS"}
			if diff := cmp.Diff([]map[string]any{handled, handled}, logs.Lines(t, "event handled")); diff != "" {
				t.Errorf("event handled log (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeadLettersThatAreNotEventsAreKept(t *testing.T) {
	valid := contracttest.Example(t, "trip-created")
	tooLarge := exampleWith(t, "trip-created", `"specversion": "1.0",`, `"specversion": "1.0", "padding": "`+strings.Repeat("x", 100<<10)+`",`)
	hugeBody := bytes.Repeat([]byte("x"), 2<<20)
	tests := []struct {
		name string
		body []byte
		want app.DeadLetter
	}{
		{
			name: "not JSON: kept as a string, identified by its content",
			body: []byte(`not JSON`),
			want: app.DeadLetter{
				ID:     contentID([]byte(`not JSON`)),
				Reason: "invalid event: body is not a JSON CloudEvent: invalid character 'o' in literal null (expecting 'u')",
				Event:  json.RawMessage(`"not JSON"`),
			},
		},
		{
			name: "an event of a topic the service does not subscribe to",
			body: exampleWith(t, "trip-created", `"topic": "trip-created"`, `"topic": "trip-cancelled"`),
			want: app.DeadLetter{
				ID:     "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
				Topic:  "trip-cancelled",
				Reason: `not a topic the dispatch service handles: "trip-cancelled"`,
				Event:  exampleWith(t, "trip-created", `"topic": "trip-created"`, `"topic": "trip-cancelled"`),
			},
		},
		{
			name: "an event without a topic",
			body: exampleWith(t, "trip-created", `"topic": "trip-created",`, ``),
			want: app.DeadLetter{
				ID:     "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
				Reason: `not a topic the dispatch service handles: ""`,
				Event:  exampleWith(t, "trip-created", `"topic": "trip-created",`, ``),
			},
		},
		{
			name: "a valid event, whose delivery failed",
			body: valid,
			want: app.DeadLetter{
				ID:     "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
				Topic:  "trip-created",
				Reason: "the event is valid: it was not dropped, its delivery failed",
				Event:  valid,
			},
		},
		{
			name: "an event too large: its id, and a string of its first 16 KiB",
			body: tooLarge,
			want: app.DeadLetter{
				ID:     "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",
				Topic:  "trip-created",
				Reason: "invalid event: body is larger than 65536 bytes",
				Event:  jsonString(t, tooLarge[:16<<10]),
			},
		},
		{
			name: "a body larger than 1 MiB: its first MiB",
			body: hugeBody,
			want: app.DeadLetter{
				ID:     contentID(hugeBody[:1<<20]),
				Reason: "invalid event: body is larger than 65536 bytes",
				Event:  jsonString(t, hugeBody[:16<<10]),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, _ := newSubscriber()
			if got := deliver(t, s, "dead-letters", tt.body); got != common.SubscriptionResponseStatusSuccess {
				t.Fatalf("status %s, want SUCCESS", got)
			}
			if diff := cmp.Diff([]app.DeadLetter{tt.want}, rec.letters); diff != "" {
				t.Errorf("dead letters mismatch (-want +got):\n%s", diff)
			}
			if len(rec.calls) != 0 {
				t.Errorf("applied %+v, want nothing", rec.calls)
			}
		})
	}
}

// contentID is the id of a dead letter without a CloudEvent id: the start
// of the SHA-256 of its body.
func contentID(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// jsonString returns b as a JSON string.
func jsonString(tb testing.TB, b []byte) json.RawMessage {
	tb.Helper()
	s, err := json.Marshal(string(b))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestDeadLetterStoreFailureIsRetried(t *testing.T) {
	s, rec, logs := newSubscriber()
	rec.err = fmt.Errorf("save dead letters: %w", errors.New("state store down"))
	body := exampleWith(t, "driver-assigned", `"etaSeconds": 240`, `"etaSeconds": -1`)
	if got := deliver(t, s, "dead-letters", body); got != common.SubscriptionResponseStatusRetry {
		t.Fatalf("status %s, want RETRY", got)
	}
	want := []map[string]any{{
		"level":   "warn",
		"topic":   "dispatch-dead-letters",
		"eventId": "3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b",
		"traceId": traceID,
		"outcome": "RETRY",
		"error":   "save dead letters: state store down",
	}}
	if diff := cmp.Diff(want, logs.Lines(t, "event to be retried")); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
	if got := logs.Lines(t, "dead letter stored"); len(got) != 0 {
		t.Errorf("logged %v, want no dead letter stored", got)
	}

	// Redelivered once the store is back, it is kept.
	rec.err = nil
	if got := deliver(t, s, "dead-letters", body); got != common.SubscriptionResponseStatusSuccess {
		t.Fatalf("redelivered: status %s, want SUCCESS", got)
	}
	if len(rec.letters) != 1 || len(logs.Lines(t, "dead letter stored")) != 1 {
		t.Errorf("%d dead letters kept and logged %s; want one kept, logged once", len(rec.letters), logs.String())
	}
}
