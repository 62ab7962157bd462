package e2e

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The same order, in every style that exists: the public interface is the
// same (POST /trips on the trip role's port, the trip at its Location, the
// rider's notifications), and so is the outcome: Jarda comes, the rider
// hears both steps in order, and Jarda is on the trip.
func TestEveryStyleOrdersATrip(t *testing.T) {
	for _, style := range []string{styleChoreography, styleOrchestration} {
		t.Run(style, func(t *testing.T) {
			s := startSystem(t, withStyle(style))
			riderID := newID("rider")
			trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))

			settled := s.settledTrip(t, trip.TripID)
			if settled.Status != "driver_assigned" || settled.Driver == nil || settled.Driver.ID != "jarda" {
				t.Fatalf("trip settled as %+v, want driver_assigned with Jarda", settled)
			}
			want := []string{"trip_received " + trip.TripID, "driver_assigned " + trip.TripID}
			if diff := cmp.Diff(want, kinds(s.awaitNotifications(t, riderID, 2))); diff != "" {
				t.Errorf("notifications (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(driverState{"on_trip", trip.TripID}, s.driver(t, "jarda")); diff != "" {
				t.Errorf("GET /drivers: Jarda (-want +got):\n%s", diff)
			}
		})
	}
}
