package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/contracttest"
	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/httpapi"
	"github.com/ride-choreography/services/driver/internal/metrics"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

// requestedAt is when the trip of the contract example was ordered.
var requestedAt = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// timing is the test server's: a minute to find a driver, two-minute rides.
var timing = app.Timing{AssignDeadline: time.Minute, RideDuration: 2 * time.Minute}

// testServer is the HTTP handler over a real app.Service, the real
// subscription handlers and the real metrics, with recording fakes of the
// app's ports.
type testServer struct {
	handler   http.Handler
	store     *testkit.Store
	publisher *testkit.Publisher
	readiness *httpapi.Readiness
	logs      *bytes.Buffer
}

// newTestServer returns a server whose store holds drivers and whose clock
// stands at now.
func newTestServer(now time.Time, drivers ...driver.Driver) *testServer {
	s := &testServer{
		store:     testkit.NewStore(drivers...),
		publisher: &testkit.Publisher{},
		readiness: httpapi.NewReadiness(func(context.Context) error { return nil }),
		logs:      &bytes.Buffer{},
	}
	clock := func() time.Time { return now }
	m := metrics.New()
	service := app.NewService(s.store, s.publisher, m, driver.DefaultPool(), timing, clock)
	deadLetters := app.NewDeadLetterBox(s.store, clock)
	logger := zerolog.New(s.logs)
	s.handler = httpapi.NewServer(logger, httpapi.Deps{
		SidecarToken: sidecarToken,
		Drivers:      service,
		DeadLetters:  deadLetters,
		Subscriber:   dapr.NewSubscriber(logger, "pubsub", service, deadLetters, m),
		Steps:        dapr.NewSteps(logger, service),
		Readiness:    s.readiness,
		Metrics:      m.Handler(),
	})
	return s
}

// sidecarToken is the sidecar's app token in the tests (APP_API_TOKEN).
const sidecarToken = "sidecar-token-0123456789"

// fromSidecarRoute reports whether path is one the sidecar calls, with its
// token: the subscription protocol, the deliveries and the steps.
func fromSidecarRoute(path string) bool {
	return strings.HasPrefix(path, "/dapr/") || strings.HasPrefix(path, "/events/") || strings.HasPrefix(path, "/steps/")
}

// do sends a request and returns the response with its body read.
func (s *testServer) do(t *testing.T, method, path, body string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if fromSidecarRoute(path) {
		req.Header.Set("dapr-api-token", sidecarToken)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	resp := rec.Result()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

// assertProblem fails unless resp is an RFC 9457 problem with status.
func assertProblem(t *testing.T, resp *http.Response, body string, status int) problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d", resp.StatusCode, status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("body %q is not a problem: %v", body, err)
	}
	if p.Type != "about:blank" || p.Title != http.StatusText(status) || p.Status != status || p.Detail == "" {
		t.Errorf("problem = %+v, want about:blank, %q, %d and a detail", p, http.StatusText(status), status)
	}
	return p
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// TestSubscriptionRoutesAreServed asks for the subscriptions as daprd does
// at start and delivers an event to each route they name, as daprd then
// does: each is served, and answers with an event status.
func TestSubscriptionRoutesAreServed(t *testing.T) {
	s := newTestServer(requestedAt, driver.DefaultPool()...)

	resp, body := s.do(t, http.MethodGet, "/dapr/subscribe", "")

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dapr/subscribe = %d %s, want 200", resp.StatusCode, body)
	}
	var subscriptions []struct {
		Topic string `json:"topic"`
		Route string `json:"route"`
	}
	if err := json.Unmarshal([]byte(body), &subscriptions); err != nil {
		t.Fatalf("GET /dapr/subscribe body %s: %v", body, err)
	}
	var topics []string
	for _, sub := range subscriptions {
		topics = append(topics, sub.Topic)
		resp, body := s.do(t, http.MethodPost, sub.Route, `{"specversion":"1.0"}`)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, `"status":`) {
			t.Errorf("POST %s (topic %s) = %d %s %s, want 200 and an event status", sub.Route, sub.Topic, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if diff := cmp.Diff([]string{"trip-created", "driver-dead-letters"}, topics); diff != "" {
		t.Errorf("topics mismatch (-want +got):\n%s", diff)
	}
}

func TestHealthz(t *testing.T) {
	s := newTestServer(requestedAt)

	resp, body := s.do(t, http.MethodGet, "/healthz", "")

	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	testkit.Equal(t, `{"status":"ok"}`, body)
}

func TestReadyz(t *testing.T) {
	errSidecar := errors.New("sidecar health: connection refused")
	tests := []struct {
		name       string
		check      error
		start      bool
		stop       bool
		wantStatus int
		wantDetail string
	}{
		{name: "starting", wantStatus: http.StatusServiceUnavailable, wantDetail: "not ready: starting"},
		{name: "running with sidecar and store", start: true, wantStatus: http.StatusOK},
		{name: "running without sidecar", start: true, check: errSidecar, wantStatus: http.StatusServiceUnavailable, wantDetail: "not ready: the sidecar or the state store does not answer"},
		{name: "shutting down", start: true, stop: true, wantStatus: http.StatusServiceUnavailable, wantDetail: "not ready: shutting down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readiness := httpapi.NewReadiness(func(context.Context) error { return tt.check })
			handler := httpapi.NewServer(zerolog.Nop(), httpapi.Deps{Subscriber: dapr.NewSubscriber(zerolog.Nop(), "pubsub", nil, nil, metrics.New()), Steps: dapr.NewSteps(zerolog.Nop(), nil), Readiness: readiness})
			if tt.start {
				readiness.Start()
			}
			if tt.stop {
				readiness.Stop()
			}
			s := &testServer{handler: handler}

			resp, body := s.do(t, http.MethodGet, "/readyz", "")

			if tt.wantStatus == http.StatusOK {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
				}
				testkit.Equal(t, `{"status":"ready"}`, body)
				return
			}
			if p := assertProblem(t, resp, body, tt.wantStatus); p.Detail != tt.wantDetail {
				t.Errorf("detail = %q, want %q", p.Detail, tt.wantDetail)
			}
		})
	}
}

