package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deadLettersView is what GET /dead-letters answers (docs/conventions.md).
type deadLettersView struct {
	Count       int              `json:"count"`
	DeadLetters []deadLetterView `json:"deadLetters"`
}

type deadLetterView struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

// deadLetters returns the dead letters with the given CloudEvent id that
// the named service lists, and the count it reports.
func (s *system) deadLetters(t *testing.T, service, id string) (found []deadLetterView, count int) {
	t.Helper()
	v := getJSON[deadLettersView](t, s.url(service, "/dead-letters"))
	for _, d := range v.DeadLetters {
		if d.ID == id {
			found = append(found, d)
		}
	}
	return found, v.Count
}

// logged counts the JSON log lines of a replica's service with the given
// message about the given event id.
func (s *system) logged(t *testing.T, a *app, message, eventID string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.logDir(), a.instance+".log"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		var entry struct {
			Message string `json:"message"`
			EventID string `json:"eventId"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == message && entry.EventID == eventID {
			n++
		}
	}
	return n
}

// A poison trip-created, a well-formed CloudEvent whose data breaks the
// schema (no riderId), is dropped by each of its consumers to their dead
// letters, where GET /dead-letters shows it with its id and the reason and
// the log says so; nothing is done for it; a copy with the same id is kept
// and logged once; and a trip ordered right after it completes.
func TestPoisonEventGoesToDeadLetters(t *testing.T) {
	s := startSystem(t)
	poisonID, poisonTrip := newID("poison"), newUUID()
	poison := cloudEvent(t, poisonID, "trip-created", map[string]any{
		"tripId":      poisonTrip,
		"pickup":      map[string]float64{"lat": 50.0755, "lon": 14.4378},
		"dropoff":     map[string]float64{"lat": 50.1, "lon": 14.26},
		"requestedAt": time.Now().UTC().Format(time.RFC3339Nano),
	})
	start := time.Now()
	s.publish(t, s.app("trip"), "trip-created", poison)

	riderID := newID("rider")
	trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))
	s.settledTrip(t, trip.TripID)
	s.awaitNotifications(t, riderID, 2)
	behind := time.Since(start)

	// trip consumes its own trip-created too: it records the trip from it
	// when POST /trips could not.
	consumers := []string{"trip", "driver", "notification"}
	reasons := map[string]string{}
	for _, name := range consumers {
		eventually(t, 30*time.Second, name+" to list dead letter "+poisonID, func() (bool, string) {
			found, count := s.deadLetters(t, name, poisonID)
			return len(found) > 0, fmt.Sprintf("count %d, none with id %s", count, poisonID)
		})
		found, _ := s.deadLetters(t, name, poisonID)
		d := found[0]
		if d.Topic != "trip-created" || d.Reason == "" || d.ReceivedAt.IsZero() || !strings.Contains(string(d.Event), poisonTrip) {
			t.Errorf("%s: dead letter %+v: want topic trip-created, a reason, receivedAt, and the event", name, d)
		}
		reasons[name] = d.Reason
	}
	// A copy with the same id is stored once.
	s.publish(t, s.app("trip"), "trip-created", poison)
	s.awaitQuiet(t, time.Minute)
	for _, name := range consumers {
		found, count := s.deadLetters(t, name, poisonID)
		if len(found) != 1 || count != 1 {
			t.Errorf("%s after a second copy of the poison: %d dead letters with its id, count %d; want 1 and 1", name, len(found), count)
		}
		if n := s.logged(t, s.app(name), "dead letter stored", poisonID); n != 1 {
			t.Errorf("%s logged \"dead letter stored\" for %s %d times, want once", name, poisonID, n)
		}
	}

	// Nothing was done for the poison: no driver taken, nothing announced.
	if on := s.driversOn(t, poisonTrip); len(on) != 0 {
		t.Errorf("drivers on the poison trip: %v, want none", on)
	}
	for _, a := range s.assignments(t) {
		if a.tripID == poisonTrip {
			t.Errorf("driver-assigned for the poison trip: %+v", a)
		}
	}
	f := s.tally(t, []order{{riderID: riderID, status: http.StatusAccepted, tripID: trip.TripID}}, time.Minute)
	f.check(t)

	report(t, "poison trip-created %s dead-lettered by trip (%q), driver (%q) and notification (%q), each once after 2 copies; the trip ordered after it completed %s after the poison was published",
		poisonID, reasons["trip"], reasons["driver"], reasons["notification"], behind.Round(10*time.Millisecond))
}
