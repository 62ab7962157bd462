package httpapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/app/apptest"
	"github.com/ride-choreography/services/driver/internal/driver"
)

const (
	examplesDir = "../../../../contracts/examples"
	exampleTrip = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
	traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	validData   = `{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26},"requestedAt":"2026-11-27T09:30:00Z"}`
)

// event returns a trip-created CloudEvent, as daprd delivers it, with data.
func event(data string) string {
	return `{"specversion":"1.0","id":"evt-1","source":"trip","type":"com.dapr.event.sent",` +
		`"datacontenttype":"application/json","topic":"trip-created","pubsubname":"pubsub",` +
		`"traceparent":"` + traceParent + `","data":` + data + `}`
}

func readExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(examplesDir + "/" + name)
	if err != nil {
		t.Fatalf("read example: %v", err)
	}
	return string(b)
}

// postEvent delivers body to the trip-created route as daprd does and
// returns the event status the service answered.
func (s *testServer) postEvent(t *testing.T, body string) string {
	t.Helper()
	return s.deliver(t, "/events/trip-created", body)
}

// deliver posts body to a subscription route as daprd does and returns the
// event status the service answered.
func (s *testServer) deliver(t *testing.T, route, body string) string {
	t.Helper()
	resp, respBody := s.do(t, http.MethodPost, route, body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HTTP status = %d, want 200 whatever the outcome", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var answer struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(respBody), &answer); err != nil {
		t.Fatalf("answer %q is not JSON: %v", respBody, err)
	}
	return answer.Status
}

