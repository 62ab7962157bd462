package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The failure tests order many trips while something breaks, then count
// what became of each: every accepted order must end exactly once, and
// every refused one must leave nothing behind.

// order is one POST /trips a failure test sent, and its answer.
type order struct {
	riderID string // a rider of its own, so the rider's history is this trip's
	status  int    // the HTTP status; 0 when no answer came
	tripID  string // when accepted
	problem bool   // the answer is an RFC 9457 application/problem+json
	// unknown: the answer says the order may or may not have been accepted
	// (the trip service's publish was cut off on its way).
	unknown bool
	answer  string // the answer, or the transport error, for the record
}

// problemOutcomeUnknown is the problem type of an order whose fate the
// trip service cannot tell.
const problemOutcomeUnknown = "https://ride-choreography.example/problems/order-outcome-unknown"

func (o order) accepted() bool { return o.status == http.StatusAccepted && o.tripID != "" }

// pickups spread the orders over the corners where the drivers wait.
var pickups = []point{{50.0755, 14.4378}, {50.0870, 14.4208}, {50.1030, 14.3920}, {50.0600, 14.4600}, {50.0950, 14.4700}}

// placeOrder orders a trip for a new rider. It never fails the test (it
// runs on other goroutines): the answer is part of what the tests count.
func (s *system) placeOrder(i int) order {
	o := order{riderID: newID("rider")}
	req, err := http.NewRequest(http.MethodPost, s.url("trip", "/trips"), strings.NewReader(orderBody(o.riderID, pickups[i%len(pickups)])))
	if err != nil {
		o.answer = err.Error()
		return o
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		o.answer = err.Error()
		return o
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o.status = resp.StatusCode
	o.answer = fmt.Sprintf("%s %s %s", resp.Status, resp.Header.Get("Content-Type"), bytes.TrimSpace(body))
	o.problem = response{header: resp.Header}.mediaType() == "application/problem+json"
	if err != nil {
		o.answer += " (reading the body: " + err.Error() + ")"
		return o
	}
	var p problemView
	o.unknown = o.problem && json.Unmarshal(body, &p) == nil && p.Type == problemOutcomeUnknown
	var trip tripView
	if o.status == http.StatusAccepted && json.Unmarshal(body, &trip) == nil && isUUID(trip.TripID) {
		o.tripID = trip.TripID
	}
	return o
}

// orderAll orders n trips at once, from workers goroutines.
func (s *system) orderAll(n, workers int) []order {
	orders := make([]order, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				orders[i] = s.placeOrder(i)
			}
		})
	}
	wg.Wait()
	return orders
}

// orderFlow orders trips at a steady pace in the background, as riders go
// on doing while a part of the system fails.
type orderFlow struct {
	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	mu     sync.Mutex
	orders []order // answered, in the order the answers came
}

// startOrdering orders a trip every interval, with at most 16 orders
// waiting for an answer at a time, until stop.
func (s *system) startOrdering(t *testing.T, every time.Duration) *orderFlow {
	f := &orderFlow{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		var wg sync.WaitGroup
		defer wg.Wait()
		waiting := make(chan struct{}, 16)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-f.quit:
				return
			case <-tick.C:
			}
			select {
			case <-f.quit:
				return
			case waiting <- struct{}{}:
			}
			wg.Go(func() {
				o := s.placeOrder(i)
				f.mu.Lock()
				f.orders = append(f.orders, o)
				f.mu.Unlock()
				<-waiting
			})
		}
	}()
	t.Cleanup(func() { f.stop() })
	return f
}

// answered is how many orders have been answered so far.
func (f *orderFlow) answered() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.orders)
}

// awaitAnswered waits until n orders in all have been answered.
func (f *orderFlow) awaitAnswered(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%d orders answered", n), func() (bool, string) {
		got := f.answered()
		return got >= n, fmt.Sprintf("%d answered", got)
	})
}

// stop stops ordering, waits for the answers still due, and returns every
// order sent.
func (f *orderFlow) stop() []order {
	f.stopOnce.Do(func() { close(f.quit) })
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.orders)
}

// requireAccepted fails the test unless the trip service accepted every
// order.
func requireAccepted(t *testing.T, orders []order) {
	t.Helper()
	for _, o := range orders {
		if !o.accepted() {
			t.Fatalf("order of %s: want 202 Accepted with a trip id, got %s", o.riderID, o.answer)
		}
	}
}

