package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// series is one scrape of a service's GET /metrics: the value of each
// series, keyed by its name and labels as the Prometheus text format
// writes them (ride_events_handled_total{outcome="SUCCESS",topic="x"}).
type series map[string]float64

// scrape reads the Prometheus metrics a service serves.
func (s *system) scrape(t *testing.T, service string) series {
	t.Helper()
	return scrapeURL(t, service, s.url(service, "/metrics"))
}

// scrapeURL reads the Prometheus metrics served at url, by what (for the
// messages).
func scrapeURL(t *testing.T, what, url string) series {
	t.Helper()
	r := do(t, http.MethodGet, url, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s /metrics: want 200 text/plain, got %s", what, r)
	}
	got := series{}
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("GET %s /metrics: unreadable line %q", what, line)
		}
		got[line[:i]] = v
	}
	return got
}

// TestMetricsCountWhatHappened: after trips that complete and one poison
// event, each service's counters have moved by exactly what the system
// did, as the services' own metrics (GET /metrics) tell it: orders,
// assignments, notifications by kind, every delivery by topic and
// outcome, and dead letters.
func TestMetricsCountWhatHappened(t *testing.T) {
	s := startSystem(t)
	before := map[string]series{}
	for _, name := range services {
		before[name] = s.scrape(t, name)
	}

	const trips = 3
	for range trips {
		riderID := newID("rider")
		trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))
		if settled := s.settledTrip(t, trip.TripID); settled.Status != "driver_assigned" {
			t.Fatalf("trip %s settled as %s, want driver_assigned", trip.TripID, settled.Status)
		}
		s.awaitNotifications(t, riderID, 2)
	}
	poisonID := newID("poison")
	s.publish(t, s.app("trip"), "trip-created", cloudEvent(t, poisonID, "trip-created", map[string]any{
		"tripId":      newUUID(),
		"pickup":      map[string]float64{"lat": 50.0755, "lon": 14.4378},
		"dropoff":     map[string]float64{"lat": 50.1, "lon": 14.26},
		"requestedAt": time.Now().UTC().Format(time.RFC3339Nano),
	}))
	for _, name := range services {
		eventually(t, 30*time.Second, name+" to list dead letter "+poisonID, func() (bool, string) {
			found, count := s.deadLetters(t, name, poisonID)
			return len(found) > 0, fmt.Sprintf("count %d", count)
		})
	}
	s.awaitQuiet(t, time.Minute)

	handled := func(topic, outcome string) string {
		return fmt.Sprintf("ride_events_handled_total{outcome=%q,topic=%q}", outcome, topic)
	}
	want := map[string]series{
		"trip": {
			"ride_trips_ordered_total":                      trips,
			"ride_trips_assigned_total":                     trips,
			"ride_trip_assignment_seconds_count":            trips,
			handled("trip-created", "SUCCESS"):              trips, // its own, read back
			handled("driver-assigned", "SUCCESS"):           trips,
			handled("trip-created", "DROP"):                 1,
			handled("trip-dead-letters", "SUCCESS"):         1,
			`ride_dead_letters_total{topic="trip-created"}`: 1,
		},
		"driver": {
			`ride_assignments_total{outcome="driver_assigned"}`: trips,
			"ride_assignment_seconds_count":                     trips,
			handled("trip-created", "SUCCESS"):                  trips,
			handled("trip-created", "DROP"):                     1,
			handled("driver-dead-letters", "SUCCESS"):           1,
			`ride_dead_letters_total{topic="trip-created"}`:     1,
		},
		"notification": {
			`ride_notifications_sent_total{kind="trip_received"}`:   trips,
			`ride_notifications_sent_total{kind="driver_assigned"}`: trips,
			handled("trip-created", "SUCCESS"):                      trips,
			handled("driver-assigned", "SUCCESS"):                   trips,
			handled("trip-created", "DROP"):                         1,
			handled("notification-dead-letters", "SUCCESS"):         1,
			`ride_dead_letters_total{topic="trip-created"}`:         1,
		},
	}
	// What may move without being wrong: a driver-assigned that reaches
	// the trip service before the order's record (written just after the
	// 202, and the event can overtake it on a busy machine) is answered
	// RETRY and handled at its next delivery, which the SUCCESS count
	// above holds to one per trip.
	mayMove := map[string]map[string]bool{
		"trip": {handled("driver-assigned", "RETRY"): true},
	}
	var lines []string
	for _, name := range services {
		after := s.scrape(t, name)
		if after["go_goroutines"] == 0 {
			t.Errorf("%s: no go_goroutines series: the Go runtime's metrics are missing", name)
		}
		// Every ride_ series that moved must be one the test expects to
		// move; every expected one must have moved by exactly its count.
		for key, v := range after {
			if !strings.HasPrefix(key, "ride_") || strings.Contains(key, "_bucket{") || strings.HasSuffix(key, "_sum") {
				continue
			}
			moved := v - before[name][key]
			if mayMove[name][key] {
				continue
			}
			if _, expected := want[name][key]; !expected && moved != 0 {
				t.Errorf("%s: %s moved by %v, want it unchanged", name, key, moved)
			}
		}
		keys := make([]string, 0, len(want[name]))
		for key := range want[name] {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			moved := after[key] - before[name][key]
			if moved != want[name][key] {
				t.Errorf("%s: %s moved by %v, want %v", name, key, moved, want[name][key])
			}
			lines = append(lines, fmt.Sprintf("%s %s +%v", name, key, moved))
		}
	}
	report(t, "%d trips and one poison event: %s", trips, strings.Join(lines, "; "))
}
