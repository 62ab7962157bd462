package dapr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dapr/go-sdk/service/common"
	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/contracttest"
	"github.com/ride-choreography/services/dispatch/internal/dapr"
	"github.com/ride-choreography/services/dispatch/internal/dapr/daprtest"
	"github.com/ride-choreography/services/dispatch/internal/dispatch"
	"github.com/ride-choreography/services/dispatch/internal/metrics"
	"github.com/ride-choreography/services/dispatch/internal/testkit"
	"github.com/ride-choreography/services/dispatch/internal/tracing"
)

// traceID is the trace id of the traceparent of the contracts' examples.
const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

// The example events' data, as the use cases get it.
var (
	exampleOrder = app.TripCreated{
		TripID: tripID, RiderID: riderID, Pickup: dispatch.Point{Lat: 50.08, Lon: 14.42}, RequestedAt: requestedAt,
	}
	exampleAssignment = app.DriverAssigned{TripID: tripID, RiderID: riderID, Driver: jarda, ETA: 240 * time.Second, AssignedAt: assignedAt}
	exampleNoDriver   = app.DriverNotFound{TripID: tripID, RiderID: riderID, DecidedAt: time.Date(2026, 11, 27, 9, 31, 0, 0, time.UTC)}
)

// exampleWith returns the example CloudEvent of a topic with old replaced
// by new, once; the test fails when the example has no old.
func exampleWith(tb testing.TB, topic, old, new string) []byte {
	tb.Helper()
	ex := string(contracttest.Example(tb, topic))
	if !strings.Contains(ex, old) {
		tb.Fatalf("the example of %s has no %q", topic, old)
	}
	return []byte(strings.Replace(ex, old, new, 1))
}

// cloudEvent wraps data the way Dapr delivers it.
func cloudEvent(tb testing.TB, topic string, data any) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{
		"specversion":     "1.0",
		"id":              "event-" + topic,
		"source":          "test",
		"type":            "com.dapr.event.sent",
		"datacontenttype": "application/json",
		"topic":           topic,
		"pubsubname":      "pubsub",
		"traceparent":     "00-" + traceID + "-00f067aa0ba902b7-01",
		"data":            data,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// call is one call of the use cases: the event, and the trace id its
// context carried.
type call struct {
	Event   any
	TraceID string
}

// handled is one delivery counted: its topic and the outcome answered.
type handled struct {
	Topic, Outcome string
}

// recorder is a dapr.Events and dapr.DeadLetters that records its calls
// and answers them with err, and a dapr.Metrics that records what it was
// told to count.
type recorder struct {
	mu      sync.Mutex
	calls   []call
	letters []app.DeadLetter
	err     error

	handled []handled
	// deadLettersStored are the topics of the dead letters counted.
	deadLettersStored []string
}

func (r *recorder) record(ctx context.Context, e any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{Event: e, TraceID: tracing.TraceID(ctx)})
	return r.err
}

func (r *recorder) TripOrdered(ctx context.Context, e app.TripCreated) error {
	return r.record(ctx, e)
}

func (r *recorder) DriverAssigned(ctx context.Context, e app.DriverAssigned) error {
	return r.record(ctx, e)
}

func (r *recorder) DriverNotFound(ctx context.Context, e app.DriverNotFound) error {
	return r.record(ctx, e)
}

// Store keeps dl once per id, as app.DeadLetterBox does.
func (r *recorder) Store(_ context.Context, dl app.DeadLetter) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return false, r.err
	}
	for _, kept := range r.letters {
		if kept.ID == dl.ID {
			return false, nil
		}
	}
	r.letters = append(r.letters, dl)
	return true, nil
}

func (r *recorder) EventHandled(topic, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handled = append(r.handled, handled{Topic: topic, Outcome: outcome})
}

func (r *recorder) DeadLetterStored(topic string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deadLettersStored = append(r.deadLettersStored, topic)
}

