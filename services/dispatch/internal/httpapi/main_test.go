package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/auth"
	"github.com/ride-choreography/services/dispatch/internal/auth/authtest"
	"github.com/ride-choreography/services/dispatch/internal/dapr"
	"github.com/ride-choreography/services/dispatch/internal/dispatch"
	"github.com/ride-choreography/services/dispatch/internal/httpapi"
	"github.com/ride-choreography/services/dispatch/internal/metrics"
	"github.com/ride-choreography/services/dispatch/internal/testkit"
)

const (
	riderID = "rider-42"
	tripID  = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
)

var now = time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)

// fakeStore is an in-memory app.Store that checks ETags like the real one.
type fakeStore struct {
	mu           sync.Mutex
	trips        map[string]dispatch.Trip
	tripVersions map[string]int
	board        dispatch.Board
	boardVersion int
	failWith     error
}

func newFakeStore() *fakeStore {
	return &fakeStore{trips: map[string]dispatch.Trip{}, tripVersions: map[string]int{}, board: dispatch.NewBoard()}
}

func (s *fakeStore) LoadTrip(_ context.Context, tripID string) (dispatch.Trip, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return dispatch.Trip{}, "", s.failWith
	}
	t, ok := s.trips[tripID]
	if !ok {
		t = dispatch.Trip{ID: tripID}
	}
	return t, strconv.Itoa(s.tripVersions[tripID]), nil
}

func (s *fakeStore) SaveTrip(_ context.Context, t dispatch.Trip, etag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return s.failWith
	}
	if etag != strconv.Itoa(s.tripVersions[t.ID]) {
		return fmt.Errorf("etag %s: %w", etag, app.ErrConflict)
	}
	s.trips[t.ID] = t
	s.tripVersions[t.ID]++
	return nil
}

func (s *fakeStore) LoadBoard(context.Context) (dispatch.Board, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return dispatch.Board{}, "", s.failWith
	}
	return s.board.Clone(), strconv.Itoa(s.boardVersion), nil
}

func (s *fakeStore) SaveBoard(_ context.Context, b dispatch.Board, etag string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return "", s.failWith
	}
	if etag != strconv.Itoa(s.boardVersion) {
		return "", fmt.Errorf("etag %s: %w", etag, app.ErrConflict)
	}
	s.board = b.Clone()
	s.boardVersion++
	return strconv.Itoa(s.boardVersion), nil
}

func (s *fakeStore) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = err
}

// fakeDeadLetterStore is an in-memory app.DeadLetterStore that checks
// versions like the real one.
type fakeDeadLetterStore struct {
	mu       sync.Mutex
	box      app.DeadLetters
	version  int
	failWith error
}

func (s *fakeDeadLetterStore) Load(context.Context) (app.DeadLetters, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return app.DeadLetters{}, "", s.failWith
	}
	return s.box, strconv.Itoa(s.version), nil
}

func (s *fakeDeadLetterStore) Save(_ context.Context, box app.DeadLetters, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return s.failWith
	}
	if version != strconv.Itoa(s.version) {
		return fmt.Errorf("version %s: %w", version, app.ErrConflict)
	}
	s.box = box
	s.version++
	return nil
}

func (s *fakeDeadLetterStore) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = err
}

// testServer is the HTTP API on an app.Service and an app.DeadLetterBox on
// fake stores, with the real subscriptions (dapr.Subscriber) on its routes
// and the real metrics (metrics.Metrics) counting for both.
type testServer struct {
	handler         http.Handler
	store           *fakeStore
	deadLetterStore *fakeDeadLetterStore
	svc             *app.Service
	logs            *testkit.Buffer
	readiness       *httpapi.Readiness
	issuer          *authtest.Issuer // of the dispatchers' tokens
}

// newTestServer returns a server that is ready, polls every 20 ms, and
// has the given changes to its dependencies.
func newTestServer(t testing.TB, changes ...func(*httpapi.Deps)) *testServer {
	t.Helper()
	ts := &testServer{
		store:           newFakeStore(),
		deadLetterStore: &fakeDeadLetterStore{},
		logs:            &testkit.Buffer{},
		issuer:          authtest.New(t),
	}
	logger := zerolog.New(ts.logs)
	clock := func() time.Time { return now }
	m := metrics.New()
	ts.svc = app.NewService(ts.store, m, clock, logger)
	deadLetters := app.NewDeadLetterBox(ts.deadLetterStore, clock)
	deps := httpapi.Deps{
		SidecarToken: sidecarToken,
		Auth:         auth.New(context.Background(), ts.issuer.URL, authtest.Audience, ts.issuer.JWKSURL()),
		SecureCookie: true,
		Board:        ts.svc,
		DeadLetters:  deadLetters,
		Subscriber:   dapr.NewSubscriber(logger, "pubsub", ts.svc, deadLetters, m),
		Readiness:    started(func(context.Context) error { return nil }),
		Metrics:      m.Handler(),
		PollInterval: 20 * time.Millisecond,
	}
	for _, change := range changes {
		change(&deps)
	}
	ts.readiness = deps.Readiness
	ts.handler = httpapi.NewServer(logger, deps)
	return ts
}

// started returns a Readiness that has started, checking with check.
func started(check func(context.Context) error) *httpapi.Readiness {
	r := httpapi.NewReadiness(check)
	r.Start()
	return r
}

// dispatcher is the dispatcher of the tests' tokens.
const dispatcher = "dispatcher-1"

// do serves one request and returns the response; a request for the board
// or the page comes with a dispatcher's bearer token.
func (ts *testServer) do(t testing.TB, method, path string, body []byte) *http.Response {
	t.Helper()
	authorization := ""
	if path == "/" || strings.HasPrefix(path, "/board") {
		authorization = "Bearer " + ts.issuer.DispatcherToken(t, dispatcher)
	}
	return ts.doAs(t, method, path, body, authorization)
}

// doAs serves one request with the Authorization header authorization
// ("" for none) and returns the response.
func (ts *testServer) doAs(t testing.TB, method, path string, body []byte, authorization string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/cloudevents+json")
	}
	if fromSidecarRoute(path) {
		req.Header.Set("dapr-api-token", sidecarToken)
	}
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	return rec.Result()
}

// sidecarToken is the sidecar's app token in the tests (APP_API_TOKEN).
const sidecarToken = "sidecar-token-0123456789"

// fromSidecarRoute reports whether path is one the sidecar calls, with its
// token: the subscription protocol and the deliveries.
func fromSidecarRoute(path string) bool {
	return strings.HasPrefix(path, "/dapr/") || strings.HasPrefix(path, "/events/")
}

// deliver posts a CloudEvent to the topic's route, as the sidecar does,
// and returns the status the handler answered.
func (ts *testServer) deliver(t testing.TB, topic string, body []byte) string {
	t.Helper()
	resp := ts.do(t, http.MethodPost, "/events/"+topic, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /events/%s: HTTP status %d, want 200", topic, resp.StatusCode)
	}
	var got struct{ Status string }
	decodeBody(t, resp, "application/json", &got)
	return got.Status
}

func decodeBody(t testing.TB, resp *http.Response, contentType string, v any) {
	t.Helper()
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type = %q, want %q", got, contentType)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
}

// problem is an RFC 9457 problem details body.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}