func TestTripCreated(t *testing.T) {
	oversized := event(validData)
	oversized = oversized[:len(oversized)-1] + `,"padding":"` + strings.Repeat("x", 64<<10) + `"}`

	tests := []struct {
		name          string
		body          string
		wantStatus    string
		wantPublished int
	}{
		{name: "contract example", body: readExample(t, "trip-created.json"), wantStatus: "SUCCESS", wantPublished: 1},
		{name: "data as a JSON string, from the outbox", body: event(strconv.Quote(validData)), wantStatus: "SUCCESS", wantPublished: 1},
		{name: "unknown properties are ignored", body: event(strings.Replace(validData, `{`, `{"promo":"SPRING",`, 1)), wantStatus: "SUCCESS", wantPublished: 1},
		{name: "fractional seconds and an offset", body: event(strings.Replace(validData, "2026-11-27T09:30:00Z", "2026-11-27T10:30:00.25+01:00", 1)), wantStatus: "SUCCESS", wantPublished: 1},

		{name: "malformed JSON", body: `{"specversion":"1.0","id":`, wantStatus: "DROP"},
		{name: "empty body", body: ``, wantStatus: "DROP"},
		{name: "two JSON values", body: event(validData) + `{}`, wantStatus: "DROP"},
		{name: "oversized body", body: oversized, wantStatus: "DROP"},
		{name: "bare trip, not a CloudEvent", body: validData, wantStatus: "DROP"},
		{name: "JSON array", body: `[` + event(validData) + `]`, wantStatus: "DROP"},
		{name: "wrong specversion", body: strings.Replace(event(validData), `"specversion":"1.0"`, `"specversion":"0.3"`, 1), wantStatus: "DROP"},
		{name: "no id", body: strings.Replace(event(validData), `"id":"evt-1",`, ``, 1), wantStatus: "DROP"},
		{name: "no data", body: `{"specversion":"1.0","id":"evt-1","source":"trip","type":"com.dapr.event.sent"}`, wantStatus: "DROP"},
		{name: "null data", body: event(`null`), wantStatus: "DROP"},
		{name: "data is a number", body: event(`42`), wantStatus: "DROP"},
		{name: "data string is not JSON", body: event(`"not json"`), wantStatus: "DROP"},
		{name: "missing tripId", body: event(strings.Replace(validData, `"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10",`, ``, 1)), wantStatus: "DROP"},
		{name: "tripId not a UUID", body: event(strings.Replace(validData, exampleTrip, "trip-1", 1)), wantStatus: "DROP"},
		{name: "tripId in upper case", body: event(strings.Replace(validData, exampleTrip, strings.ToUpper(exampleTrip), 1)), wantStatus: "DROP"},
		{name: "tripId is a number", body: event(strings.Replace(validData, `"`+exampleTrip+`"`, `7`, 1)), wantStatus: "DROP"},
		{name: "empty riderId", body: event(strings.Replace(validData, `"rider-42"`, `""`, 1)), wantStatus: "DROP"},
		{name: "riderId too long", body: event(strings.Replace(validData, `"rider-42"`, `"`+strings.Repeat("r", 129)+`"`, 1)), wantStatus: "DROP"},
		{name: "missing pickup", body: event(strings.Replace(validData, `"pickup":{"lat":50.08,"lon":14.42},`, ``, 1)), wantStatus: "DROP"},
		{name: "pickup without lon", body: event(strings.Replace(validData, `{"lat":50.08,"lon":14.42}`, `{"lat":50.08}`, 1)), wantStatus: "DROP"},
		{name: "pickup latitude above 90", body: event(strings.Replace(validData, `"lat":50.08`, `"lat":90.5`, 1)), wantStatus: "DROP"},
		{name: "dropoff longitude below -180", body: event(strings.Replace(validData, `"lon":14.26`, `"lon":-180.5`, 1)), wantStatus: "DROP"},
		{name: "latitude as a string", body: event(strings.Replace(validData, `"lat":50.08`, `"lat":"50.08"`, 1)), wantStatus: "DROP"},
		{name: "requestedAt not a date-time", body: event(strings.Replace(validData, `"2026-11-27T09:30:00Z"`, `"yesterday"`, 1)), wantStatus: "DROP"},
		{name: "missing requestedAt", body: event(strings.Replace(validData, `,"requestedAt":"2026-11-27T09:30:00Z"`, ``, 1)), wantStatus: "DROP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(requestedAt.Add(time.Second), driver.DefaultPool()...)

			if got := s.postEvent(t, tt.body); got != tt.wantStatus {
				t.Errorf("status = %s, want %s; log:\n%s", got, tt.wantStatus, s.logs)
			}
			if got := len(s.publisher.Published()); got != tt.wantPublished {
				t.Errorf("published %d events, want %d", got, tt.wantPublished)
			}
		})
	}
}

func TestTripCreatedDuplicateIsPublishedAgainWithSameDriver(t *testing.T) {
	s := newTestServer(requestedAt.Add(time.Second), driver.DefaultPool()...)
	example := readExample(t, "trip-created.json")

	for i := range 2 {
		if got := s.postEvent(t, example); got != "SUCCESS" {
			t.Fatalf("delivery %d: status = %s, want SUCCESS", i+1, got)
		}
		if got := len(s.publisher.Published()); got != i+1 {
			t.Fatalf("after delivery %d: published %d events, want %d", i+1, got, i+1)
		}
	}

	published := s.publisher.Published()
	if diff := cmp.Diff(published[0], published[1]); diff != "" {
		t.Errorf("redelivery published a different event (-first +second):\n%s", diff)
	}
	onTrip := 0
	for _, d := range s.store.Pool() {
		if d.Status == driver.StatusOnTrip {
			onTrip++
		}
	}
	if onTrip != 1 {
		t.Errorf("%d drivers on a trip, want 1", onTrip)
	}
}

