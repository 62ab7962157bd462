package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/auth"
	"github.com/ride-choreography/services/trip/internal/trip"
)

const tripID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"

var requestedAt = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// fakeTrips records the orders it receives.
type fakeTrips struct {
	orders   []trip.Order
	keys     []string
	orderErr error
	trips    map[string]trip.Trip
	getErr   error
}

func (f *fakeTrips) Order(_ context.Context, o trip.Order, key string) (trip.Trip, bool, error) {
	if f.orderErr != nil {
		return trip.Trip{}, false, f.orderErr
	}
	if err := o.Validate(); err != nil {
		return trip.Trip{}, false, err
	}
	f.orders = append(f.orders, o)
	f.keys = append(f.keys, key)
	return trip.Trip{ID: tripID, RiderID: o.RiderID, Pickup: o.Pickup, Dropoff: o.Dropoff,
		Status: trip.StatusRequested, RequestedAt: requestedAt, UpdatedAt: requestedAt}, key == "replay", nil
}

func (f *fakeTrips) Trip(_ context.Context, id string) (trip.Trip, error) {
	if f.getErr != nil {
		return trip.Trip{}, f.getErr
	}
	t, ok := f.trips[id]
	if !ok {
		return trip.Trip{}, trip.ErrNotFound
	}
	return t, nil
}

// stubSubscriber stands in for the Dapr subscription routes.
type stubSubscriber struct{}

func (stubSubscriber) Subscriptions() http.Handler  { return http.NotFoundHandler() }
func (stubSubscriber) TripCreated() http.Handler    { return http.NotFoundHandler() }
func (stubSubscriber) DriverAssigned() http.Handler { return http.NotFoundHandler() }
func (stubSubscriber) DriverNotFound() http.Handler { return http.NotFoundHandler() }
func (stubSubscriber) DeadLetter() http.Handler     { return http.NotFoundHandler() }

// fakeDeadLetters lists a fixed box.
type fakeDeadLetters struct {
	box app.DeadLetters
	err error
}

func (f fakeDeadLetters) List(context.Context) (app.DeadLetters, error) { return f.box, f.err }

func newTestServer(trips Trips, ready func(context.Context) error) http.Handler {
	if ready == nil {
		ready = func(context.Context) error { return nil }
	}
	readiness := NewReadiness(ready)
	readiness.Start()
	return NewServer(zerolog.Nop(), Deps{Auth: fakeAuth{}, OrderLimit: OrderLimit{PerMinute: 600, Burst: 100}, Trips: trips, DeadLetters: fakeDeadLetters{}, Subscriber: stubSubscriber{}, Readiness: readiness, Metrics: stubMetrics})
}

// metricsText is what stubMetrics serves.
const metricsText = "# TYPE ride_trips_ordered_total counter\nride_trips_ordered_total 7\n"

// stubMetrics stands in for the metrics handler.
var stubMetrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	io.WriteString(w, metricsText)
})

// fakeAuth takes "Bearer rider-…" for that rider and "Bearer expired" for
// an expired token: the real verifier has tests of its own
// (internal/auth).
type fakeAuth struct{}

func (fakeAuth) Subject(_ context.Context, authorization string) (string, error) {
	switch token, _ := strings.CutPrefix(authorization, "Bearer "); {
	case authorization == "":
		return "", auth.ErrNoToken
	case token == "expired":
		return "", auth.ErrExpired
	case token == "unavailable":
		return "", auth.ErrUnavailable
	case strings.HasPrefix(token, "rider-"):
		return token, nil
	}
	return "", auth.ErrInvalid
}

