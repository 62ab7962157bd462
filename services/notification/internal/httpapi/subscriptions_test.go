package httpapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/notification"
)

var jarda = notification.Driver{
	Name: "Jarda",
	Car:  notification.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"},
}

func TestSubscribeListsEveryTopic(t *testing.T) {
	ts := newTestServer(t)
	resp := ts.do(t, http.MethodGet, "/dapr/subscribe", nil)

	var got []map[string]string
	decodeBody(t, resp, "application/json", &got)
	want := []map[string]string{
		{"pubsubname": "pubsub", "topic": "driver-assigned", "route": "/events/driver-assigned", "deadLetterTopic": "notification-dead-letters"},
		{"pubsubname": "pubsub", "topic": "driver-not-found", "route": "/events/driver-not-found", "deadLetterTopic": "notification-dead-letters"},
		{"pubsubname": "pubsub", "topic": "trip-created", "route": "/events/trip-created", "deadLetterTopic": "notification-dead-letters"},
		{"pubsubname": "pubsub", "topic": "notification-dead-letters", "route": "/events/dead-letters"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subscriptions mismatch (-want +got):\n%s", diff)
	}
}

func TestContractExamplesAreSent(t *testing.T) {
	tests := []struct {
		name   string
		topics []string
		want   []notification.Notification
	}{
		{
			name:   "order received, driver on the way",
			topics: []string{"trip-created", "driver-assigned"},
			want: []notification.Notification{
				notification.TripReceived(tripID, now),
				notification.DriverAssigned(tripID, jarda, 240*time.Second, now),
			},
		},
		{
			name:   "order received, no driver",
			topics: []string{"trip-created", "driver-not-found"},
			want: []notification.Notification{
				notification.TripReceived(tripID, now),
				notification.NoDriver(tripID, now),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			for _, topic := range tt.topics {
				if got := ts.deliver(t, topic, example(t, topic)); got != "SUCCESS" {
					t.Errorf("%s: status %s, want SUCCESS", topic, got)
				}
			}
			if diff := cmp.Diff(tt.want, ts.store.notifications(riderID)); diff != "" {
				t.Errorf("notifications mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDuplicatesAreSentOnce(t *testing.T) {
	ts := newTestServer(t)
	for _, topic := range []string{"trip-created", "trip-created", "driver-assigned", "trip-created", "driver-assigned"} {
		if got := ts.deliver(t, topic, example(t, topic)); got != "SUCCESS" {
			t.Errorf("%s: status %s, want SUCCESS", topic, got)
		}
	}

	want := []notification.Notification{
		notification.TripReceived(tripID, now),
		notification.DriverAssigned(tripID, jarda, 240*time.Second, now),
	}
	if diff := cmp.Diff(want, ts.store.notifications(riderID)); diff != "" {
		t.Errorf("notifications mismatch (-want +got):\n%s", diff)
	}
	if got := len(ts.logs.lines(t, "notification sent")); got != 2 {
		t.Errorf("%d notification sent log lines, want 2", got)
	}
}

func TestDataAsAJSONString(t *testing.T) {
	tripCreated, err := json.Marshal(exampleData(t, "trip-created"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		want string
	}{
		{name: "the object, as Dapr's outbox sends it", data: string(tripCreated), want: "SUCCESS"},
		{name: "an invalid object", data: `{"tripId":"` + tripID + `"}`, want: "DROP"},
		{name: "not an object", data: `[1,2]`, want: "DROP"},
		{name: "not JSON", data: `tripId`, want: "DROP"},
		{name: "two objects", data: string(tripCreated) + string(tripCreated), want: "DROP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			if got := ts.deliver(t, "trip-created", cloudEvent(t, "trip-created", tt.data)); got != tt.want {
				t.Errorf("status %s, want %s", got, tt.want)
			}
		})
	}
}

func TestInvalidEventsAreDropped(t *testing.T) {
	valid := string(example(t, "trip-created"))
	tests := []struct {
		name string
		body string
	}{
		{name: "malformed JSON", body: `{"specversion":"1.0","id":`},
		{name: "empty body", body: ``},
		{name: "JSON but not an object", body: `["trip-created"]`},
		{name: "not a CloudEvent: bare data", body: `{"tripId":"` + tripID + `","riderId":"rider-42"}`},
		{name: "CloudEvent of another spec version", body: strings.Replace(valid, `"1.0"`, `"0.3"`, 1)},
		{name: "CloudEvent without id", body: strings.Replace(valid, `"id": "outbox-6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d",`, ``, 1)},
		{name: "CloudEvent without data", body: `{"specversion":"1.0","id":"e1","source":"trip","type":"com.dapr.event.sent"}`},
		{name: "data null", body: `{"specversion":"1.0","id":"e1","source":"trip","type":"t","data":null}`},
		{name: "data an array", body: `{"specversion":"1.0","id":"e1","source":"trip","type":"t","data":[]}`},
		{name: "missing riderId", body: strings.Replace(valid, `"riderId": "rider-42",`, ``, 1)},
		{name: "empty riderId", body: strings.Replace(valid, `"riderId": "rider-42"`, `"riderId": ""`, 1)},
		{name: "latitude out of range", body: strings.Replace(valid, `{"lat": 50.08`, `{"lat": 91`, 1)},
		{name: "trip id not a UUID", body: strings.Replace(valid, `"tripId": "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"`, `"tripId": "trip-1"`, 1)},
		{name: "trailing garbage", body: valid + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body == valid {
				t.Fatal("the test case does not change the valid event")
			}
			ts := newTestServer(t)
			if got := ts.deliver(t, "trip-created", []byte(tt.body)); got != "DROP" {
				t.Errorf("status %s, want DROP", got)
			}
			if got := ts.store.notifications(riderID); len(got) != 0 {
				t.Errorf("stored %v, want nothing", got)
			}
			if got := len(ts.logs.lines(t, "event dropped")); got != 1 {
				t.Errorf("%d event dropped log lines, want 1", got)
			}
		})
	}
}

func TestEventSizeLimit(t *testing.T) {
	tests := []struct {
		name string
		size int
		want string
	}{
		{name: "64 KiB", size: 64 << 10, want: "SUCCESS"},
		{name: "one byte more", size: 64<<10 + 1, want: "DROP"},
		{name: "1 MiB", size: 1 << 20, want: "DROP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A CloudEvent extension attribute pads the example to size.
			valid := string(example(t, "trip-created"))
			body := strings.Replace(valid, `"specversion": "1.0",`, `"specversion": "1.0", "padding": "",`, 1)
			body = strings.Replace(body, `"padding": ""`, `"padding": "`+strings.Repeat("x", tt.size-len(body))+`"`, 1)
			if len(body) != tt.size {
				t.Fatalf("body of %d bytes, want %d", len(body), tt.size)
			}
			ts := newTestServer(t)
			if got := ts.deliver(t, "trip-created", []byte(body)); got != tt.want {
				t.Errorf("status %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDropIsLoggedWithTheEvent(t *testing.T) {
	ts := newTestServer(t)
	body := strings.Replace(string(example(t, "driver-assigned")), `"etaSeconds": 240`, `"etaSeconds": -1`, 1)
	if got := ts.deliver(t, "driver-assigned", []byte(body)); got != "DROP" {
		t.Fatalf("status %s, want DROP", got)
	}

	want := []map[string]any{{
		"level":   "error",
		"topic":   "driver-assigned",
		"eventId": "3d5b7f2e-8c41-4a6b-b0e9-1c2d3e4f5a6b",
		"tripId":  tripID,
		"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
		"status":  "DROP",
		"error":   "invalid event: etaSeconds is -1, want at least 0",
	}}
	if diff := cmp.Diff(want, ts.logs.lines(t, "event dropped")); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

// A driver event that overtook trip-created tells the rider first that the
// order arrived, then the outcome; trip-created, late, changes nothing.
func TestDriverEventsBeforeTripCreatedTellTheReceiptFirst(t *testing.T) {
	for _, topic := range []string{"driver-assigned", "driver-not-found"} {
		t.Run(topic, func(t *testing.T) {
			ts := newTestServer(t)
			if got := ts.deliver(t, topic, example(t, topic)); got != "SUCCESS" {
				t.Errorf("status %s, want SUCCESS", got)
			}
			got := ts.store.notifications(riderID)
			if len(got) != 2 || got[0].Kind != notification.KindTripReceived || got[1].TripID != got[0].TripID {
				t.Errorf("stored %v, want trip_received then the outcome of the same trip", got)
			}
			if got := ts.deliver(t, "trip-created", example(t, "trip-created")); got != "SUCCESS" {
				t.Fatalf("trip-created: status %s, want SUCCESS", got)
			}
			if again := ts.store.notifications(riderID); len(again) != 2 {
				t.Errorf("after the late trip-created: %v, want the same two", again)
			}
		})
	}
}

func TestStoreFailureIsRetried(t *testing.T) {
	for _, topic := range []string{"trip-created", "driver-assigned", "driver-not-found"} {
		t.Run(topic, func(t *testing.T) {
			ts := newTestServer(t)
			ts.store.fail(errors.New("state store down"))
			if got := ts.deliver(t, topic, example(t, topic)); got != "RETRY" {
				t.Errorf("status %s, want RETRY", got)
			}
			lines := ts.logs.lines(t, "event to be retried")
			if len(lines) != 1 {
				t.Fatalf("%d event to be retried log lines, want 1", len(lines))
			}
			if got := lines[0]["tripId"]; got != tripID {
				t.Errorf("logged tripId %v, want %s", got, tripID)
			}
			if got := lines[0]["error"].(string); !strings.Contains(got, "state store down") {
				t.Errorf("logged error %q does not name the cause", got)
			}
		})
	}
}
