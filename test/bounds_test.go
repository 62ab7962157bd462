package e2e

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// farFromEveryDriver is a pickup about 130 km east of Prague, where the
// issue saw a driver of the default pool assigned, "about 317 min" away.
var farFromEveryDriver = point{50.08, 16.25}

// An order far from every driver (beyond the driver service's
// MAX_PICKUP_KM, 15 km by default) ends no_driver at once: its
// driver-not-found says why (reasonCode no_driver_near), the rider is told
// that no driver is near, and no driver is taken. "At once": the trip
// settles within settledTrip's 30 s, half the 60 s ASSIGN_DEADLINE a trip
// with no free driver waits for.
func TestOrderFarFromEveryDriverEndsAtOnceWithNoDriverNear(t *testing.T) {
	sys := shared(t)
	before := getJSON[poolView](t, sys.url("driver", "/drivers"))
	riderID := newID("rider-far")

	trip := accepted(t, sys.orderTrip(t, orderBody(riderID, farFromEveryDriver)))
	settled := sys.settledTrip(t, trip.TripID)
	if settled.Status != "no_driver" || settled.Driver != nil || settled.ETASeconds != nil {
		t.Errorf("trip %+v, want no_driver, with no driver and no ETA", settled)
	}

	history := sys.awaitNotifications(t, riderID, 2)
	want := []string{"trip_received " + trip.TripID, "no_driver " + trip.TripID}
	if diff := cmp.Diff(want, kinds(history)); diff != "" {
		t.Fatalf("notifications (-want +got):\n%s", diff)
	}
	if text := history[1].Text; !strings.Contains(text, "no driver is near") {
		t.Errorf("no_driver text %q does not say that no driver is near", text)
	}

	if sys.settings.style == styleChoreography { // the other styles publish no events
		var outcomes []string
		for _, e := range sys.topicEvents(t, "driver-not-found") {
			var data struct{ TripID, ReasonCode, Reason string }
			if err := e.decodeData(&data); err != nil {
				t.Fatalf("driver-not-found %s: %v", e.raw, err)
			}
			if data.TripID == trip.TripID {
				outcomes = append(outcomes, data.ReasonCode+": "+data.Reason)
			}
		}
		if diff := cmp.Diff([]string{"no_driver_near: no driver within 15 km of the pickup"}, outcomes); diff != "" {
			t.Errorf("driver-not-found for the trip (-want +got):\n%s", diff)
		}
		for _, e := range sys.topicEvents(t, "driver-assigned") {
			if strings.Contains(string(e.raw), trip.TripID) {
				t.Errorf("driver-assigned for the far trip: %s", e.raw)
			}
		}
	}

	// Nobody took the trip, and nobody free before is on a trip now
	// (rides of earlier tests may have ended meanwhile).
	after := getJSON[poolView](t, sys.url("driver", "/drivers"))
	wasFree := map[string]bool{}
	for _, d := range before.Drivers {
		wasFree[d.ID] = d.Status == "free"
	}
	for _, d := range after.Drivers {
		if d.TripID == trip.TripID || (wasFree[d.ID] && d.Status != "free") {
			t.Errorf("driver %s is %s on trip %q, want nobody taken by the far trip", d.ID, d.Status, d.TripID)
		}
	}
}