// do serves a request, as rider-42 unless header sets Authorization.
func do(h http.Handler, method, path, contentType, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer rider-42")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Authorization" {
			req.Header.Del("Authorization")
		}
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const validOrder = `{"riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}}`

func TestCreateTrip(t *testing.T) {
	trips := &fakeTrips{}
	rec := do(newTestServer(trips, nil), http.MethodPost, "/trips", "application/json; charset=utf-8", validOrder)

	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Location"); got != "/trips/"+tripID {
		t.Errorf("Location = %q", got)
	}
	got := decodeObject(t, rec)
	want := map[string]any{
		"tripId": tripID, "riderId": "rider-42", "status": "requested",
		"pickup": map[string]any{"lat": 50.08, "lon": 14.42}, "dropoff": map[string]any{"lat": 50.1, "lon": 14.26},
		"requestedAt": "2026-11-27T09:30:00Z", "updatedAt": "2026-11-27T09:30:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	wantOrders := []trip.Order{{RiderID: "rider-42", Pickup: trip.Point{Lat: 50.08, Lon: 14.42}, Dropoff: trip.Point{Lat: 50.1, Lon: 14.26}}}
	if diff := cmp.Diff(wantOrders, trips.orders); diff != "" {
		t.Errorf("orders (-want +got):\n%s", diff)
	}
}

func TestCreateTripIdempotencyKey(t *testing.T) {
	trips := &fakeTrips{}
	h := newTestServer(trips, nil)
	rec := do(h, http.MethodPost, "/trips", "application/json", validOrder, "Idempotency-Key", "replay")
	if rec.Code != http.StatusAccepted || rec.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed order: status %d, Idempotent-Replayed %q", rec.Code, rec.Header().Get("Idempotent-Replayed"))
	}
	if diff := cmp.Diff([]string{"replay"}, trips.keys); diff != "" {
		t.Errorf("keys passed to the app (-want +got):\n%s", diff)
	}
}