// newSubscriber returns a Subscriber on a recorder, and its log.
func newSubscriber() (*dapr.Subscriber, *recorder, *testkit.Buffer) {
	rec, logs := &recorder{}, &testkit.Buffer{}
	return dapr.NewSubscriber(zerolog.New(logs), "pubsub", rec, rec, rec), rec, logs
}

// handlerOf returns the subscriber's handler of a topic's deliveries.
func handlerOf(s *dapr.Subscriber, topic string) http.Handler {
	switch topic {
	case "trip-created":
		return s.TripCreated()
	case "driver-assigned":
		return s.DriverAssigned()
	case "driver-not-found":
		return s.DriverNotFound()
	case "dead-letters":
		return s.DeadLetter()
	}
	panic("no handler of " + topic)
}

// deliver posts a CloudEvent to the handler of a topic, as the sidecar
// does, and returns the status the handler answered.
func deliver(tb testing.TB, s *dapr.Subscriber, topic string, body []byte) common.SubscriptionResponseStatus {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, "/events/"+topic, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	rec := httptest.NewRecorder()
	handlerOf(s, topic).ServeHTTP(rec, req)
	resp := rec.Result()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("POST /events/%s: HTTP status %d, want 200", topic, resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json", got)
	}
	var got common.SubscriptionResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		tb.Fatal(err)
	}
	return got.Status
}

