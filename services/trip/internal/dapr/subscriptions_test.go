package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dapr/go-sdk/service/common"
	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/contracttest"
	"github.com/ride-choreography/services/trip/internal/trip"
)

// recordingEvents records the events the subscriber hands to the app and
// answers with err.
type recordingEvents struct {
	created  []app.TripCreated
	assigned []app.DriverAssigned
	notFound []app.DriverNotFound
	err      error
}

func (r *recordingEvents) TripCreated(_ context.Context, e app.TripCreated) (bool, error) {
	r.created = append(r.created, e)
	return r.err == nil, r.err
}

func (r *recordingEvents) DriverAssigned(_ context.Context, e app.DriverAssigned) (bool, error) {
	r.assigned = append(r.assigned, e)
	return r.err == nil, r.err
}

func (r *recordingEvents) DriverNotFound(_ context.Context, e app.DriverNotFound) (bool, error) {
	r.notFound = append(r.notFound, e)
	return r.err == nil, r.err
}

func deliver(t *testing.T, h http.Handler, body string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/events/x", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200 with the outcome in the body", rec.Code)
	}
	var got struct{ Status string }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("answer %q: %v", rec.Body, err)
	}
	return got.Status
}

func example(t *testing.T, name string) string {
	t.Helper()
	return string(contracttest.Example(t, name))
}

// The answers a delivery can get, as the tests compare them.
const (
	statusSuccess = string(common.SubscriptionResponseStatusSuccess)
	statusRetry   = string(common.SubscriptionResponseStatusRetry)
	statusDrop    = string(common.SubscriptionResponseStatusDrop)
)

const exampleTripID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"

func TestSubscriptions(t *testing.T) {
	s := NewSubscriber(zerolog.Nop(), "pubsub", &recordingEvents{}, &recordingDeadLetters{}, &recordingMetrics{})
	rec := httptest.NewRecorder()
	s.Subscriptions().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dapr/subscribe", nil))
	var got []common.Subscription
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []common.Subscription{
		{PubsubName: "pubsub", Topic: "trip-created", Route: "/events/trip-created", DeadLetterTopic: "trip-dead-letters"},
		{PubsubName: "pubsub", Topic: "driver-assigned", Route: "/events/driver-assigned", DeadLetterTopic: "trip-dead-letters"},
		{PubsubName: "pubsub", Topic: "driver-not-found", Route: "/events/driver-not-found", DeadLetterTopic: "trip-dead-letters"},
		{PubsubName: "pubsub", Topic: "trip-dead-letters", Route: "/events/dead-letters"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subscriptions (-want +got):\n%s", diff)
	}
}

// TestContractExamples: each contract's example event succeeds and reaches
// the app as it says.
func TestContractExamples(t *testing.T) {
	tests := []struct {
		name   string // the contract's
		route  func(*Subscriber) http.Handler
		handed func(*recordingEvents) any // what the route handed to the app
		want   any
	}{
		{
			name: "trip-created", route: (*Subscriber).TripCreated,
			handed: func(e *recordingEvents) any { return e.created },
			want: []app.TripCreated{{
				TripID:      exampleTripID,
				RiderID:     "rider-42",
				Pickup:      app.Point{Lat: 50.08, Lon: 14.42},
				Dropoff:     app.Point{Lat: 50.1, Lon: 14.26},
				RequestedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC),
			}},
		},
		{
			name: "driver-assigned", route: (*Subscriber).DriverAssigned,
			handed: func(e *recordingEvents) any { return e.assigned },
			want: []app.DriverAssigned{{
				TripID:     exampleTripID,
				Driver:     trip.Driver{ID: "jarda", Name: "Jarda", Car: trip.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}},
				ETASeconds: 240,
				AssignedAt: time.Date(2026, 11, 27, 9, 30, 1, 0, time.UTC),
			}},
		},
		{
			name: "driver-not-found", route: (*Subscriber).DriverNotFound,
			handed: func(e *recordingEvents) any { return e.notFound },
			want:   []app.DriverNotFound{{TripID: exampleTripID, DecidedAt: time.Date(2026, 11, 27, 9, 31, 0, 0, time.UTC)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := &recordingEvents{}
			s := NewSubscriber(zerolog.Nop(), "pubsub", events, &recordingDeadLetters{}, &recordingMetrics{})
			if got := deliver(t, tt.route(s), example(t, tt.name)); got != statusSuccess {
				t.Fatalf("outcome = %s, want SUCCESS", got)
			}
			if diff := cmp.Diff(tt.want, tt.handed(events)); diff != "" {
				t.Errorf("event handed to the app (-want +got):\n%s", diff)
			}
		})
	}
}