// figures are what a failure test counts. Every accepted order (ordered)
// ends as exactly one of completed, lost and duplicated; completed ones
// end driver_assigned or no_driver. Refused orders were answered 5xx;
// leftBehind counts those that left a trace anyway. Orders whose outcome
// the answer called unknown are counted apart: unknown counts them, and
// unknownAccepted those that were accepted after all, which are judged
// (and counted in ordered) as accepted ones.
type figures struct {
	ordered, completed, lost, duplicated int
	assigned, noDriver                   int
	refused, leftBehind                  int
	unknown, unknownAccepted             int
	// judged holds each accepted order whose verdict came with reasons
	// (every lost and duplicated one), so that a report can name them.
	judged []judgedTrip
}

// judgedTrip is an accepted order that did not simply complete, and why.
type judgedTrip struct {
	tripID, riderID, verdict string
	why                      []string
}

// String is the figures as one line, for the README.
func (f figures) String() string {
	line := fmt.Sprintf("ordered %d, completed %d, lost %d, duplicated %d (driver_assigned %d, no_driver %d)",
		f.ordered, f.completed, f.lost, f.duplicated, f.assigned, f.noDriver)
	if f.refused > 0 {
		line += fmt.Sprintf("; refused %d (5xx), left behind %d", f.refused, f.leftBehind)
	}
	if f.unknown > 0 {
		line += fmt.Sprintf("; outcome unknown %d (accepted after all %d)", f.unknown, f.unknownAccepted)
	}
	return line
}

// check fails the test unless every accepted order completed exactly once
// and no refused order left anything behind.
func (f figures) check(t *testing.T) {
	t.Helper()
	if f.lost > 0 || f.duplicated > 0 || f.leftBehind > 0 || f.completed != f.ordered {
		t.Errorf("want every accepted order completed exactly once and nothing left by refused ones, got %s", f)
	}
}

// count adds an accepted order's verdict (see judge) to the figures.
func (f *figures) count(verdict string, trip tripView) {
	switch verdict {
	case "completed":
		f.completed++
		if trip.Status == "driver_assigned" {
			f.assigned++
		} else {
			f.noDriver++
		}
	case "duplicated":
		f.duplicated++
	default:
		f.lost++
	}
}

// report logs a test's figures and prints them on stdout as one line that
// starts with "figures", so they show without -v and copy as they are.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	fmt.Printf("figures %s: %s\n", t.Name(), line)
}

// assignment is what driver-assigned said about a trip.
type assignment struct {
	tripID, riderID, driverID string
	assignedAt                time.Time
}

// assignments returns every driver-assigned event on the broker, oldest
// first; a trip may have several (a redelivered trip-created republishes
// its assignment), which must all name the same driver.
func (s *system) assignments(t *testing.T) []assignment {
	t.Helper()
	var out []assignment
	for _, e := range s.topicEvents(t, "driver-assigned") {
		var data struct {
			TripID     string    `json:"tripId"`
			RiderID    string    `json:"riderId"`
			AssignedAt time.Time `json:"assignedAt"`
			Driver     struct {
				ID string `json:"id"`
			} `json:"driver"`
		}
		if err := e.decodeData(&data); err != nil {
			t.Fatalf("driver-assigned event %s: %v: %s", e.ID, err, e.raw)
		}
		out = append(out, assignment{data.TripID, data.RiderID, data.Driver.ID, data.AssignedAt})
	}
	return out
}