// TestMetrics scrapes the metrics as Prometheus does: they are served in
// the text format, and count the event delivered before.
func TestMetrics(t *testing.T) {
	s := newTestServer(requestedAt.Add(time.Second), driver.DefaultPool()...)
	if resp, body := s.do(t, http.MethodPost, "/events/trip-created", string(contracttest.Example(t, app.TopicTripCreated))); !strings.Contains(body, "SUCCESS") {
		t.Fatalf("delivery answered %d %s, want SUCCESS", resp.StatusCode, body)
	}

	resp, body := s.do(t, http.MethodGet, "/metrics", "")

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", ct)
	}
	for _, want := range []string{
		"\ngo_goroutines ",
		`ride_events_handled_total{outcome="SUCCESS",topic="trip-created"} 1` + "\n",
		`ride_assignments_total{outcome="driver_assigned"} 1` + "\n",
		"\nride_assignment_seconds_count 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// jardaOnTrip returns the default pool with Jarda on the example trip, on
// a ride that began at requestedAt.
func jardaOnTrip(t *testing.T) []driver.Driver {
	t.Helper()
	pool := driver.DefaultPool()
	jarda, err := pool[0].Reserve("0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", requestedAt, timing.RideDuration)
	if err != nil {
		t.Fatal(err)
	}
	pool[0] = jarda
	return pool
}

func TestListDrivers(t *testing.T) {
	s := newTestServer(requestedAt, jardaOnTrip(t)...)

	resp, body := s.do(t, http.MethodGet, "/drivers", "")

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	testkit.Equal(t, `{"drivers":[
		{"id":"jarda","name":"Jarda","car":{"make":"Toyota","model":"Corolla","color":"blue","plate":"1AB 2345"},"position":{"lat":50.0755,"lon":14.4378},"status":"on_trip","tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","busyUntil":"2026-11-27T09:32:00Z"},
		{"id":"petra","name":"Petra","car":{"make":"Skoda","model":"Octavia","color":"white","plate":"2AC 4411"},"position":{"lat":50.087,"lon":14.4208},"status":"free"},
		{"id":"tomas","name":"Tomas","car":{"make":"Hyundai","model":"i30","color":"grey","plate":"3AD 1290"},"position":{"lat":50.103,"lon":14.392},"status":"free"},
		{"id":"eva","name":"Eva","car":{"make":"Kia","model":"Ceed","color":"red","plate":"4AE 7763"},"position":{"lat":50.06,"lon":14.46},"status":"free"},
		{"id":"marek","name":"Marek","car":{"make":"Volkswagen","model":"Passat","color":"black","plate":"5AF 3057"},"position":{"lat":50.095,"lon":14.47},"status":"free"}
	]}`, body)
}

func TestListDriversShowsDriverFreeOnceTheRideEnded(t *testing.T) {
	s := newTestServer(requestedAt.Add(timing.RideDuration), jardaOnTrip(t)...)

	resp, body := s.do(t, http.MethodGet, "/drivers", "")

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
	}
	var got struct {
		Drivers []map[string]any `json:"drivers"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Drivers) != 5 {
		t.Fatalf("body %s is not the pool: %v", body, err)
	}
	first := got.Drivers[0]
	if first["id"] != "jarda" || first["status"] != "free" || first["tripId"] != nil || first["busyUntil"] != nil {
		t.Errorf("first driver = %v, want Jarda, free, with no tripId or busyUntil", first)
	}
}

func TestListDriversPage(t *testing.T) {
	tests := []struct {
		query   string
		wantIDs []string
	}{
		{query: "", wantIDs: []string{"jarda", "petra", "tomas", "eva", "marek"}},
		{query: "?limit=2", wantIDs: []string{"jarda", "petra"}},
		{query: "?offset=3", wantIDs: []string{"eva", "marek"}},
		{query: "?offset=1&limit=1", wantIDs: []string{"petra"}},
		{query: "?offset=9", wantIDs: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			s := newTestServer(requestedAt, driver.DefaultPool()...)

			resp, body := s.do(t, http.MethodGet, "/drivers"+tt.query, "")

			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
			}
			var got struct {
				Drivers []struct {
					ID string `json:"id"`
				} `json:"drivers"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || got.Drivers == nil {
				t.Fatalf("body %s is not a list of drivers: %v", body, err)
			}
			ids := []string{}
			for _, d := range got.Drivers {
				ids = append(ids, d.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("drivers mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListDriversRejectsBadPage(t *testing.T) {
	for _, query := range []string{"?limit=0", "?limit=-1", "?limit=ten", "?offset=-1", "?offset=", "?limit=1.5"} {
		t.Run(query, func(t *testing.T) {
			s := newTestServer(requestedAt, driver.DefaultPool()...)

			resp, body := s.do(t, http.MethodGet, "/drivers"+query, "")

			p := assertProblem(t, resp, body, http.StatusBadRequest)
			if !strings.Contains(p.Detail, strings.Split(strings.TrimPrefix(query, "?"), "=")[0]) {
				t.Errorf("detail %q does not name the parameter", p.Detail)
			}
		})
	}
}

func TestListDriversFails(t *testing.T) {
	tests := []struct {
		name       string
		server     func() *testServer
		wantStatus int
	}{
		{
			name:       "pool not seeded yet",
			server:     func() *testServer { return newTestServer(requestedAt) },
			wantStatus: http.StatusServiceUnavailable,
		},
		{
			name: "store unreachable",
			server: func() *testServer {
				s := newTestServer(requestedAt, driver.DefaultPool()...)
				s.store.Err = errors.New("connection refused")
				return s
			},
			wantStatus: http.StatusInternalServerError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.server().do(t, http.MethodGet, "/drivers", "")

			p := assertProblem(t, resp, body, tt.wantStatus)
			if strings.Contains(p.Detail, "connection refused") {
				t.Errorf("detail %q leaks an internal error", p.Detail)
			}
		})
	}
}

func TestUnknownRoutes(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
	}{
		{method: http.MethodGet, path: "/nope", wantStatus: http.StatusNotFound},
		{method: http.MethodGet, path: "/drivers/jarda", wantStatus: http.StatusNotFound},
		{method: http.MethodPost, path: "/drivers", wantStatus: http.StatusMethodNotAllowed},
		{method: http.MethodGet, path: "/events/trip-created", wantStatus: http.StatusMethodNotAllowed},
		{method: http.MethodDelete, path: "/healthz", wantStatus: http.StatusMethodNotAllowed},
		{method: http.MethodPost, path: "/metrics", wantStatus: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			s := newTestServer(requestedAt, driver.DefaultPool()...)

			resp, body := s.do(t, tt.method, tt.path, "")

			assertProblem(t, resp, body, tt.wantStatus)
		})
	}
}

// TestRequestFailuresAreLoggedOnce: a failed request is logged once, at
// info when the client erred and at error when the service did.
func TestRequestFailuresAreLoggedOnce(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		storeErr  error
		wantLevel string
	}{
		{name: "bad page", path: "/drivers?limit=0", wantLevel: "info"},
		{name: "no such route", path: "/nope", wantLevel: "info"},
		{name: "store unreachable", path: "/drivers", storeErr: errors.New("connection refused"), wantLevel: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(requestedAt, driver.DefaultPool()...)
			s.store.Err = tt.storeErr

			s.do(t, http.MethodGet, tt.path, "")

			var levels []string
			for _, entry := range testkit.Lines(t, s.logs.String()) {
				if path, _ := entry["path"].(string); entry["message"] == "request failed" && path != "" {
					level, _ := entry["level"].(string)
					levels = append(levels, level)
				}
			}
			if diff := cmp.Diff([]string{tt.wantLevel}, levels); diff != "" {
				t.Errorf("levels of the request failed lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListDriversBeforeThePoolIsSeededSaysWhenToRetry(t *testing.T) {
	s := newTestServer(requestedAt)

	resp, body := s.do(t, http.MethodGet, "/drivers", "")

	assertProblem(t, resp, body, http.StatusServiceUnavailable)
	if got := resp.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
}
