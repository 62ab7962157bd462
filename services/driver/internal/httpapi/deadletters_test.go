package httpapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// poison is a trip-created CloudEvent whose data violates the schema.
var poison = event(strings.Replace(validData, `"lat":50.08`, `"lat":91`, 1))

// deadLettersBody is the answer to GET /dead-letters.
type deadLettersBody struct {
	Count       int `json:"count"`
	DeadLetters []struct {
		ID         string          `json:"id"`
		Topic      string          `json:"topic"`
		ReceivedAt string          `json:"receivedAt"`
		Reason     string          `json:"reason"`
		Event      json.RawMessage `json:"event"`
	} `json:"deadLetters"`
}

func (s *testServer) deadLetters(t *testing.T) deadLettersBody {
	t.Helper()
	resp, body := s.do(t, http.MethodGet, "/dead-letters", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dead-letters = %d %s, want 200", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got deadLettersBody
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("GET /dead-letters body %s: %v", body, err)
	}
	return got
}

// logLines returns the log lines with the message, as maps.
func (s *testServer) logLines(t *testing.T, message string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(s.logs.String()) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if entry["message"] == message {
			out = append(out, entry)
		}
	}
	return out
}

func TestDeadLetterIsStoredWithTheReasonItWasDropped(t *testing.T) {
	s := newTestServer(requestedAt.Add(time.Second), driver.DefaultPool()...)

	if got := s.postEvent(t, poison); got != "DROP" {
		t.Fatalf("trip-created answered %s, want DROP", got)
	}
	if got := s.deliver(t, "/events/dead-letters", poison); got != "SUCCESS" {
		t.Fatalf("dead letter answered %s, want SUCCESS; log:\n%s", got, s.logs)
	}

	dropped := s.logLines(t, "event not handled")
	if len(dropped) != 1 {
		t.Fatalf("logged %d drops, want 1:\n%s", len(dropped), s.logs)
	}
	got := s.deadLetters(t)
	if got.Count != 1 || len(got.DeadLetters) != 1 {
		t.Fatalf("GET /dead-letters = %+v, want one dead letter", got)
	}
	dl := got.DeadLetters[0]
	if dl.ID != "evt-1" || dl.Topic != "trip-created" || dl.ReceivedAt != "2026-11-27T09:30:01Z" {
		t.Errorf("dead letter %s on %q received %s, want evt-1 on trip-created received 2026-11-27T09:30:01Z", dl.ID, dl.Topic, dl.ReceivedAt)
	}
	if dl.Reason != dropped[0]["error"] {
		t.Errorf("reason = %q, want the error the drop logged, %q", dl.Reason, dropped[0]["error"])
	}
	assertJSON(t, poison, string(dl.Event))

	stored := s.logLines(t, "dead letter stored")
	want := []map[string]any{{
		"level": "warn", "message": "dead letter stored", "topic": "driver-dead-letters", "eventId": "evt-1",
		"originalTopic": "trip-created", "reason": "invalid event: pickup: invalid position: latitude 91 is outside [-90, 90]",
	}}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

func TestDeadLetterRedeliveryIsStoredOnce(t *testing.T) {
	s := newTestServer(requestedAt, driver.DefaultPool()...)

	for i := range 3 {
		if got := s.deliver(t, "/events/dead-letters", poison); got != "SUCCESS" {
			t.Fatalf("delivery %d answered %s, want SUCCESS", i+1, got)
		}
	}

	if got := s.deadLetters(t); got.Count != 1 || len(got.DeadLetters) != 1 {
		t.Errorf("GET /dead-letters = %+v, want the dead letter once", got)
	}
	if got := len(s.logLines(t, "dead letter stored")); got != 1 {
		t.Errorf("logged %d stores, want 1:\n%s", got, s.logs)
	}
}

func TestDeadLetterNeverDropped(t *testing.T) {
	oversized := event(validData)
	oversized = oversized[:len(oversized)-1] + `,"padding":"` + strings.Repeat("x", 64<<10) + `"}`

	tests := []struct {
		name string
		body string
		// wantID, without a CloudEvent id, is "sha256:" and the first 16
		// hex digits of the body's SHA-256.
		wantID     string
		wantTopic  string
		wantReason string
		wantEvent  string
	}{
		{
			name:       "not JSON",
			body:       `not json`,
			wantID:     "sha256:7ccfa1fbf3940e6f",
			wantReason: "invalid event: body is not a JSON CloudEvent: invalid character 'o' in literal null (expecting 'u')",
			wantEvent:  `"not json"`,
		},
		{
			name:       "JSON but not a CloudEvent",
			body:       validData,
			wantID:     "sha256:fb0587a28af09c77",
			wantReason: `invalid event: not a CloudEvent: specversion is "", want "1.0"`,
			wantEvent:  validData,
		},
		{
			name:       "larger than any event the service takes",
			body:       oversized,
			wantID:     "evt-1",
			wantTopic:  "trip-created",
			wantReason: "invalid event: body is larger than 65536 bytes",
			wantEvent:  jsonString(oversized[:16<<10]),
		},
		{
			name:       "a valid event whose delivery failed",
			body:       event(validData),
			wantID:     "evt-1",
			wantTopic:  "trip-created",
			wantReason: "the event is valid: it was not dropped, its delivery failed",
			wantEvent:  event(validData),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(requestedAt, driver.DefaultPool()...)

			for i := range 2 {
				if got := s.deliver(t, "/events/dead-letters", tt.body); got != "SUCCESS" {
					t.Fatalf("delivery %d answered %s, want SUCCESS; log:\n%s", i+1, got, s.logs)
				}
			}

			got := s.deadLetters(t)
			if got.Count != 1 || len(got.DeadLetters) != 1 {
				t.Fatalf("GET /dead-letters = %+v, want the dead letter once", got)
			}
			dl := got.DeadLetters[0]
			if dl.ID != tt.wantID || dl.Topic != tt.wantTopic || dl.Reason != tt.wantReason {
				t.Errorf("dead letter = %s on %q because %q, want %s on %q because %q", dl.ID, dl.Topic, dl.Reason, tt.wantID, tt.wantTopic, tt.wantReason)
			}
			assertJSON(t, tt.wantEvent, string(dl.Event))
		})
	}
}