const createdData = `{"tripId":"` + exampleTripID + `","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26},"requestedAt":"2026-11-27T09:30:00Z"}`

func TestTripCreatedOutcomes(t *testing.T) {
	created := func(old, new string) string { return cloudEvent(strings.Replace(createdData, old, new, 1)) }
	tests := []outcomeCase{
		{name: "valid", body: cloudEvent(createdData), want: statusSuccess, wantCall: true},
		{name: "already recorded (a duplicate)", body: cloudEvent(createdData), want: statusSuccess, wantCall: true},
		{name: "latitude 90 exactly", body: created(`"lat":50.08`, `"lat":90`), want: statusSuccess, wantCall: true},
		{name: "latitude just beyond 90", body: created(`"lat":50.08`, `"lat":90.00000000000000001`), want: statusDrop},
		{name: "longitude -181", body: created(`"lon":14.26`, `"lon":-181`), want: statusDrop},
		{name: "latitude a string", body: created(`"lat":50.08`, `"lat":"50.08"`), want: statusDrop},
		{name: "missing dropoff", body: created(`,"dropoff":{"lat":50.1,"lon":14.26}`, ``), want: statusDrop},
		{name: "missing pickup lon", body: created(`,"lon":14.42`, ``), want: statusDrop},
		{name: "pickup spelled Pickup", body: created(`"pickup"`, `"Pickup"`), want: statusDrop},
		{name: "empty rider", body: created(`"riderId":"rider-42"`, `"riderId":""`), want: statusDrop},
		{name: "trip id not a uuid", body: created(exampleTripID, "trip-1"), want: statusDrop},
		{name: "bad timestamp", body: created(`2026-11-27T09:30:00Z`, `today`), want: statusDrop},
		{name: "malformed JSON", body: `{"specversion":"1.0",`, want: statusDrop},
		{name: "oversized", body: cloudEvent(`{"pad":"` + strings.Repeat("x", maxEventBytes) + `"}`), want: statusDrop},
		{name: "rider id the domain refuses", body: cloudEvent(createdData), appErr: trip.ErrInvalidOrder, want: statusDrop, wantCall: true},
		{name: "state store down", body: cloudEvent(createdData), appErr: errors.New("connection refused"), want: statusRetry, wantCall: true},
	}
	checkOutcomes(t, tests, (*Subscriber).TripCreated, func(e *recordingEvents) int { return len(e.created) })
}

// outcomeCase is one delivery of an event and what the subscriber must
// answer, and whether the event reaches the app.
type outcomeCase struct {
	name     string
	body     string
	appErr   error // what the app answers
	want     string
	wantCall bool
}

// checkOutcomes delivers each case's body to the route, with an app that
// answers the case's error, and checks the answer and whether the app was
// called (calls counts the app's calls for the route).
func checkOutcomes(t *testing.T, tests []outcomeCase, route func(*Subscriber) http.Handler, calls func(*recordingEvents) int) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := &recordingEvents{err: tt.appErr}
			s := NewSubscriber(zerolog.Nop(), "pubsub", events, &recordingDeadLetters{}, &recordingMetrics{})
			if got := deliver(t, route(s), tt.body); got != tt.want {
				t.Errorf("outcome = %s, want %s", got, tt.want)
			}
			if called := calls(events) == 1; called != tt.wantCall {
				t.Errorf("app called %d times, want call=%v", calls(events), tt.wantCall)
			}
		})
	}
}

// envelope wraps data the way Dapr does.
func cloudEvent(data string) string {
	return `{"specversion":"1.0","id":"e-1","source":"driver","type":"com.dapr.event.sent","datacontenttype":"application/json","data":` + data + `}`
}

const assignedData = `{"tripId":"` + exampleTripID + `","riderId":"r","driver":{"id":"jarda","name":"Jarda","car":{"make":"Toyota","model":"Corolla","color":"blue","plate":"1AB 2345"}},"etaSeconds":240,"assignedAt":"2026-11-27T09:30:01Z"}`

