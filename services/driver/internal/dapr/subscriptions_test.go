package dapr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/contracttest"
	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

const (
	exampleTrip = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
	traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	validData   = `{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26},"requestedAt":"2026-11-27T09:30:00Z"}`
)

// requestedAt is when the trip of the contract example was ordered.
var requestedAt = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// timing is the tests': a minute to find a driver, two-minute rides.
var timing = app.Timing{AssignDeadline: time.Minute, RideDuration: 2 * time.Minute}

// oversized is a valid trip-created CloudEvent, padded beyond the 64 KiB
// the service takes.
var oversized = strings.TrimSuffix(event(validData), "}") + `,"padding":"` + strings.Repeat("x", 64<<10) + `"}`

// event returns a trip-created CloudEvent, as daprd delivers it, with data.
func event(data string) string {
	return `{"specversion":"1.0","id":"evt-1","source":"trip","type":"com.dapr.event.sent",` +
		`"datacontenttype":"application/json","topic":"trip-created","pubsubname":"pubsub",` +
		`"traceparent":"` + traceParent + `","data":` + data + `}`
}

// harness is a Subscriber over a real app.Service and app.DeadLetterBox,
// with recording fakes of their ports and of its Metrics, and its log.
type harness struct {
	subscriber  *dapr.Subscriber
	store       *testkit.Store
	publisher   *testkit.Publisher
	deadLetters *app.DeadLetterBox
	metrics     *recordingMetrics
	logs        *bytes.Buffer
}

// newHarness returns a harness whose store holds drivers and whose clock
// stands at now.
func newHarness(now time.Time, drivers ...driver.Driver) *harness {
	return newHarnessTimed(now, timing, drivers...)
}

// newHarnessTimed is newHarness with a service that follows the given
// timing.
func newHarnessTimed(now time.Time, timing app.Timing, drivers ...driver.Driver) *harness {
	h := &harness{store: testkit.NewStore(drivers...), publisher: &testkit.Publisher{}, metrics: &recordingMetrics{}, logs: &bytes.Buffer{}}
	clock := func() time.Time { return now }
	service := app.NewService(h.store, h.publisher, &testkit.Metrics{}, driver.DefaultPool(), timing, clock)
	h.deadLetters = app.NewDeadLetterBox(h.store, clock)
	h.subscriber = dapr.NewSubscriber(zerolog.New(h.logs), "pubsub", service, h.deadLetters, h.metrics)
	return h
}

// allBusy returns the pool with every driver on a ride that began at since.
func allBusy(t *testing.T, since time.Time) []driver.Driver {
	t.Helper()
	pool := driver.DefaultPool()
	for i, d := range pool {
		reserved, err := d.Reserve(fmt.Sprintf("other-trip-%d", i), since, timing.RideDuration)
		if err != nil {
			t.Fatal(err)
		}
		pool[i] = reserved
	}
	return pool
}

// deliver posts body to handler as daprd does, with the headers given in
// pairs, and returns the event status it answered.
func deliver(t *testing.T, handler http.Handler, body string, header ...string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/events/any", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("HTTP status = %d, want 200 whatever the outcome", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var answer struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		t.Fatalf("answer %q is not JSON: %v", rec.Body, err)
	}
	return answer.Status
}

// logLines returns the lines of logs with the message, as maps.
func logLines(t *testing.T, logs *bytes.Buffer, message string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, entry := range testkit.Lines(t, logs.String()) {
		if entry["message"] == message {
			out = append(out, entry)
		}
	}
	return out
}

// recordingEvents is an Events that records the trips it is given and
// answers with err.
type recordingEvents struct {
	trips []app.TripCreated
	err   error
}

func (r *recordingEvents) AssignDriver(_ context.Context, trip app.TripCreated) (app.Assignment, error) {
	r.trips = append(r.trips, trip)
	if r.err != nil {
		return app.Assignment{}, r.err
	}
	return app.Assignment{NotFound: &app.DriverNotFound{TripID: trip.TripID, RiderID: trip.RiderID, Reason: "test"}}, nil
}

