package e2e

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

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

// riderOutcome is what the notifications tell of one accepted order:
// completed (the rider heard trip_received, then exactly one outcome),
// duplicated (anything twice) or lost (an outcome never came).
func (s *system) riderOutcome(t *testing.T, o order) string {
	t.Helper()
	count := map[string]int{}
	for _, n := range s.notifications(t, o.riderID) {
		count[n.Kind]++
	}
	outcomes := count["driver_assigned"] + count["no_driver"]
	switch {
	case count["trip_received"] > 1 || outcomes > 1:
		return "duplicated"
	case count["trip_received"] == 1 && outcomes == 1:
		return "completed"
	}
	return "lost"
}

// The design's first named problem: the coordinator crashes half-way. The
// driver service is down while 100 trips are ordered, so every trip is
// in flight, waiting for its driver; the coordinator (the trip service,
// or the orchestrator) is killed (SIGKILL) and started again, then the
// driver service comes back. Choreography completes every trip: what is in
// flight is on the broker. The naive orchestrator loses every one: what
// was in flight was in its memory, and its restart knows no trip (GET
// /trips/{id} answers 404). The test asserts both, so the README's claim
// cannot go stale.
func TestCoordinatorKilledWithTripsInFlight(t *testing.T) {
	for _, style := range []string{styleChoreography, styleOrchestration} {
		t.Run(style, func(t *testing.T) {
			s := startSystem(t, withStyle(style), shortRides, withEnv("driver", "DRIVER_POOL_SIZE=500"),
				// The orchestrator's retries outlast the test's outage, so
				// its flows are still waiting when it is killed.
				withEnv("trip", "STEP_ATTEMPTS=100", "STEP_PAUSE=1s"))
			drv, coordinator := s.app("driver"), s.app("trip")
			s.stopService(t, drv, syscall.SIGTERM)

			orders := s.orderAll(100, 8)
			requireAccepted(t, orders)
			for _, o := range orders {
				eventually(t, 30*time.Second, "rider "+o.riderID+" told the order arrived", func() (bool, string) {
					n := s.notifications(t, o.riderID)
					return len(n) == 1, fmt.Sprintf("%d notifications", len(n))
				})
			}
			s.stopService(t, coordinator, syscall.SIGKILL)
			s.startApp(t, coordinator)
			s.startApp(t, drv)

			var f figures
			deadline := time.Now().Add(15 * time.Second)
			for {
				f = figures{ordered: len(orders)}
				for _, o := range orders {
					switch s.riderOutcome(t, o) {
					case "completed":
						f.completed++
					case "duplicated":
						f.duplicated++
					default:
						f.lost++
					}
				}
				// Choreography settles within seconds (3 s measured); 15 s
				// is a fair while before calling the orchestrator's trips
				// lost.
				if f.completed+f.duplicated == f.ordered || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			unknown := 0
			for _, o := range orders {
				if r := do(t, http.MethodGet, s.url("trip", "/trips/"+o.tripID), ""); r.status == http.StatusNotFound {
					unknown++
				}
			}
			report(t, "%s: coordinator SIGKILLed with 100 trips in flight: completed %d, lost %d, duplicated %d; trips its restart does not know: %d",
				style, f.completed, f.lost, f.duplicated, unknown)
			switch style {
			case styleChoreography:
				if f.completed != f.ordered || unknown != 0 {
					t.Errorf("choreography: want every trip completed and known, got %d completed, %d unknown", f.completed, unknown)
				}
			case styleOrchestration:
				if f.lost != f.ordered || unknown != f.ordered {
					t.Errorf("naive orchestration: want every trip in flight lost and forgotten (its state was in memory), got %d lost, %d unknown; if this changed, the README's table must too",
						f.lost, unknown)
				}
			}
			if f.duplicated != 0 {
				t.Errorf("%d trips duplicated", f.duplicated)
			}
		})
	}
}