// TestCreateTripBadInput: every bad request gets a 4xx problem and places
// no order.
func TestCreateTripBadInput(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		header      []string
		wantStatus  int
		wantDetail  string
		wantParams  []invalidParam
	}{
		{name: "malformed JSON", body: `{"riderId":`, wantStatus: 400, wantDetail: "malformed JSON: the body ends too early"},
		{name: "not JSON", body: `riderId=1`, wantStatus: 400, wantDetail: "malformed JSON at byte 1"},
		{name: "empty body", body: ``, wantStatus: 400, wantDetail: "the body is empty; send a JSON object"},
		{name: "array", body: `[]`, wantStatus: 400, wantDetail: "the body must be a JSON object"},
		{name: "two objects", body: validOrder + validOrder, wantStatus: 400, wantDetail: "the body must hold a single JSON object"},
		{name: "unknown field", body: `{"riderId":"rider-42","pickup":{"lat":1,"lon":1},"dropoff":{"lat":1,"lon":1},"tip":5}`, wantStatus: 400, wantDetail: `unknown field "tip"`},
		{name: "unknown nested field", body: `{"riderId":"rider-42","pickup":{"lat":1,"lon":1,"alt":3},"dropoff":{"lat":1,"lon":1}}`, wantStatus: 400, wantDetail: `unknown field "alt"`},
		{name: "field name in another case", body: `{"RiderId":"r","pickup":{"lat":1,"lon":1},"dropoff":{"lat":1,"lon":1}}`, wantStatus: 400, wantDetail: `unknown field "RiderId"`},
		{name: "nested field name in another case", body: `{"riderId":"rider-42","pickup":{"LAT":1,"lon":1},"dropoff":{"lat":1,"lon":1}}`, wantStatus: 400, wantDetail: `unknown field "LAT"`},
		{name: "wrong type", body: `{"riderId":7,"pickup":{"lat":1,"lon":1},"dropoff":{"lat":1,"lon":1}}`, wantStatus: 400, wantDetail: "field riderId must be a string"},
		{name: "missing everything", body: `{}`, wantStatus: 400, wantDetail: "the order is invalid; see invalidParams",
			wantParams: []invalidParam{{"pickup", "is required"}, {"dropoff", "is required"}}},
		{name: "missing coordinates", body: `{"riderId":"rider-42","pickup":{"lat":1},"dropoff":{"lon":1}}`, wantStatus: 400, wantDetail: "the order is invalid; see invalidParams",
			wantParams: []invalidParam{{"pickup.lon", "is required"}, {"dropoff.lat", "is required"}}},
		{name: "empty rider", body: `{"riderId":"","pickup":{"lat":1,"lon":1},"dropoff":{"lat":1,"lon":1}}`, wantStatus: 403, wantDetail: "riderId must be the rider your token names, or be left out"},
		{name: "another rider", body: `{"riderId":"rider-43","pickup":{"lat":1,"lon":1},"dropoff":{"lat":1,"lon":1}}`, wantStatus: 403, wantDetail: "riderId must be the rider your token names, or be left out"},
		{name: "no token", body: validOrder, header: []string{"Authorization", ""}, wantStatus: 401, wantDetail: auth.ErrNoToken.Error()},
		{name: "basic credentials", body: validOrder, header: []string{"Authorization", "Basic cmlkZXI6cGFzcw=="}, wantStatus: 401, wantDetail: auth.ErrInvalid.Error()},
		{name: "forged token", body: validOrder, header: []string{"Authorization", "Bearer forged"}, wantStatus: 401, wantDetail: auth.ErrInvalid.Error()},
		{name: "expired token", body: validOrder, header: []string{"Authorization", "Bearer expired"}, wantStatus: 401, wantDetail: auth.ErrExpired.Error()},
		{name: "two tokens", body: validOrder, header: []string{"Authorization", "Bearer rider-42", "Authorization", "Bearer rider-43"}, wantStatus: 400, wantDetail: "send one Authorization header, not several"},
		{name: "issuer out of reach", body: validOrder, header: []string{"Authorization", "Bearer unavailable"}, wantStatus: 503, wantDetail: "the service cannot check bearer tokens right now; retry shortly"},
		{name: "out of range", body: `{"riderId":"rider-42","pickup":{"lat":91,"lon":14},"dropoff":{"lat":50,"lon":-180.5}}`, wantStatus: 400, wantDetail: "the order is invalid; see invalidParams",
			wantParams: []invalidParam{{"pickup.lat", "must be between -90 and 90"}, {"dropoff.lon", "must be between -180 and 180"}}},
		{name: "oversized body", body: `{"riderId":"` + strings.Repeat("a", 64<<10) + `"}`, wantStatus: 413, wantDetail: "the body must be at most 65536 bytes"},
		{name: "text/plain", contentType: "text/plain", body: validOrder, wantStatus: 415, wantDetail: "Content-Type must be application/json"},
		{name: "no content type", contentType: "-", body: validOrder, wantStatus: 415, wantDetail: "Content-Type must be application/json"},
		{name: "empty idempotency key", body: validOrder, header: []string{"Idempotency-Key", ""}, wantStatus: 400, wantDetail: "Idempotency-Key must be 1 to 255 characters"},
		{name: "long idempotency key", body: validOrder, header: []string{"Idempotency-Key", strings.Repeat("k", 256)}, wantStatus: 400, wantDetail: "Idempotency-Key must be 1 to 255 characters"},
		{name: "idempotency key with space", body: validOrder, header: []string{"Idempotency-Key", "a b"}, wantStatus: 400, wantDetail: "Idempotency-Key must be visible ASCII characters"},
		{name: "two idempotency keys", body: validOrder, header: []string{"Idempotency-Key", "a", "Idempotency-Key", "b"}, wantStatus: 400, wantDetail: "send one Idempotency-Key header, not several"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trips := &fakeTrips{}
			contentType := tt.contentType
			switch contentType {
			case "":
				contentType = "application/json"
			case "-":
				contentType = ""
			}
			rec := do(newTestServer(trips, nil), http.MethodPost, "/trips", contentType, tt.body, tt.header...)
			got := decodeProblem(t, rec)
			want := problem{Type: "about:blank", Title: http.StatusText(tt.wantStatus), Status: tt.wantStatus,
				Detail: tt.wantDetail, Instance: "/trips", InvalidParams: tt.wantParams}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problem (-want +got):\n%s", diff)
			}
			if len(trips.orders) != 0 {
				t.Errorf("bad input placed %d orders", len(trips.orders))
			}
		})
	}
}