// recordingMetrics is a dapr.Metrics that records each count, as the
// call it was.
type recordingMetrics struct {
	counted []string
}

func (m *recordingMetrics) EventHandled(topic, outcome string) {
	m.counted = append(m.counted, fmt.Sprintf("EventHandled(%s, %s)", topic, outcome))
}

func (m *recordingMetrics) DeadLetterStored(topic string) {
	m.counted = append(m.counted, fmt.Sprintf("DeadLetterStored(%s)", topic))
}

func TestSubscriptions(t *testing.T) {
	s := dapr.NewSubscriber(zerolog.Nop(), "pubsub", nil, nil, &recordingMetrics{})
	rec := httptest.NewRecorder()

	s.Subscriptions().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dapr/subscribe", nil))

	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("answer = %d %s, want 200 application/json", rec.Code, rec.Header().Get("Content-Type"))
	}
	var got []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("answer %s: %v", rec.Body, err)
	}
	want := []map[string]any{
		{"pubsubname": "pubsub", "topic": "trip-created", "route": "/events/trip-created", "deadLetterTopic": "driver-dead-letters"},
		{"pubsubname": "pubsub", "topic": "driver-dead-letters", "route": "/events/dead-letters", "deadLetterTopic": ""},
	}
	// What else the SDK's type says is left at its zero value.
	for _, sub := range got {
		for _, extra := range []string{"match", "priority", "disableTopicValidation"} {
			if v, ok := sub[extra]; ok && v != "" && v != 0.0 && v != false {
				t.Errorf("subscription %v sets %s", sub, extra)
			}
			delete(sub, extra)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subscriptions mismatch (-want +got):\n%s", diff)
	}
}