func TestDeadLetterRetriedWhileStoreFails(t *testing.T) {
	s := newTestServer(requestedAt, driver.DefaultPool()...)
	s.store.Err = errors.New("connection refused")

	if got := s.deliver(t, "/events/dead-letters", poison); got != "RETRY" {
		t.Fatalf("answered %s, want RETRY", got)
	}

	retried := s.logLines(t, "event not handled")
	if len(retried) != 1 || retried[0]["status"] != "RETRY" || retried[0]["eventId"] != "evt-1" || retried[0]["topic"] != "driver-dead-letters" {
		t.Errorf("logged %v, want one RETRY of evt-1 on driver-dead-letters", retried)
	}
	s.store.Err = nil
	if got := s.deadLetters(t); got.Count != 0 || len(got.DeadLetters) != 0 {
		t.Errorf("GET /dead-letters = %+v, want none stored", got)
	}
}

func TestListDeadLetters(t *testing.T) {
	tests := []struct {
		name       string
		storeErr   error
		wantStatus int
		wantBody   string
	}{
		{name: "none yet", wantStatus: http.StatusOK, wantBody: `{"count":0,"deadLetters":[]}`},
		{name: "store unreachable", storeErr: errors.New("connection refused"), wantStatus: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(requestedAt, driver.DefaultPool()...)
			s.store.Err = tt.storeErr

			resp, body := s.do(t, http.MethodGet, "/dead-letters", "")

			if tt.wantStatus != http.StatusOK {
				assertProblem(t, resp, body, tt.wantStatus)
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
			}
			assertJSON(t, tt.wantBody, body)
		})
	}
}

// jsonString returns s encoded as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