// TestProblems: a request the app refuses or cannot serve, or that names
// no trip or no route, gets a problem with the status and type that say why.
func TestProblems(t *testing.T) {
	tests := []struct {
		name       string
		trips      fakeTrips
		method     string
		path       string
		wantStatus int
		wantType   string
	}{
		{name: "order: key reused", trips: fakeTrips{orderErr: app.ErrIdempotencyKeyReused}, method: http.MethodPost, path: "/trips", wantStatus: http.StatusUnprocessableEntity, wantType: "about:blank"},
		{name: "order: store down", trips: fakeTrips{orderErr: errors.New("rpc error: code = Unavailable")}, method: http.MethodPost, path: "/trips", wantStatus: http.StatusServiceUnavailable, wantType: "about:blank"},
		{name: "order: publish cut off", trips: fakeTrips{orderErr: fmt.Errorf("announce trip: %w", app.ErrOutcomeUnknown)}, method: http.MethodPost, path: "/trips", wantStatus: http.StatusServiceUnavailable, wantType: problemOutcomeUnknown},
		{name: "get: unknown id", method: http.MethodGet, path: "/trips/" + tripID, wantStatus: http.StatusNotFound, wantType: "about:blank"},
		{name: "get: not a uuid", method: http.MethodGet, path: "/trips/not-a-uuid", wantStatus: http.StatusBadRequest, wantType: "about:blank"},
		{name: "get: uppercase uuid", method: http.MethodGet, path: "/trips/" + strings.ToUpper(tripID), wantStatus: http.StatusBadRequest, wantType: "about:blank"},
		{name: "get: store down", trips: fakeTrips{getErr: errors.New("unavailable")}, method: http.MethodGet, path: "/trips/" + tripID, wantStatus: http.StatusServiceUnavailable, wantType: "about:blank"},
		{name: "no such route", method: http.MethodGet, path: "/trips/" + tripID + "/cancel", wantStatus: http.StatusNotFound, wantType: "about:blank"},
		{name: "method not allowed", method: http.MethodDelete, path: "/trips", wantStatus: http.StatusMethodNotAllowed, wantType: "about:blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contentType, body := "", ""
			if tt.method == http.MethodPost {
				contentType, body = "application/json", validOrder
			}
			rec := do(newTestServer(&tt.trips, nil), tt.method, tt.path, contentType, body)
			if got := decodeProblem(t, rec); got.Status != tt.wantStatus || got.Type != tt.wantType {
				t.Errorf("problem %+v, want status %d and type %s", got, tt.wantStatus, tt.wantType)
			}
		})
	}
}