func TestTripCreatedRetry(t *testing.T) {
	tests := []struct {
		name   string
		server func() *testServer
	}{
		{
			name: "state store unreachable",
			server: func() *testServer {
				s := newTestServer(requestedAt.Add(time.Second), driver.DefaultPool()...)
				s.store.Err = errors.New("connection refused")
				return s
			},
		},
		{
			name: "publish fails",
			server: func() *testServer {
				s := newTestServer(requestedAt.Add(time.Second), driver.DefaultPool()...)
				s.publisher.Err = errors.New("connection refused")
				return s
			},
		},
		{
			name:   "pool not seeded yet",
			server: func() *testServer { return newTestServer(requestedAt.Add(time.Second)) },
		},
		{
			name:   "no driver free before the deadline",
			server: func() *testServer { return newTestServer(requestedAt.Add(30*time.Second), allBusy(t, requestedAt)...) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.server()

			if got := s.postEvent(t, readExample(t, "trip-created.json")); got != "RETRY" {
				t.Errorf("status = %s, want RETRY; log:\n%s", got, s.logs)
			}
			if got := s.publisher.Published(); len(got) != 0 {
				t.Errorf("published %v, want nothing", got)
			}
		})
	}
}

func TestTripCreatedAfterDeadlinePublishesDriverNotFound(t *testing.T) {
	s := newTestServer(requestedAt.Add(2*time.Minute), allBusy(t, requestedAt.Add(time.Minute))...)

	if got := s.postEvent(t, readExample(t, "trip-created.json")); got != "SUCCESS" {
		t.Fatalf("status = %s, want SUCCESS; log:\n%s", got, s.logs)
	}

	want := []apptest.Message{{
		Topic: app.TopicDriverNotFound,
		Event: app.DriverNotFound{
			TripID:    exampleTrip,
			RiderID:   "rider-42",
			Reason:    "no driver became free within 60s",
			DecidedAt: requestedAt.Add(2 * time.Minute),
		},
		TraceParent: traceParent,
	}}
	if diff := cmp.Diff(want, s.publisher.Published()); diff != "" {
		t.Errorf("published mismatch (-want +got):\n%s", diff)
	}
}

func TestTripCreatedContinuesTrace(t *testing.T) {
	tests := []struct {
		name   string
		header string
		body   string
	}{
		{name: "from the CloudEvent", body: readExample(t, "trip-created.json")},
		{name: "from the request header", header: traceParent, body: strings.Replace(event(validData), `"traceparent":"`+traceParent+`",`, ``, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(requestedAt.Add(time.Second), driver.DefaultPool()...)
			req := httptest.NewRequest(http.MethodPost, "/events/trip-created", strings.NewReader(tt.body))
			if tt.header != "" {
				req.Header.Set("traceparent", tt.header)
			}

			s.handler.ServeHTTP(httptest.NewRecorder(), req)

			published := s.publisher.Published()
			if len(published) != 1 || published[0].TraceParent != traceParent {
				t.Errorf("published %+v, want one event with traceparent %s", published, traceParent)
			}
		})
	}
}

func TestTripCreatedLogsEveryDropAndRetryOnce(t *testing.T) {
	tests := []struct {
		name   string
		server func() *testServer
		body   string
		want   map[string]any
	}{
		{
			name:   "drop",
			server: func() *testServer { return newTestServer(requestedAt, driver.DefaultPool()...) },
			body:   event(strings.Replace(validData, `"lat":50.08`, `"lat":91`, 1)),
			want: map[string]any{
				"level": "warn", "status": "DROP", "topic": "trip-created", "eventId": "evt-1",
				"tripId": exampleTrip, "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
				"error": "invalid event: pickup: invalid position: latitude 91 is outside [-90, 90]",
			},
		},
		{
			name: "retry",
			server: func() *testServer {
				s := newTestServer(requestedAt, driver.DefaultPool()...)
				s.store.Err = errors.New("connection refused")
				return s
			},
			body: event(validData),
			want: map[string]any{
				"level": "warn", "status": "RETRY", "topic": "trip-created", "eventId": "evt-1",
				"tripId": exampleTrip, "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
				"error": "assign driver to trip " + exampleTrip + ": connection refused",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.server()

			s.postEvent(t, tt.body)

			lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1:\n%s", len(lines), s.logs)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
				t.Fatalf("log line is not JSON: %v", err)
			}
			delete(got, "message")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("log mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