// TestTripCreatedOutcome maps what becomes of an event to the status daprd
// is answered, and logs it once.
func TestTripCreatedOutcome(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		appErr     error
		wantStatus string
		wantLog    map[string]any // the fields of the one line logged besides the message
	}{
		{
			name: "handled", body: event(validData), wantStatus: "SUCCESS",
			wantLog: map[string]any{"message": "event handled", "level": "info", "outcome": "SUCCESS", "topic": "trip-created", "eventId": "evt-1", "traceId": traceID, "tripId": exampleTrip},
		},
		{
			name: "a transient failure", body: event(validData), appErr: errors.New("assign driver: connection refused"), wantStatus: "RETRY",
			wantLog: map[string]any{
				"message": "event to be retried", "level": "warn", "outcome": "RETRY", "topic": "trip-created", "eventId": "evt-1", "traceId": traceID, "tripId": exampleTrip,
				"error": "assign driver: connection refused",
			},
		},
		{
			name: "no driver free yet", body: event(validData), appErr: fmt.Errorf("assign driver: %w", driver.ErrNoDriverFree), wantStatus: "RETRY",
			wantLog: map[string]any{
				"message": "event to be retried", "level": "warn", "outcome": "RETRY", "topic": "trip-created", "eventId": "evt-1", "traceId": traceID, "tripId": exampleTrip,
				"error": "assign driver: no driver is free",
			},
		},
		{
			name: "data violating the schema", body: event(strings.Replace(validData, `"rider-42"`, `""`, 1)), wantStatus: "DROP",
			wantLog: map[string]any{
				"message": "event dropped", "level": "error", "outcome": "DROP", "topic": "trip-created", "eventId": "evt-1", "traceId": traceID,
				"error": "invalid event: trip-created: at '/riderId': minLength: got 0, want 1",
			},
		},
		{
			name: "not a CloudEvent 1.0", body: strings.Replace(event(validData), `"specversion":"1.0"`, `"specversion":"0.3"`, 1), wantStatus: "DROP",
			wantLog: map[string]any{
				"message": "event dropped", "level": "error", "outcome": "DROP", "topic": "trip-created", "eventId": "evt-1", "traceId": traceID,
				"error": `invalid event: not a CloudEvent: specversion is "0.3", want "1.0"`,
			},
		},
		{
			name: "oversized body", body: oversized, wantStatus: "DROP",
			wantLog: map[string]any{
				"message": "event dropped", "level": "error", "outcome": "DROP", "topic": "trip-created",
				"error": "invalid event: body is larger than 65536 bytes",
			},
		},
		{
			name: "not JSON", body: `not json`, wantStatus: "DROP",
			wantLog: map[string]any{
				"message": "event dropped", "level": "error", "outcome": "DROP", "topic": "trip-created",
				"error": "invalid event: body is not a JSON CloudEvent: invalid character 'o' in literal null (expecting 'u')",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := &recordingEvents{err: tt.appErr}
			var logs bytes.Buffer
			s := dapr.NewSubscriber(zerolog.New(&logs), "pubsub", events, nil, &recordingMetrics{})

			if got := deliver(t, s.TripCreated(), tt.body); got != tt.wantStatus {
				t.Errorf("status = %s, want %s; log:\n%s", got, tt.wantStatus, &logs)
			}

			var outcomes []map[string]any
			for _, m := range []string{"event handled", "event dropped", "event to be retried"} {
				outcomes = append(outcomes, logLines(t, &logs, m)...)
			}
			if diff := cmp.Diff([]map[string]any{tt.wantLog}, outcomes); diff != "" {
				t.Errorf("outcome log mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTripCreatedDropped holds the handler to drop, without applying it,
// every event that is no valid trip-created CloudEvent.
func TestTripCreatedDropped(t *testing.T) {
	tests := map[string]string{
		"malformed JSON":              `{"specversion":"1.0","id":`,
		"empty body":                  ``,
		"two JSON values":             event(validData) + `{}`,
		"a JSON array":                `[` + event(validData) + `]`,
		"null":                        `null`,
		"bare trip, not a CloudEvent": validData,
		"specversion 0.3":             strings.Replace(event(validData), `"specversion":"1.0"`, `"specversion":"0.3"`, 1),
		"specversion a number":        strings.Replace(event(validData), `"specversion":"1.0"`, `"specversion":1.0`, 1),
		"no id":                       strings.Replace(event(validData), `"id":"evt-1",`, ``, 1),
		"empty id":                    strings.Replace(event(validData), `"id":"evt-1"`, `"id":""`, 1),
		"id a number":                 strings.Replace(event(validData), `"id":"evt-1"`, `"id":1`, 1),
		"source an object":            strings.Replace(event(validData), `"source":"trip"`, `"source":{}`, 1),
		"no data":                     `{"specversion":"1.0","id":"evt-1","source":"trip","type":"com.dapr.event.sent"}`,
		"null data":                   event(`null`),
		"data a number":               event(`42`),
		"data a string, not JSON":     event(`"not json"`),
		"data a string of a string":   event(strconv.Quote(strconv.Quote(validData))),
		// Forged: names that encoding/json alone would match in any case.
		"id only as ID":                   strings.Replace(event(validData), `"id":"evt-1"`, `"ID":"evt-1"`, 1),
		"data only as Data":               strings.Replace(event(validData), `"data":`, `"Data":`, 1),
		"tripId spelled TripId":           event(strings.Replace(validData, `"tripId"`, `"TripId"`, 1)),
		"pickup latitude spelled Lat":     event(strings.Replace(validData, `"lat":50.08`, `"Lat":50.08`, 1)),
		"missing tripId":                  event(strings.Replace(validData, `"tripId":"`+exampleTrip+`",`, ``, 1)),
		"tripId in upper case":            event(strings.Replace(validData, exampleTrip, strings.ToUpper(exampleTrip), 1)),
		"tripId a number":                 event(strings.Replace(validData, `"`+exampleTrip+`"`, `7`, 1)),
		"riderId too long":                event(strings.Replace(validData, `"rider-42"`, `"`+strings.Repeat("r", 129)+`"`, 1)),
		"pickup without lon":              event(strings.Replace(validData, `{"lat":50.08,"lon":14.42}`, `{"lat":50.08}`, 1)),
		"latitude just above 90":          event(strings.Replace(validData, `"lat":50.08`, `"lat":90.00000000000000001`, 1)),
		"latitude a string":               event(strings.Replace(validData, `"lat":50.08`, `"lat":"50.08"`, 1)),
		"latitude beyond math/big":        event(strings.Replace(validData, `"lat":50.08`, `"lat":1e-2000000`, 1)),
		"requestedAt not a date-time":     event(strings.Replace(validData, `"2026-11-27T09:30:00Z"`, `"yesterday"`, 1)),
		"requestedAt a one-digit hour":    event(strings.Replace(validData, `2026-11-27T09:30:00Z`, `2026-11-27T9:30:00Z`, 1)),
		"leap second not at UTC 23:59":    event(strings.Replace(validData, `2026-11-27T09:30:00Z`, `2026-11-27T09:59:60Z`, 1)),
		"requestedAt at offset +24:00":    event(strings.Replace(validData, `2026-11-27T09:30:00Z`, `2026-11-27T09:30:00+24:00`, 1)),
		"requestedAt on February 29th":    event(strings.Replace(validData, `2026-11-27`, `2026-02-29`, 1)),
		"data holding two JSON values":    event(strconv.Quote(validData + `{}`)),
		"requestedAt spelled RequestedAt": event(strings.Replace(validData, `"requestedAt"`, `"RequestedAt"`, 1)),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			events := &recordingEvents{}
			var logs bytes.Buffer
			s := dapr.NewSubscriber(zerolog.New(&logs), "pubsub", events, nil, &recordingMetrics{})

			if got := deliver(t, s.TripCreated(), body); got != "DROP" {
				t.Errorf("status = %s, want DROP; log:\n%s", got, &logs)
			}
			if len(events.trips) != 0 {
				t.Errorf("applied %+v, want nothing", events.trips)
			}
			dropped := logLines(t, &logs, "event dropped")
			if len(dropped) != 1 || !strings.HasPrefix(fmt.Sprint(dropped[0]["error"]), "invalid event: ") {
				t.Errorf("logged drops %v, want one with the reason", dropped)
			}
		})
	}
}

// TestTripCreatedAccepted holds the handler to apply each valid event,
// read as its data says.
func TestTripCreatedAccepted(t *testing.T) {
	example := app.TripCreated{
		TripID:      exampleTrip,
		RiderID:     "rider-42",
		Pickup:      driver.Position{Lat: 50.08, Lon: 14.42},
		Dropoff:     driver.Position{Lat: 50.1, Lon: 14.26},
		RequestedAt: requestedAt,
	}
	tests := []struct {
		name string
		body string
		want app.TripCreated
	}{
		{name: "contract example", body: string(contracttest.Example(t, app.TopicTripCreated)), want: example},
		{name: "data as a JSON string, from the outbox", body: event(strconv.Quote(validData)), want: example},
		{name: "unknown properties ignored", body: event(strings.Replace(validData, `{`, `{"promo":"SPRING","score":[1e300,{"x":null}],`, 1)), want: example},
		{name: "TRIPID besides tripId", body: event(strings.Replace(validData, `}`, `,"TRIPID":"not a uuid"}`, 1)), want: example},
		{name: "ID and Data besides id and data", body: strings.Replace(event(validData), `"id":"evt-1"`, `"ID":"","Data":null,"id":"evt-1"`, 1), want: example},
		{name: "no traceparent, source or type", body: `{"specversion":"1.0","id":"evt-1","data":` + validData + `}`, want: example},
		{
			name: "leap second",
			body: event(strings.Replace(validData, `2026-11-27T09:30:00Z`, `2016-12-31T23:59:60Z`, 1)),
			want: func() app.TripCreated {
				t := example
				t.RequestedAt = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
				return t
			}(),
		},
		{
			name: "fractional seconds and an offset",
			body: event(strings.Replace(validData, "2026-11-27T09:30:00Z", "2026-11-27T10:30:00.25+01:00", 1)),
			want: func() app.TripCreated {
				t := example
				t.RequestedAt = requestedAt.Add(250 * time.Millisecond)
				return t
			}(),
		},
		{
			name: "edge coordinates",
			body: event(strings.Replace(strings.Replace(validData, `"lat":50.08`, `"lat":-90`, 1), `"lon":14.26`, `"lon":180.0`, 1)),
			want: func() app.TripCreated { t := example; t.Pickup.Lat = -90; t.Dropoff.Lon = 180; return t }(),
		},
		{
			name: "riderId of 128 characters",
			body: event(strings.Replace(validData, `"rider-42"`, `"`+strings.Repeat("ř", 128)+`"`, 1)),
			want: func() app.TripCreated { t := example; t.RiderID = strings.Repeat("ř", 128); return t }(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := &recordingEvents{}
			var logs bytes.Buffer
			s := dapr.NewSubscriber(zerolog.New(&logs), "pubsub", events, nil, &recordingMetrics{})

			if got := deliver(t, s.TripCreated(), tt.body); got != "SUCCESS" {
				t.Fatalf("status = %s, want SUCCESS; log:\n%s", got, &logs)
			}
			if diff := cmp.Diff([]app.TripCreated{tt.want}, events.trips); diff != "" {
				t.Errorf("applied trips mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTripCreatedDuplicateIsPublishedAgainWithSameDriver(t *testing.T) {
	h := newHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)
	example := string(contracttest.Example(t, app.TopicTripCreated))

	for i := range 2 {
		if got := deliver(t, h.subscriber.TripCreated(), example); got != "SUCCESS" {
			t.Fatalf("delivery %d: status = %s, want SUCCESS", i+1, got)
		}
		if got := len(h.publisher.Published()); got != i+1 {
			t.Fatalf("after delivery %d: published %d events, want %d", i+1, got, i+1)
		}
	}

	published := h.publisher.Published()
	if diff := cmp.Diff(published[0], published[1]); diff != "" {
		t.Errorf("redelivery published a different event (-first +second):\n%s", diff)
	}
	onTrip := 0
	for _, d := range h.store.Pool() {
		if d.Status == driver.StatusOnTrip {
			onTrip++
		}
	}
	if onTrip != 1 {
		t.Errorf("%d drivers on a trip, want 1", onTrip)
	}
	assigned := logLines(t, h.logs, "driver assigned")
	if len(assigned) != 2 || assigned[0]["driverId"] != assigned[1]["driverId"] || assigned[0]["tripId"] != exampleTrip {
		t.Errorf("logged %v, want the same driver assigned to %s twice", assigned, exampleTrip)
	}
}

func TestTripCreatedRetry(t *testing.T) {
	tests := []struct {
		name    string
		harness func() *harness
	}{
		{
			name: "state store unreachable",
			harness: func() *harness {
				h := newHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)
				h.store.Err = errors.New("connection refused")
				return h
			},
		},
		{
			name: "publish fails",
			harness: func() *harness {
				h := newHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)
				h.publisher.Err = errors.New("connection refused")
				return h
			},
		},
		{
			name:    "pool not seeded yet",
			harness: func() *harness { return newHarness(requestedAt.Add(time.Second)) },
		},
		{
			name:    "no driver free before the deadline",
			harness: func() *harness { return newHarness(requestedAt.Add(30*time.Second), allBusy(t, requestedAt)...) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.harness()

			if got := deliver(t, h.subscriber.TripCreated(), string(contracttest.Example(t, app.TopicTripCreated))); got != "RETRY" {
				t.Errorf("status = %s, want RETRY; log:\n%s", got, h.logs)
			}
			if got := h.publisher.Published(); len(got) != 0 {
				t.Errorf("published %v, want nothing", got)
			}
		})
	}
}

func TestTripCreatedAfterDeadlinePublishesDriverNotFound(t *testing.T) {
	h := newHarness(requestedAt.Add(2*time.Minute), allBusy(t, requestedAt.Add(time.Minute))...)

	if got := deliver(t, h.subscriber.TripCreated(), string(contracttest.Example(t, app.TopicTripCreated))); got != "SUCCESS" {
		t.Fatalf("status = %s, want SUCCESS; log:\n%s", got, h.logs)
	}

	want := []testkit.Message{{
		Topic: app.TopicDriverNotFound,
		Event: app.DriverNotFound{
			TripID:     exampleTrip,
			RiderID:    "rider-42",
			Reason:     "no driver became free within 60s",
			ReasonCode: app.ReasonNoDriverFree,
			DecidedAt:  requestedAt.Add(2 * time.Minute),
		},
		TraceID: traceID,
	}}
	if diff := cmp.Diff(want, h.publisher.Published()); diff != "" {
		t.Errorf("published mismatch (-want +got):\n%s", diff)
	}
	if got := logLines(t, h.logs, "no driver found"); len(got) != 1 || got[0]["reason"] != "no driver became free within 60s" {
		t.Errorf("logged %v, want one line saying no driver was found, and why", got)
	}
}

func TestTripCreatedContinuesTrace(t *testing.T) {
	tests := []struct {
		name   string
		header string
		body   string
	}{
		{name: "from the CloudEvent", body: string(contracttest.Example(t, app.TopicTripCreated))},
		{name: "from the request header", header: traceParent, body: strings.Replace(event(validData), `"traceparent":"`+traceParent+`",`, ``, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)

			deliver(t, h.subscriber.TripCreated(), tt.body, "traceparent", tt.header)

			published := h.publisher.Published()
			if len(published) != 1 || published[0].TraceID != traceID {
				t.Errorf("published %+v, want one event in trace %s", published, traceID)
			}
			if handled := logLines(t, h.logs, "event handled"); len(handled) != 1 || handled[0]["traceId"] != traceID {
				t.Errorf("logged %v, want the event handled with trace id %s", handled, traceID)
			}
		})
	}
}

// TestDeliveriesAreCounted holds every handler to count each delivery once,
// by topic and the outcome it answered, and each dead letter once, when it
// is first stored.
func TestDeliveriesAreCounted(t *testing.T) {
	example := string(contracttest.Example(t, app.TopicTripCreated))
	errStore := errors.New("connection refused")
	type delivery struct {
		deadLetter bool // to the dead-letter route, else to trip-created
		body       string
	}
	tests := []struct {
		name       string
		storeErr   error
		deliveries []delivery
		want       []string
	}{
		{
			name:       "handled",
			deliveries: []delivery{{body: example}},
			want:       []string{"EventHandled(trip-created, SUCCESS)"},
		},
		{
			name:       "handled again",
			deliveries: []delivery{{body: example}, {body: example}},
			want:       []string{"EventHandled(trip-created, SUCCESS)", "EventHandled(trip-created, SUCCESS)"},
		},
		{
			name:       "to be retried",
			storeErr:   errStore,
			deliveries: []delivery{{body: example}},
			want:       []string{"EventHandled(trip-created, RETRY)"},
		},
		{
			name:       "dropped: data violating the schema",
			deliveries: []delivery{{body: poison}},
			want:       []string{"EventHandled(trip-created, DROP)"},
		},
		{
			name:       "dropped: not a CloudEvent",
			deliveries: []delivery{{body: `not json`}},
			want:       []string{"EventHandled(trip-created, DROP)"},
		},
		{
			name:       "dead letter stored",
			deliveries: []delivery{{deadLetter: true, body: poison}},
			want:       []string{"DeadLetterStored(trip-created)", "EventHandled(driver-dead-letters, SUCCESS)"},
		},
		{
			name:       "dead letter redelivered",
			deliveries: []delivery{{deadLetter: true, body: poison}, {deadLetter: true, body: poison}},
			want: []string{
				"DeadLetterStored(trip-created)", "EventHandled(driver-dead-letters, SUCCESS)",
				"EventHandled(driver-dead-letters, SUCCESS)",
			},
		},
		{
			name:       "dead letter not stored yet",
			storeErr:   errStore,
			deliveries: []delivery{{deadLetter: true, body: poison}},
			want:       []string{"EventHandled(driver-dead-letters, RETRY)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)
			h.store.Err = tt.storeErr

			for _, d := range tt.deliveries {
				handler := h.subscriber.TripCreated()
				if d.deadLetter {
					handler = h.subscriber.DeadLetter()
				}
				deliver(t, handler, d.body)
			}

			if diff := cmp.Diff(tt.want, h.metrics.counted); diff != "" {
				t.Errorf("counted mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