func TestSubscriptionsListEveryTopicAndTheDeadLetters(t *testing.T) {
	s, _, _ := newSubscriber()
	rec := httptest.NewRecorder()
	s.Subscriptions().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dapr/subscribe", nil))
	if got := rec.Header().Get("Content-Type"); rec.Code != http.StatusOK || got != "application/json" {
		t.Errorf("HTTP status %d, Content-Type %q, want 200 and application/json", rec.Code, got)
	}
	var got []common.Subscription
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []common.Subscription{
		{PubsubName: "pubsub", Topic: "trip-created", Route: "/events/trip-created", DeadLetterTopic: "dispatch-dead-letters"},
		{PubsubName: "pubsub", Topic: "driver-assigned", Route: "/events/driver-assigned", DeadLetterTopic: "dispatch-dead-letters"},
		{PubsubName: "pubsub", Topic: "driver-not-found", Route: "/events/driver-not-found", DeadLetterTopic: "dispatch-dead-letters"},
		{PubsubName: "pubsub", Topic: "dispatch-dead-letters", Route: "/events/dead-letters"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subscriptions mismatch (-want +got):\n%s", diff)
	}
}

// The examples of contracts/ are applied as the events they are, in their
// trace, and each delivery is logged.
func TestContractExamplesAreApplied(t *testing.T) {
	const tripID, riderID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", "rider-42"
	tests := []struct {
		topic   string
		eventID string
		want    any
	}{
		{topic: "trip-created", eventID: "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d", want: exampleOrder},
		{
			topic:   "driver-assigned",
			eventID: "3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b",
			want:    exampleAssignment,
		},
		{topic: "driver-not-found", eventID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", want: exampleNoDriver},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			s, rec, logs := newSubscriber()
			if got := deliver(t, s, tt.topic, contracttest.Example(t, tt.topic)); got != common.SubscriptionResponseStatusSuccess {
				t.Fatalf("status %s, want SUCCESS", got)
			}
			if diff := cmp.Diff([]call{{Event: tt.want, TraceID: traceID}}, rec.calls); diff != "" {
				t.Errorf("calls mismatch (-want +got):\n%s", diff)
			}
			wantLog := []map[string]any{{
				"level": "info", "topic": tt.topic, "eventId": tt.eventID, "tripId": tripID, "traceId": traceID, "outcome": "SUCCESS",
			}}
			if diff := cmp.Diff(wantLog, logs.Lines(t, "event handled")); diff != "" {
				t.Errorf("log mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// What a use case answers decides the outcome: nothing wrong is SUCCESS,
// anything else RETRY (the store, a lost race, a cancelled context: a
// redelivery may succeed), logged as a warning with the cause.
func TestUseCaseErrorsAreRetried(t *testing.T) {
	for _, cause := range []error{
		errors.New("state store down"),
		fmt.Errorf("send: %w", app.ErrConflict),
		context.Canceled,
	} {
		for _, topic := range []string{"trip-created", "driver-assigned", "driver-not-found"} {
			t.Run(topic+"/"+cause.Error(), func(t *testing.T) {
				s, rec, logs := newSubscriber()
				rec.err = cause
				if got := deliver(t, s, topic, contracttest.Example(t, topic)); got != common.SubscriptionResponseStatusRetry {
					t.Fatalf("status %s, want RETRY", got)
				}
				lines := logs.Lines(t, "event to be retried")
				if len(lines) != 1 {
					t.Fatalf("%d event to be retried log lines, want 1", len(lines))
				}
				want := map[string]any{
					"level": "warn", "topic": topic, "eventId": lines[0]["eventId"], "tripId": "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10",
					"traceId": traceID, "outcome": "RETRY", "error": cause.Error(),
				}
				if diff := cmp.Diff(want, lines[0]); diff != "" {
					t.Errorf("log mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// A delivery that can never be handled is dropped, logged as an error with
// the reason, and nothing is applied.
func TestInvalidDeliveriesAreDropped(t *testing.T) {
	const valid = `"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26},"requestedAt":"2026-11-27T09:30:00Z"`
	envelope := func(attributes, data string) string {
		return `{"specversion":"1.0","id":"e1","source":"trip","type":"com.dapr.event.sent",` + attributes + `"data":` + data + `}`
	}
	if got := deliver(t, func() *dapr.Subscriber { s, _, _ := newSubscriber(); return s }(), "trip-created",
		[]byte(envelope("", `{`+valid+`}`))); got != common.SubscriptionResponseStatusSuccess {
		t.Fatalf("the valid event of this table: status %s, want SUCCESS", got)
	}
	tests := []struct {
		name   string
		body   string
		reason string
	}{
		{name: "empty body", body: ``, reason: "invalid event: body is not a JSON CloudEvent: unexpected end of JSON input"},
		{name: "not JSON", body: `tripId`, reason: "invalid event: body is not a JSON CloudEvent: invalid character 'i' in literal true (expecting 'u')"},
		{name: "malformed JSON", body: `{"specversion":"1.0","id":`, reason: "invalid event: body is not a JSON CloudEvent: unexpected end of JSON input"},
		{name: "trailing garbage", body: envelope("", `{`+valid+`}`) + `}`, reason: "invalid event: body is not a JSON CloudEvent: invalid character '}' after top-level value"},
		{name: "JSON but no object", body: `["trip-created"]`, reason: "invalid event: body is not a JSON CloudEvent: it is a JSON array, not a JSON object"},
		{name: "JSON null", body: `null`, reason: "invalid event: body is not a JSON CloudEvent: it is null, not a JSON object"},
		{name: "no CloudEvent: bare data", body: `{` + valid + `}`, reason: `invalid event: not a CloudEvent: specversion is "", want "1.0"`},
		{name: "CloudEvent 0.3", body: strings.Replace(envelope("", `{`+valid+`}`), `"1.0"`, `"0.3"`, 1), reason: `invalid event: not a CloudEvent: specversion is "0.3", want "1.0"`},
		{name: "no id", body: strings.Replace(envelope("", `{`+valid+`}`), `"id":"e1",`, ``, 1), reason: "invalid event: not a CloudEvent: it has no id"},
		{name: "empty id", body: strings.Replace(envelope("", `{`+valid+`}`), `"id":"e1"`, `"id":""`, 1), reason: "invalid event: not a CloudEvent: it has no id"},
		{name: "id in another case", body: strings.Replace(envelope("", `{`+valid+`}`), `"id":"e1"`, `"ID":"e1"`, 1), reason: "invalid event: not a CloudEvent: it has no id"},
		{name: "id a number", body: strings.Replace(envelope("", `{`+valid+`}`), `"id":"e1"`, `"id":1`, 1),
			reason: "invalid event: body is not a JSON CloudEvent: attribute id: it is a JSON number, not a string"},
		{name: "no data", body: `{"specversion":"1.0","id":"e1","source":"trip","type":"t"}`, reason: "invalid event: the event has no data"},
		{name: "data in another case", body: strings.Replace(envelope("", `{`+valid+`}`), `"data"`, `"Data"`, 1), reason: "invalid event: the event has no data"},
		{name: "data null", body: envelope("", `null`), reason: "invalid event: the event has no data"},
		{name: "data an array", body: envelope("", `[]`), reason: "invalid event: trip-created: at '': got array, want object"},
		{name: "data a number", body: envelope("", `42`), reason: "invalid event: trip-created: at '': got number, want object"},
		{name: "data a string, not JSON", body: envelope("", `"tripId"`), reason: "invalid event: trip-created: data is not one JSON value: invalid character 'i' in literal true (expecting 'u')"},
		{name: "data a string of two objects", body: envelope("", strings.Repeat(`{`+valid+`}`, 2)), reason: "invalid event: body is not a JSON CloudEvent: invalid character '{' after object key:value pair"},
		{name: "data forged: TripId for tripId", body: envelope("", `{`+strings.Replace(valid, `"tripId"`, `"TripId"`, 1)+`}`),
			reason: "invalid event: trip-created: at '': missing property 'tripId'"},
		{name: "data forged: riderID for riderId", body: envelope("", `{`+strings.Replace(valid, `"riderId"`, `"riderID"`, 1)+`}`),
			reason: "invalid event: trip-created: at '': missing property 'riderId'"},
		{name: "data without riderId", body: envelope("", `{`+strings.Replace(valid, `"riderId":"rider-42",`, ``, 1)+`}`),
			reason: "invalid event: trip-created: at '': missing property 'riderId'"},
		{name: "latitude out of range", body: envelope("", `{`+strings.Replace(valid, `"lat":50.08`, `"lat":91`, 1)+`}`),
			reason: "invalid event: trip-created: at '/pickup/lat': maximum: got 91, want 90"},
		{name: "latitude the schema validator cannot read", body: envelope("", `{`+strings.Replace(valid, `"lat":50.08`, `"lat":1e9999999`, 1)+`}`),
			reason: "invalid event: trip-created: number 1e9999999 has an exponent beyond what the validator reads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, logs := newSubscriber()
			if got := deliver(t, s, "trip-created", []byte(tt.body)); got != common.SubscriptionResponseStatusDrop {
				t.Errorf("status %s, want DROP", got)
			}
			if len(rec.calls) != 0 {
				t.Errorf("applied %+v, want nothing", rec.calls)
			}
			lines := logs.Lines(t, "event dropped")
			if len(lines) != 1 {
				t.Fatalf("%d event dropped log lines, want 1", len(lines))
			}
			if lines[0]["level"] != "error" || lines[0]["outcome"] != "DROP" || lines[0]["error"] != tt.reason {
				t.Errorf("logged %v, want level error, outcome DROP and error %q", lines[0], tt.reason)
			}
		})
	}
}

// The log of a drop names the event and its trace, and the reason; not its
// trip, which the data that was refused cannot be trusted to name.
func TestDropIsLoggedWithTheEvent(t *testing.T) {
	s, _, logs := newSubscriber()
	body := exampleWith(t, "driver-assigned", `"etaSeconds": 240`, `"etaSeconds": -1`)
	if got := deliver(t, s, "driver-assigned", body); got != common.SubscriptionResponseStatusDrop {
		t.Fatalf("status %s, want DROP", got)
	}
	want := []map[string]any{{
		"level":   "error",
		"topic":   "driver-assigned",
		"eventId": "3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b",
		"traceId": traceID,
		"outcome": "DROP",
		"error":   "invalid event: driver-assigned: at '/etaSeconds': minimum: got -1, want 0",
	}}
	if diff := cmp.Diff(want, logs.Lines(t, "event dropped")); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

func TestEventSizeLimit(t *testing.T) {
	tests := []struct {
		name string
		size int
		want common.SubscriptionResponseStatus
	}{
		{name: "64 KiB", size: 64 << 10, want: common.SubscriptionResponseStatusSuccess},
		{name: "one byte more", size: 64<<10 + 1, want: common.SubscriptionResponseStatusDrop},
		{name: "1 MiB", size: 1 << 20, want: common.SubscriptionResponseStatusDrop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A CloudEvent extension attribute pads the example to size.
			body := string(exampleWith(t, "trip-created", `"specversion": "1.0",`, `"specversion": "1.0", "padding": "",`))
			body = strings.Replace(body, `"padding": ""`, `"padding": "`+strings.Repeat("x", tt.size-len(body))+`"`, 1)
			if len(body) != tt.size {
				t.Fatalf("body of %d bytes, want %d", len(body), tt.size)
			}
			s, rec, logs := newSubscriber()
			if got := deliver(t, s, "trip-created", []byte(body)); got != tt.want {
				t.Errorf("status %s, want %s", got, tt.want)
			}
			if tt.want == common.SubscriptionResponseStatusDrop {
				if len(rec.calls) != 0 {
					t.Errorf("applied %+v, want nothing", rec.calls)
				}
				lines := logs.Lines(t, "event dropped")
				if len(lines) != 1 || lines[0]["error"] != "invalid event: body is larger than 65536 bytes" {
					t.Errorf("dropped logged %v, want one line naming the size", lines)
				}
			}
		})
	}
}

// Data may come as a JSON string holding the object, as Dapr's outbox and
// some publishers send it: the object is read as if sent as such.
func TestDataAsAJSONString(t *testing.T) {
	var data map[string]any
	if err := json.Unmarshal(contracttest.Example(t, "trip-created"), &struct{ Data *map[string]any }{&data}); err != nil {
		t.Fatal(err)
	}
	object, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := json.Marshal(string(object))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		want common.SubscriptionResponseStatus
	}{
		{name: "the object, as Dapr's outbox sends it", data: string(object), want: common.SubscriptionResponseStatusSuccess},
		{name: "the object, with white space around it", data: " \n" + string(object) + "\n ", want: common.SubscriptionResponseStatusSuccess},
		{name: "an invalid object", data: `{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"}`, want: common.SubscriptionResponseStatusDrop},
		{name: "not an object", data: `[1,2]`, want: common.SubscriptionResponseStatusDrop},
		{name: "the object encoded twice", data: string(twice), want: common.SubscriptionResponseStatusDrop},
		{name: "not JSON", data: `tripId`, want: common.SubscriptionResponseStatusDrop},
		{name: "two objects", data: string(object) + string(object), want: common.SubscriptionResponseStatusDrop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, _ := newSubscriber()
			if got := deliver(t, s, "trip-created", cloudEvent(t, "trip-created", tt.data)); got != tt.want {
				t.Fatalf("status %s, want %s", got, tt.want)
			}
			if tt.want == common.SubscriptionResponseStatusSuccess {
				want := []call{{Event: exampleOrder, TraceID: traceID}}
				if diff := cmp.Diff(want, rec.calls); diff != "" {
					t.Errorf("calls mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// Properties are read by their exact names, as the schema reads them: a
// property of another case is just an unknown one.
func TestDataIsReadByExactNames(t *testing.T) {
	s, rec, _ := newSubscriber()
	body := exampleWith(t, "driver-assigned", `"tripId": "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10",`,
		`"tripId": "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", "TRIPID": "6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d", "RiderId": "forged",`)
	body = bytes.Replace(body, []byte(`"name": "Jarda",`), []byte(`"name": "Jarda", "Name": "Forged",`), 1)
	if got := deliver(t, s, "driver-assigned", body); got != common.SubscriptionResponseStatusSuccess {
		t.Fatalf("status %s, want SUCCESS", got)
	}
	want := []call{{
		Event:   exampleAssignment,
		TraceID: traceID,
	}}
	if diff := cmp.Diff(want, rec.calls); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
}

// A leap second is a date-time as the schema's format has it.
func TestLeapSecondIsAccepted(t *testing.T) {
	for topic, at := range map[string]string{
		"trip-created":     `"requestedAt": "2026-11-27T09:30:00Z"`,
		"driver-assigned":  `"assignedAt": "2026-11-27T09:30:01Z"`,
		"driver-not-found": `"decidedAt": "2026-11-27T09:31:00Z"`,
	} {
		t.Run(topic, func(t *testing.T) {
			s, _, _ := newSubscriber()
			leap := strings.NewReplacer("2026-11-27T09:30:00Z", "2016-12-31T23:59:60Z", "2026-11-27T09:30:01Z", "2016-12-31T23:59:60.5Z",
				"2026-11-27T09:31:00Z", "2017-01-01T00:59:60+01:00").Replace(at)
			if got := deliver(t, s, topic, exampleWith(t, topic, at, leap)); got != common.SubscriptionResponseStatusSuccess {
				t.Errorf("%s: status %s, want SUCCESS", leap, got)
			}
		})
	}
}

// With the real use cases and state store adapter on a fake sidecar: a
// duplicate delivery is a SUCCESS that changes nothing, and a state store
// that fails makes the delivery a RETRY.
func TestDuplicatesChangeNothingAndStoreFailuresRetried(t *testing.T) {
	fake, opts := daprtest.Start(t)
	sidecar := dial(t, opts)
	var logs testkit.Buffer
	logger := zerolog.New(&logs)
	now := assignedAt.Add(time.Second)
	svc := app.NewService(dapr.NewBoardStore(sidecar), metrics.New(), func() time.Time { return now }, logger)
	counted := &recorder{}
	s := dapr.NewSubscriber(logger, "pubsub", svc, app.NewDeadLetterBox(dapr.NewDeadLetterStore(sidecar), time.Now), counted)

	for _, topic := range []string{"trip-created", "trip-created", "driver-assigned", "trip-created", "driver-assigned"} {
		if got := deliver(t, s, topic, contracttest.Example(t, topic)); got != common.SubscriptionResponseStatusSuccess {
			t.Errorf("%s: status %s, want SUCCESS", topic, got)
		}
	}
	p, err := svc.Picture(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Waiting) != 0 || len(p.Assigned) != 1 || p.Assigned[0].Driver.Name != "Jarda" || p.Counters.AssignedRecently != 1 || len(p.Feed) != 2 {
		t.Errorf("picture %+v, want one trip assigned to Jarda, counted once, and two lines in the feed", p)
	}
	// The order and the assignment each save the trip and the board: the
	// duplicates save nothing.
	if got := len(fake.Saves()); got != 4 {
		t.Errorf("%d saves, want 4", got)
	}
	if got := len(logs.Lines(t, "event handled")); got != 5 {
		t.Errorf("%d event handled log lines, want 5", got)
	}

	fake.FailState(errors.New("state store down"))
	if got := deliver(t, s, "driver-not-found", contracttest.Example(t, "driver-not-found")); got != common.SubscriptionResponseStatusRetry {
		t.Errorf("driver-not-found with the store down: status %s, want RETRY", got)
	}
	lines := logs.Lines(t, "event to be retried")
	if len(lines) != 1 || !strings.Contains(fmt.Sprint(lines[0]["error"]), "state store down") || lines[0]["tripId"] != tripID {
		t.Errorf("event to be retried logged %v, want one line with the trip and the cause", lines)
	}
	wantHandled := []handled{
		{"trip-created", "SUCCESS"}, {"trip-created", "SUCCESS"}, {"driver-assigned", "SUCCESS"},
		{"trip-created", "SUCCESS"}, {"driver-assigned", "SUCCESS"}, {"driver-not-found", "RETRY"},
	}
	if diff := cmp.Diff(wantHandled, counted.handled); diff != "" {
		t.Errorf("deliveries counted (-want +got):\n%s", diff)
	}
}

// Every delivery is counted once, by topic and outcome: SUCCESS, RETRY and
// DROP, on the topics and on the dead letters, whose route counts its own
// topic. A dead letter is counted as stored, by the topic it was dropped
// on, once: not when redelivered, nor while it cannot be stored.
func TestEveryDeliveryIsCounted(t *testing.T) {
	s, rec, _ := newSubscriber()
	poison := exampleWith(t, "driver-not-found", `"1.0"`, `"0.3"`)
	steps := []struct {
		topic string
		body  []byte
		err   error
		want  common.SubscriptionResponseStatus
	}{
		{topic: "trip-created", body: contracttest.Example(t, "trip-created"), want: common.SubscriptionResponseStatusSuccess},
		{topic: "driver-assigned", body: contracttest.Example(t, "driver-assigned"), err: errors.New("state store down"), want: common.SubscriptionResponseStatusRetry},
		{topic: "driver-not-found", body: poison, want: common.SubscriptionResponseStatusDrop},
		{topic: "dead-letters", body: poison, err: errors.New("state store down"), want: common.SubscriptionResponseStatusRetry},
		{topic: "dead-letters", body: poison, want: common.SubscriptionResponseStatusSuccess},
		{topic: "dead-letters", body: poison, want: common.SubscriptionResponseStatusSuccess},
		{topic: "trip-created", body: []byte(`not an event`), want: common.SubscriptionResponseStatusDrop},
	}
	for i, step := range steps {
		rec.err = step.err
		if got := deliver(t, s, step.topic, step.body); got != step.want {
			t.Fatalf("step %d, %s: status %s, want %s", i, step.topic, got, step.want)
		}
	}
	wantHandled := []handled{
		{"trip-created", "SUCCESS"},
		{"driver-assigned", "RETRY"},
		{"driver-not-found", "DROP"},
		{"dispatch-dead-letters", "RETRY"},
		{"dispatch-dead-letters", "SUCCESS"},
		{"dispatch-dead-letters", "SUCCESS"},
		{"trip-created", "DROP"},
	}
	if diff := cmp.Diff(wantHandled, rec.handled); diff != "" {
		t.Errorf("deliveries counted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"driver-not-found"}, rec.deadLettersStored); diff != "" {
		t.Errorf("dead letters counted as stored (-want +got):\n%s", diff)
	}
}

// A body that cannot be read is retried, and counted so: it may be whole
// next time.
func TestUnreadableBodyIsRetried(t *testing.T) {
	for _, tt := range []struct{ route, topic string }{
		{route: "trip-created", topic: "trip-created"},
		{route: "dead-letters", topic: "dispatch-dead-letters"},
	} {
		t.Run(tt.route, func(t *testing.T) {
			s, rec, logs := newSubscriber()
			req := httptest.NewRequest(http.MethodPost, "/events/"+tt.route, io.MultiReader(
				bytes.NewReader(contracttest.Example(t, "trip-created")[:20]), failingReader{}))
			w := httptest.NewRecorder()
			handlerOf(s, tt.route).ServeHTTP(w, req)
			if got := strings.TrimSpace(w.Body.String()); w.Code != http.StatusOK || got != `{"status":"RETRY"}` {
				t.Errorf("answer %d %s, want 200 RETRY", w.Code, got)
			}
			if len(rec.calls) != 0 || len(rec.letters) != 0 || len(logs.Lines(t, "event to be retried")) != 1 {
				t.Errorf("calls %v, letters %v, logs %s; want none, and one event to be retried", rec.calls, rec.letters, logs.String())
			}
			if diff := cmp.Diff([]handled{{tt.topic, "RETRY"}}, rec.handled); diff != "" {
				t.Errorf("deliveries counted (-want +got):\n%s", diff)
			}
		})
	}
}

// failingReader fails every read, as a connection that breaks.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