// tally waits until the broker is quiet (in the other styles, which keep
// what is in flight in the coordinator, until every accepted trip is
// settled and its rider told), then judges every order:
//   - accepted: completed when the trip left "requested", the rider heard
//     trip_received first and then exactly one driver_assigned or no_driver
//     matching the trip, and the broker holds one outcome for it (one
//     driver in all its driver-assigned events, or only driver-not-found);
//     duplicated when anything happened twice or two outcomes disagree;
//     lost when something is missing;
//     (the other styles publish no events: there the trip and what its
//     rider was told must agree);
//   - refused (5xx, with a problem+json body): left behind when the rider
//     heard anything, trip-created mentions the rider, or the trip service
//     stored a trip for the rider;
//   - anything else fails the test.
//
// It reports each order that did not end well, with what the system says
// about it.
func (s *system) tally(t *testing.T, orders []order, quietWithin time.Duration) figures {
	t.Helper()
	events := s.settings.style == styleChoreography
	if !events {
		return s.tallyWithoutEvents(t, orders, quietWithin)
	}
	s.awaitQuiet(t, quietWithin)

	drivers := map[string]map[string]int{} // trip -> driver -> driver-assigned events
	for _, a := range s.assignments(t) {
		if drivers[a.tripID] == nil {
			drivers[a.tripID] = map[string]int{}
		}
		drivers[a.tripID][a.driverID]++
	}
	notFound := map[string]int{} // trip -> driver-not-found events
	for _, e := range s.topicEvents(t, "driver-not-found") {
		var data struct {
			TripID string `json:"tripId"`
		}
		if err := e.decodeData(&data); err != nil {
			t.Fatalf("driver-not-found event %s: %v: %s", e.ID, err, e.raw)
		}
		notFound[data.TripID]++
	}
	announced := map[string][]string{} // rider -> "event id (trip id)" of trip-created
	for _, e := range s.topicEvents(t, "trip-created") {
		var data struct {
			TripID  string `json:"tripId"`
			RiderID string `json:"riderId"`
		}
		if err := e.decodeData(&data); err == nil {
			announced[data.RiderID] = append(announced[data.RiderID], e.ID+" ("+data.TripID+")")
		}
	}
	storedFor := map[string][]string{} // rider -> stored trip ids
	for tripID, riderID := range s.storedTrips(t) {
		storedFor[riderID] = append(storedFor[riderID], tripID)
	}

	var f figures
	var problems []string
	for _, o := range orders {
		if o.unknown {
			// Accepted after all when its event is on the broker: then it
			// must complete exactly once, as an accepted order.
			f.unknown++
			stored := storedFor[o.riderID]
			switch {
			case len(stored) == 0 && len(announced[o.riderID]) == 0 && len(s.notifications(t, o.riderID)) == 0:
				continue
			case len(stored) != 1:
				f.duplicated++
				problems = append(problems, fmt.Sprintf("order of %s with an unknown outcome: stored trips %v, trip-created %v; want one trip or none",
					o.riderID, stored, announced[o.riderID]))
				continue
			}
			f.unknownAccepted++
			o.status, o.tripID = http.StatusAccepted, stored[0]
		}
		switch {
		case o.accepted():
			f.ordered++
			trip := getJSON[tripView](t, s.url("trip", "/trips/"+o.tripID))
			history := s.notifications(t, o.riderID)
			verdict, why := judge(o, trip, history, &outcomeEvents{drivers[o.tripID], notFound[o.tripID]})
			f.count(verdict, trip)
			if len(why) > 0 {
				f.judged = append(f.judged, judgedTrip{o.tripID, o.riderID, verdict, why})
				problems = append(problems, fmt.Sprintf("trip %s of %s %s: %s; trip %+v; notifications %q; driver-assigned %v; driver-not-found %d; trip-created %v",
					o.tripID, o.riderID, verdict, strings.Join(why, ", "), trip, kinds(history), drivers[o.tripID], notFound[o.tripID], announced[o.riderID]))
			}
		case o.status >= 500:
			f.refused++
			if !o.problem {
				problems = append(problems, fmt.Sprintf("order of %s refused without an application/problem+json body: %s", o.riderID, o.answer))
			}
			history := s.notifications(t, o.riderID)
			if len(history) > 0 || len(announced[o.riderID]) > 0 || len(storedFor[o.riderID]) > 0 {
				f.leftBehind++
				problems = append(problems, fmt.Sprintf("refused order of %s (%s) left a trace: notifications %q, trip-created %v, stored trips %v",
					o.riderID, o.answer, kinds(history), announced[o.riderID], storedFor[o.riderID]))
			}
		default:
			problems = append(problems, fmt.Sprintf("order of %s: want 202 or 5xx, got %s", o.riderID, o.answer))
		}
	}
	for i, p := range problems {
		if i == 10 {
			t.Errorf("... and %d more", len(problems)-i)
			break
		}
		t.Error(p)
	}
	return f
}