func TestGetTrip(t *testing.T) {
	jarda := &trip.Driver{ID: "jarda", Name: "Jarda", Car: trip.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
	trips := &fakeTrips{trips: map[string]trip.Trip{tripID: {
		ID: tripID, RiderID: "rider-42", Status: trip.StatusDriverAssigned, Driver: jarda, ETASeconds: 240,
		RequestedAt: requestedAt, UpdatedAt: requestedAt.Add(time.Second),
	}}}
	rec := do(newTestServer(trips, nil), http.MethodGet, "/trips/"+tripID, "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", rec.Code, rec.Body)
	}
	got := decodeObject(t, rec)
	want := map[string]any{
		"tripId": tripID, "riderId": "rider-42", "status": "driver_assigned",
		"pickup": map[string]any{"lat": 0.0, "lon": 0.0}, "dropoff": map[string]any{"lat": 0.0, "lon": 0.0},
		"requestedAt": "2026-11-27T09:30:00Z", "updatedAt": "2026-11-27T09:30:01Z",
		"driver": map[string]any{"id": "jarda", "name": "Jarda",
			"car": map[string]any{"make": "Toyota", "model": "Corolla", "color": "blue", "plate": "1AB 2345"}},
		"etaSeconds": 240.0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestHealth(t *testing.T) {
	var notReady error
	h := newTestServer(&fakeTrips{}, func(context.Context) error { return notReady })

	if rec := do(h, http.MethodGet, "/healthz", "", ""); rec.Code != http.StatusOK {
		t.Errorf("/healthz = %d", rec.Code)
	}
	if rec := do(h, http.MethodGet, "/readyz", "", ""); rec.Code != http.StatusOK {
		t.Errorf("/readyz while ready = %d", rec.Code)
	}
	notReady = errors.New(`sidecar health: Get "http://127.0.0.1:3500/v1.0/healthz/outbound": dial tcp 127.0.0.1:3500: connect: connection refused`)
	rec := do(h, http.MethodGet, "/readyz", "", "")
	body := rec.Body.String()
	got := decodeProblem(t, rec)
	// What failed, in the service's words; the check's error, with its
	// addresses, is for the log only.
	if got.Status != http.StatusServiceUnavailable || got.Detail != "not ready: the sidecar or the state store does not answer" || strings.Contains(body, "127.0.0.1") || strings.Contains(body, "refused") {
		t.Errorf("/readyz while not ready = %s, want 503 saying what is not ready, without the check's error", body)
	}
}

// TestMetrics: GET /metrics is served by the metrics handler; any other
// method is refused.
func TestMetrics(t *testing.T) {
	h := newTestServer(&fakeTrips{}, nil)
	rec := do(h, http.MethodGet, "/metrics", "", "")
	if rec.Code != http.StatusOK || rec.Body.String() != metricsText {
		t.Errorf("GET /metrics = %d %q, want 200 and the metrics handler's text", rec.Code, rec.Body)
	}
	if got := decodeProblem(t, do(h, http.MethodPost, "/metrics", "", "")); got.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: status %d, want 405", got.Status)
	}
}

// decodeObject returns the JSON object rec holds, which it must declare as
// application/json.
func decodeObject(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	return got
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (status %d, body %s)", ct, rec.Code, rec.Body)
	}
	body, _ := io.ReadAll(rec.Body)
	var p problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem body %s: %v", body, err)
	}
	if p.Status != rec.Code {
		t.Errorf("problem status %d != HTTP status %d", p.Status, rec.Code)
	}
	return p
}

func TestDeadLetters(t *testing.T) {
	box := app.DeadLetters{Count: 7, Items: []app.DeadLetter{{
		ID: "e-1", Topic: "driver-assigned", ReceivedAt: requestedAt, Reason: "invalid event: driver is required",
		Event: json.RawMessage(`{"id":"e-1"}`),
	}}}
	h := NewServer(zerolog.Nop(), Deps{Trips: &fakeTrips{}, DeadLetters: fakeDeadLetters{box: box}, Subscriber: stubSubscriber{}, Readiness: NewReadiness(nil)})
	rec := do(h, http.MethodGet, "/dead-letters", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d; body %s", rec.Code, rec.Body)
	}
	want := `{"count":7,"deadLetters":[{"id":"e-1","topic":"driver-assigned","receivedAt":"2026-11-27T09:30:00Z","reason":"invalid event: driver is required","event":{"id":"e-1"}}]}` + "\n"
	if diff := cmp.Diff(want, rec.Body.String()); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}

	h = NewServer(zerolog.Nop(), Deps{Trips: &fakeTrips{}, DeadLetters: fakeDeadLetters{err: errors.New("down")}, Subscriber: stubSubscriber{}, Readiness: NewReadiness(nil)})
	if got := decodeProblem(t, do(h, http.MethodGet, "/dead-letters", "", "")); got.Status != http.StatusServiceUnavailable {
		t.Errorf("store down: status %d, want 503", got.Status)
	}
}

