package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests run one after another, in this order: the first one needs
// Jarda free, and every trip ordered takes a driver for good.

// A rider orders a taxi where Jarda waits: the order is accepted at once,
// Jarda is assigned, and the rider hears both steps, in order, in the
// history and live.
func TestOrderedTripGetsJardaAndTheRiderIsTold(t *testing.T) {
	sys := shared(t)
	if d := sys.driver(t, "jarda"); d.Status != "free" {
		t.Fatalf("Jarda must be free when this test starts (it expects a fresh system), got %+v", d)
	}
	riderID := newID("rider")
	stream := openStream(t, sys.url("notification", "/riders/"+riderID+"/notifications/stream"))

	trip := accepted(t, sys.orderTrip(t, orderBody(riderID, jardasCorner)))
	if diff := cmp.Diff(tripView{TripID: trip.TripID, RiderID: riderID, Status: "requested", UpdatedAt: trip.UpdatedAt}, trip); diff != "" || trip.UpdatedAt.IsZero() {
		t.Errorf("POST /trips answer (-want +got), with an updatedAt:\n%s", diff)
	}

	trip = sys.settledTrip(t, trip.TripID)
	if trip.Status != "driver_assigned" || trip.Driver == nil || trip.ETASeconds == nil {
		t.Fatalf("want the trip driver_assigned with a driver and an ETA, got %+v", trip)
	}
	if got := []string{trip.Driver.ID, trip.Driver.Name, trip.Driver.Car.Make}; !cmp.Equal(got, []string{"jarda", "Jarda", "Toyota"}) {
		t.Errorf("driver id, name, car make = %q, want jarda, Jarda, Toyota", got)
	}
	if *trip.ETASeconds <= 0 {
		t.Errorf("etaSeconds = %d, want > 0", *trip.ETASeconds)
	}

	history := sys.awaitNotifications(t, riderID, 2)
	want := []string{"trip_received " + trip.TripID, "driver_assigned " + trip.TripID}
	if diff := cmp.Diff(want, kinds(history)); diff != "" {
		t.Fatalf("notifications (-want +got):\n%s", diff)
	}
	if text := history[1].Text; !strings.Contains(text, "Jarda") || !strings.Contains(text, "Toyota") {
		t.Errorf("driver_assigned text %q does not name Jarda and the Toyota", text)
	}

	var streamed []notificationView
	for range 2 {
		var n notificationView
		data := stream.next(t, 30*time.Second)
		if err := json.Unmarshal([]byte(data), &n); err != nil {
			t.Fatalf("server-sent event %q: %v", data, err)
		}
		streamed = append(streamed, n)
	}
	if diff := cmp.Diff(history, streamed); diff != "" {
		t.Errorf("streamed notifications differ from the history (-history +stream):\n%s", diff)
	}

	if diff := cmp.Diff(driverState{"on_trip", trip.TripID}, sys.driver(t, "jarda")); diff != "" {
		t.Errorf("GET /drivers: Jarda (-want +got):\n%s", diff)
	}

	// Nothing more arrived while the test looked elsewhere.
	if diff := cmp.Diff(want, kinds(sys.notifications(t, riderID))); diff != "" {
		t.Errorf("notifications at the end (-want +got):\n%s", diff)
	}
}