// tallyWithoutEvents is tally in the styles that publish no events: it
// waits until every accepted trip has left "requested" and its rider has
// heard two things, or quietWithin passed, then judges each order by its
// trip and its rider's notifications.
func (s *system) tallyWithoutEvents(t *testing.T, orders []order, quietWithin time.Duration) figures {
	t.Helper()
	deadline := time.Now().Add(quietWithin)
	for _, o := range orders {
		if !o.accepted() {
			continue
		}
		for time.Now().Before(deadline) {
			// The coordinator may not answer for a moment (its sidecar
			// restarting): not settled yet.
			var trip tripView
			r := do(t, http.MethodGet, s.url("trip", "/trips/"+o.tripID), "")
			if r.status == http.StatusOK && json.Unmarshal(r.body, &trip) == nil && trip.Status != "requested" && len(s.notifications(t, o.riderID)) >= 2 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var f figures
	for _, o := range orders {
		switch {
		case o.accepted():
			f.ordered++
			trip := getJSON[tripView](t, s.url("trip", "/trips/"+o.tripID))
			history := s.notifications(t, o.riderID)
			verdict, why := judge(o, trip, history, nil)
			f.count(verdict, trip)
			if len(why) > 0 {
				t.Errorf("trip %s of %s %s: %s; trip %+v; notifications %q", o.tripID, o.riderID, verdict, strings.Join(why, ", "), trip, kinds(history))
			}
		case o.status >= 500:
			f.refused++
			if !o.problem {
				t.Errorf("order of %s refused without an application/problem+json body: %s", o.riderID, o.answer)
			}
			if history := s.notifications(t, o.riderID); len(history) > 0 {
				f.leftBehind++
				t.Errorf("refused order of %s (%s) left a trace: notifications %q", o.riderID, o.answer, kinds(history))
			}
		default:
			t.Errorf("order of %s: want 202 or 5xx, got %s", o.riderID, o.answer)
		}
	}
	return f
}

// outcomeEvents are the driver service's events about a trip on the
// broker: driver -> driver-assigned events naming it, and driver-not-found
// events.
type outcomeEvents struct {
	drivers  map[string]int
	notFound int
}

// judge decides what became of an accepted order, and says why when it
// did not simply complete. events are the broker's outcome events for the
// trip, which must agree with it; nil in the styles that publish none.
func judge(o order, trip tripView, history []notificationView, events *outcomeEvents) (verdict string, why []string) {
	var drivers map[string]int
	notFound := 0
	if events != nil {
		drivers, notFound = events.drivers, events.notFound
	}
	count := map[string]int{}
	for _, n := range history {
		if n.TripID != o.tripID {
			why = append(why, "a notification for trip "+n.TripID)
			continue
		}
		count[n.Kind]++
	}
	outcomes := count["driver_assigned"] + count["no_driver"]
	var twice, missing []string
	if count["trip_received"] > 1 || count["driver_assigned"] > 1 || count["no_driver"] > 1 {
		twice = append(twice, fmt.Sprintf("notified %v", count))
	}
	if outcomes > 1 {
		twice = append(twice, "told driver_assigned and no_driver")
	}
	if len(drivers) > 1 {
		twice = append(twice, fmt.Sprintf("driver-assigned names %d drivers", len(drivers)))
	}
	if len(drivers) > 0 && notFound > 0 {
		twice = append(twice, "both driver-assigned and driver-not-found")
	}
	switch trip.Status {
	case "driver_assigned":
		if trip.Driver == nil || (events != nil && drivers[trip.Driver.ID] == 0) {
			twice = append(twice, "the trip's driver is not the one driver-assigned names")
		}
		if count["no_driver"] > 0 {
			twice = append(twice, "assigned, but the rider was told no_driver")
		}
		for _, n := range history {
			if n.Kind == "driver_assigned" && trip.Driver != nil && !strings.HasPrefix(n.Text, trip.Driver.Name+" ") {
				twice = append(twice, fmt.Sprintf("the rider was told %q, the trip has %s", n.Text, trip.Driver.Name))
			}
		}
	case "no_driver":
		if events != nil && notFound == 0 {
			missing = append(missing, "no_driver without driver-not-found")
		}
		if count["driver_assigned"] > 0 {
			twice = append(twice, "no_driver, but the rider was told driver_assigned")
		}
	default:
		missing = append(missing, "status "+trip.Status)
	}
	if count["trip_received"] == 0 {
		missing = append(missing, "no trip_received")
	}
	if outcomes == 0 {
		missing = append(missing, "no driver_assigned or no_driver notification")
	}
	if len(history) > 0 && history[0].Kind != "trip_received" {
		why = append(why, "the first notification is "+history[0].Kind)
	}
	why = append(append(why, twice...), missing...)
	switch {
	case len(twice) > 0:
		return "duplicated", why
	case len(missing) > 0:
		return "lost", why
	}
	return "completed", why
}