// TestReadinessPhases: /readyz is 503 until the service has started and
// again from the moment it shuts down, whatever the sidecar says.
func TestReadinessPhases(t *testing.T) {
	readiness := NewReadiness(func(context.Context) error { return nil })
	h := NewServer(zerolog.Nop(), Deps{Trips: &fakeTrips{}, DeadLetters: fakeDeadLetters{}, Subscriber: stubSubscriber{}, Readiness: readiness})
	for _, step := range []struct {
		name   string
		change func()
		want   int
		detail string
	}{
		{"starting", func() {}, http.StatusServiceUnavailable, "starting"},
		{"started", readiness.Start, http.StatusOK, ""},
		{"stopping", readiness.Stop, http.StatusServiceUnavailable, "shutting down"},
		{"started again after stop", readiness.Start, http.StatusServiceUnavailable, "shutting down"},
	} {
		step.change()
		rec := do(h, http.MethodGet, "/readyz", "", "")
		if rec.Code != step.want || !strings.Contains(rec.Body.String(), step.detail) {
			t.Errorf("%s: /readyz = %d %s, want %d naming %q", step.name, rec.Code, rec.Body, step.want, step.detail)
		}
	}
}

// TestTheRiderIsTheTokens: riderId may be left out of an order; the rider
// is whom the bearer token names.
func TestTheRiderIsTheTokens(t *testing.T) {
	trips := &fakeTrips{}
	body := `{"pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}}`
	rec := do(newTestServer(trips, nil), http.MethodPost, "/trips", "application/json", body, "Authorization", "Bearer rider-7")
	if rec.Code != http.StatusAccepted || len(trips.orders) != 1 || trips.orders[0].RiderID != "rider-7" {
		t.Fatalf("order without riderId: %d %s, orders %+v; want 202 for rider-7", rec.Code, rec.Body, trips.orders)
	}
}

// TestUnauthenticatedIsChallenged: a 401 says how to authenticate
// (RFC 6750), and a bad token is told apart from a missing one.
func TestUnauthenticatedIsChallenged(t *testing.T) {
	h := newTestServer(&fakeTrips{}, nil)
	for _, c := range []struct{ authorization, want string }{
		{"", `Bearer realm="ride"`},
		{"Bearer forged", `Bearer realm="ride", error="invalid_token", error_description="the bearer token is not valid here"`},
		{"Bearer expired", `Bearer realm="ride", error="invalid_token", error_description="the bearer token has expired"`},
	} {
		rec := do(h, http.MethodGet, "/trips/"+tripID, "", "", "Authorization", c.authorization)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != c.want {
			t.Errorf("Authorization %q: %d, WWW-Authenticate %q; want 401, %q", c.authorization, rec.Code, rec.Header().Get("WWW-Authenticate"), c.want)
		}
	}
}

// TestAnotherRidersTripIsNotFound: a rider asking for someone else's trip
// gets the very answer of a trip that does not exist.
func TestAnotherRidersTripIsNotFound(t *testing.T) {
	const unknownID = "5d3c8a10-1111-4222-8333-944455566677"
	trips := &fakeTrips{trips: map[string]trip.Trip{tripID: {ID: tripID, RiderID: "rider-42", Status: trip.StatusRequested}}}
	h := newTestServer(trips, nil)
	if rec := do(h, http.MethodGet, "/trips/"+tripID, "", ""); rec.Code != http.StatusOK {
		t.Fatalf("the rider's own trip: %d %s", rec.Code, rec.Body)
	}
	theirs := do(h, http.MethodGet, "/trips/"+tripID, "", "", "Authorization", "Bearer rider-43")
	unknown := do(h, http.MethodGet, "/trips/"+unknownID, "", "", "Authorization", "Bearer rider-43")
	got, want := decodeProblem(t, theirs), decodeProblem(t, unknown)
	want.Instance = "/trips/" + tripID
	if theirs.Code != http.StatusNotFound || !cmp.Equal(got, want) {
		t.Errorf("another rider's trip: %d %+v; want 404 as for an unknown trip, %+v", theirs.Code, got, want)
	}
}