// A retried order with the same Idempotency-Key is the same trip, announced
// once; the same key with a different order is refused.
func TestIdempotencyKeyMakesARetryTheSameTrip(t *testing.T) {
	sys := shared(t)
	riderID, key := newID("rider"), newID("key")
	body := orderBody(riderID, point{50.0870, 14.4208})

	first := accepted(t, sys.orderTrip(t, body, "Idempotency-Key", key))
	retry := accepted(t, sys.orderTrip(t, body, "Idempotency-Key", key))
	if retry.TripID != first.TripID {
		t.Fatalf("the retried order got trip %s, want the first one, %s", retry.TripID, first.TripID)
	}

	sys.settledTrip(t, first.TripID)
	got := kinds(sys.awaitNotifications(t, riderID, 2))
	want := []string{"trip_received " + first.TripID, "driver_assigned " + first.TripID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	if n := len(sys.tripCreatedMentioning(t, "0", first.TripID)); sys.settings.style == styleChoreography && n != 1 {
		t.Errorf("trip-created carries %d events for trip %s, want 1", n, first.TripID)
	}

	other := sys.orderTrip(t, orderBody(riderID, point{50.1030, 14.3920}), "Idempotency-Key", key)
	wantProblem(t, other, http.StatusUnprocessableEntity)
	if trip := getJSON[tripView](t, sys.url("trip", "/trips/"+first.TripID)); trip.Status != "driver_assigned" {
		t.Errorf("after the refused order the trip is %+v, want it unchanged (driver_assigned)", trip)
	}
}

func TestUnknownTripIsAProblem(t *testing.T) {
	sys := shared(t)
	t.Run("unknown id", func(t *testing.T) {
		r := do(t, http.MethodGet, sys.url("trip", "/trips/6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d"), "")
		wantProblem(t, r, http.StatusNotFound)
	})
	t.Run("not a uuid", func(t *testing.T) {
		r := do(t, http.MethodGet, sys.url("trip", "/trips/not-a-uuid"), "")
		wantProblem(t, r, http.StatusBadRequest, http.StatusNotFound)
	})
}

// A bad order is refused with a problem and leaves no trace: no event on
// the broker, no notification, even after a good order went all the way
// through after it.
func TestBadOrdersPublishNothing(t *testing.T) {
	sys := shared(t)
	last := sys.lastTripCreatedID(t)
	tests := []struct {
		name        string
		riderID     string // the rider the body names, if any
		contentType string
		body        string
		want        []int
		as          string // the rider of the bearer token, if not riderID
	}{
		{"malformed JSON", newID("bad-malformed"), "application/json", `{"riderId":"%s","pickup":{"lat":50.08,`, []int{400}, ""},
		{"unknown field", newID("bad-unknown"), "application/json", `{"riderId":"%s","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26},"tip":5}`, []int{400}, ""},
		{"two JSON values", newID("bad-two"), "application/json", `{"riderId":"%s","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}} {}`, []int{400}, ""},
		{"another rider's order", newID("bad-other"), "application/json", `{"riderId":"%s","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}}`, []int{403}, newID("rider")},
		{"latitude 91", newID("bad-lat"), "application/json", `{"riderId":"%s","pickup":{"lat":91,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}}`, []int{400, 422}, ""},
		{"body over 64 KiB", newID("bad-big"), "application/json", `{` + strings.Repeat(" ", 64<<10) + `"riderId":"%s","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}}`, []int{413}, ""},
		{"text/plain", newID("bad-type"), "text/plain", `{"riderId":"%s","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}}`, []int{415}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if tt.riderID != "" {
				body = fmt.Sprintf(tt.body, tt.riderID)
			}
			header := []string{"Content-Type", tt.contentType}
			if tt.as != "" {
				header = append(header, "Authorization", bearer(tt.as))
			}
			r := do(t, http.MethodPost, sys.url("trip", "/trips"), body, header...)
			wantProblem(t, r, tt.want...)
		})
	}

	// A good order after the bad ones: once its rider has heard both steps,
	// everything the bad orders could have caused would have happened too.
	goodRider := newID("rider")
	good := accepted(t, sys.orderTrip(t, orderBody(goodRider, point{50.0600, 14.4600})))
	sys.settledTrip(t, good.TripID)
	sys.awaitNotifications(t, goodRider, 2)

	events := sys.settings.style == styleChoreography // the other styles publish none
	if got := sys.tripCreatedMentioning(t, last, good.TripID); events && len(got) != 1 {
		t.Fatalf("trip-created holds %d events for the good order %s, want 1: is this the right stream?", len(got), good.TripID)
	}
	for _, tt := range tests {
		for _, rider := range []string{tt.riderID, tt.as} {
			if rider == "" {
				continue
			}
			if got := sys.tripCreatedMentioning(t, last, rider); events && len(got) != 0 {
				t.Errorf("%s: trip-created got events for a refused order: %q", tt.name, got)
			}
			if got := sys.notifications(t, rider); len(got) != 0 {
				t.Errorf("%s: the rider of a refused order has notifications: %+v", tt.name, got)
			}
		}
	}
}

// driverState is what GET /drivers says about one driver.
type driverState struct{ Status, TripID string }

// driver returns the named driver's state as GET /drivers shows it.
func (s *system) driver(t *testing.T, id string) driverState {
	t.Helper()
	pool := getJSON[poolView](t, s.url("driver", "/drivers"))
	for _, d := range pool.Drivers {
		if d.ID == id {
			return driverState{d.Status, d.TripID}
		}
	}
	t.Fatalf("GET /drivers has no driver %q: %+v", id, pool)
	return driverState{}
}

// lastTripCreatedID returns the id of the newest entry of the trip-created
// stream on the broker ("0" when it is empty).
func (s *system) lastTripCreatedID(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := s.redis.XRevRangeN(ctx, "trip-created", "+", "-", 1).Result()
	if err != nil {
		t.Fatalf("XREVRANGE trip-created: %v", err)
	}
	if len(msgs) == 0 {
		return "0"
	}
	return msgs[0].ID
}

// tripCreatedMentioning returns the entries of the trip-created stream,
// after the entry with id after, whose fields contain text. Dapr's Redis
// pub/sub keeps each topic as a Redis stream of that name.
func (s *system) tripCreatedMentioning(t *testing.T, after, text string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := s.redis.XRange(ctx, "trip-created", "("+after, "+").Result()
	if err != nil {
		t.Fatalf("XRANGE trip-created: %v", err)
	}
	var found []string
	for _, m := range msgs {
		for _, v := range m.Values {
			if field := fmt.Sprint(v); strings.Contains(field, text) {
				found = append(found, m.ID+" "+field)
			}
		}
	}
	return found
}