func TestDriverAssignedOutcomes(t *testing.T) {
	tests := []outcomeCase{
		{name: "valid", body: cloudEvent(assignedData), want: statusSuccess, wantCall: true},
		{name: "data as a JSON string", body: cloudEvent(strings.ReplaceAll(`"`+strings.ReplaceAll(assignedData, `"`, `\"`)+`"`, "\n", "")), want: statusSuccess, wantCall: true},
		{name: "unknown properties are ignored", body: cloudEvent(strings.Replace(assignedData, `{"tripId"`, `{"surge":1.5,"tripId"`, 1)), want: statusSuccess, wantCall: true},
		{name: "duplicate changes nothing but succeeds", body: cloudEvent(assignedData), appErr: nil, want: statusSuccess, wantCall: true},
		{name: "malformed JSON", body: `{"specversion":"1.0",`, want: statusDrop},
		{name: "not a CloudEvent", body: `{"tripId":"` + exampleTripID + `"}`, want: statusDrop},
		{name: "CloudEvent without id", body: `{"specversion":"1.0","data":` + assignedData + `}`, want: statusDrop},
		{name: "no data", body: cloudEvent(`null`), want: statusDrop},
		{name: "data named Data", body: `{"specversion":"1.0","id":"e-1","Data":` + assignedData + `}`, want: statusDrop},
		{name: "id named ID", body: `{"specversion":"1.0","ID":"e-1","data":` + assignedData + `}`, want: statusDrop},
		{name: "Data beside data is ignored", body: strings.TrimSuffix(cloudEvent(assignedData), `}`) + `,"Data":null}`, want: statusSuccess, wantCall: true},
		{name: "two JSON values", body: cloudEvent(assignedData) + `{}`, want: statusDrop},
		{name: "eta written 2.4e2", body: cloudEvent(strings.Replace(assignedData, `240`, `2.4e2`, 1)), want: statusSuccess, wantCall: true},
		{name: "data not an object", body: cloudEvent(`[1,2]`), want: statusDrop},
		{name: "missing driver", body: cloudEvent(`{"tripId":"` + exampleTripID + `","riderId":"r","etaSeconds":1,"assignedAt":"2026-11-27T09:30:01Z"}`), want: statusDrop},
		{name: "missing car plate", body: cloudEvent(strings.Replace(assignedData, `,"plate":"1AB 2345"`, ``, 1)), want: statusDrop},
		{name: "negative eta", body: cloudEvent(strings.Replace(assignedData, `240`, `-1`, 1)), want: statusDrop},
		{name: "fractional eta", body: cloudEvent(strings.Replace(assignedData, `240`, `1.5`, 1)), want: statusDrop},
		{name: "trip id not a uuid", body: cloudEvent(strings.Replace(assignedData, exampleTripID, "trip-1", 1)), want: statusDrop},
		{name: "bad timestamp", body: cloudEvent(strings.Replace(assignedData, `2026-11-27T09:30:01Z`, `yesterday`, 1)), want: statusDrop},
		{name: "oversized", body: cloudEvent(`{"pad":"` + strings.Repeat("x", maxEventBytes) + `"}`), want: statusDrop},
		{name: "state store down", body: cloudEvent(assignedData), appErr: errors.New("connection refused"), want: statusRetry, wantCall: true},
		{name: "conflicts exhausted", body: cloudEvent(assignedData), appErr: app.ErrConflict, want: statusRetry, wantCall: true},
		{name: "unknown trip", body: cloudEvent(assignedData), appErr: trip.ErrNotFound, want: statusDrop, wantCall: true},
		{name: "trip not recorded yet", body: cloudEvent(assignedData), appErr: app.ErrTripNotYetKnown, want: statusRetry, wantCall: true},
		{name: "contradicts final status", body: cloudEvent(assignedData), appErr: trip.ErrOutcomeConflict, want: statusDrop, wantCall: true},
	}
	checkOutcomes(t, tests, (*Subscriber).DriverAssigned, func(e *recordingEvents) int { return len(e.assigned) })
}

func TestDriverNotFoundOutcomes(t *testing.T) {
	const data = `{"tripId":"` + exampleTripID + `","riderId":"r","reason":"no driver became free within 60s","decidedAt":"2026-11-27T09:31:00Z"}`
	tests := []outcomeCase{
		{name: "valid", body: cloudEvent(data), want: statusSuccess, wantCall: true},
		{name: "missing reason", body: cloudEvent(strings.Replace(data, `"reason":"no driver became free within 60s",`, ``, 1)), want: statusDrop},
		{name: "empty rider", body: cloudEvent(strings.Replace(data, `"riderId":"r"`, `"riderId":""`, 1)), want: statusDrop},
		{name: "missing decidedAt", body: cloudEvent(strings.Replace(data, `,"decidedAt":"2026-11-27T09:31:00Z"`, ``, 1)), want: statusDrop},
		{name: "state store down", body: cloudEvent(data), appErr: errors.New("timeout"), want: statusRetry, wantCall: true},
	}
	checkOutcomes(t, tests, (*Subscriber).DriverNotFound, func(e *recordingEvents) int { return len(e.notFound) })
}
