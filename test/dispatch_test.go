package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The dispatch service (issue 14): a fourth service that reads the ride's
// events without any other service knowing it, and shows dispatchers the
// riders waiting, the drivers on the way and the trips left without one.

// boardView is GET /board of the dispatch service, as far as the tests
// read it.
type boardView struct {
	Waiting []struct {
		TripID, RiderID string
		Pickup          struct{ Lat, Lon float64 }
	}
	Assigned []struct {
		TripID string
		Pickup *struct{ Lat, Lon float64 }
		Driver struct{ ID, Name string }
	}
	NotFound []struct {
		TripID, ReasonCode string
		Pickup             *struct{ Lat, Lon float64 }
	}
	Counters struct {
		WaitingNow, AssignedRecently, NotFoundRecently int
		LongestWaitSeconds                             int64
	}
	Feed []struct{ Kind, TripID, Text string }
}

// dispatcherToken is a token of the system's development issuer for a
// dispatcher, got as a dispatcher would: GET /token with the role.
func (s *system) dispatcherToken(t *testing.T, subject string) string {
	t.Helper()
	r := doWith(t, bareClient, http.MethodGet, s.issuerURL()+"/token?sub="+url.QueryEscape(subject)+"&role=dispatcher", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /token for a dispatcher: %s", r)
	}
	return strings.TrimSpace(string(r.body))
}

// board reads GET /board with a dispatcher's token.
func (s *system) board(t *testing.T, token string) boardView {
	t.Helper()
	r := doWith(t, bareClient, http.MethodGet, s.url(dispatchService, "/board"), "", "Authorization", "Bearer "+token)
	if r.status != http.StatusOK {
		t.Fatalf("GET /board: %s", r)
	}
	return decode[boardView](t, r)
}

// shows reports whether the board shows the trip as status: waiting,
// assigned or not_found.
func (b boardView) shows(tripID, status string) bool {
	switch status {
	case "waiting":
		return slices.ContainsFunc(b.Waiting, func(w struct {
			TripID, RiderID string
			Pickup          struct{ Lat, Lon float64 }
		}) bool {
			return w.TripID == tripID
		})
	case "assigned":
		for _, a := range b.Assigned {
			if a.TripID == tripID {
				return true
			}
		}
	case "not_found":
		for _, n := range b.NotFound {
			if n.TripID == tripID {
				return true
			}
		}
	}
	return false
}

// The board shows a trip that found no driver near its pickup, at that
// pickup, with the reason; for a dispatcher only: a rider's token gets
// 403, none 401.
func TestDispatchBoardShowsTheTrips(t *testing.T) {
	sys := shared(t)
	token := sys.dispatcherToken(t, "dispatcher-e2e")
	// Far from every driver: the outcome comes at once, and the trip takes
	// none of the shared system's drivers.
	rider := newID("rider")
	trip := accepted(t, sys.orderTrip(t, orderBody(rider, farFromEveryDriver)))
	start := time.Now()
	eventually(t, 30*time.Second, "the trip on the board, without a driver", func() (bool, string) {
		b := sys.board(t, token)
		return b.shows(trip.TripID, "not_found"), fmt.Sprintf("%d waiting, %d without a driver", len(b.Waiting), len(b.NotFound))
	})
	b := sys.board(t, token)
	for _, n := range b.NotFound {
		if n.TripID == trip.TripID && (n.ReasonCode != "no_driver_near" || n.Pickup == nil || n.Pickup.Lat != farFromEveryDriver.lat || n.Pickup.Lon != farFromEveryDriver.lon) {
			t.Errorf("the board shows %+v, want no_driver_near at %v", n, farFromEveryDriver)
		}
	}
	if b.Counters.NotFoundRecently < 1 || !slices.ContainsFunc(b.Feed, func(e struct{ Kind, TripID, Text string }) bool {
		return e.TripID == trip.TripID && e.Kind == "not_found" && e.Text == "No driver near "+rider
	}) {
		t.Errorf("counters %+v, feed %+v: want the trip counted and told", b.Counters, b.Feed)
	}
	report(t, "the trip reached the board %s after its order", time.Since(start).Round(time.Millisecond))

	for _, c := range []struct {
		name, authorization string
		want                int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a rider's token", bearer(rider), http.StatusForbidden},
	} {
		for _, path := range []string{"/board", "/board/stream"} {
			var header []string
			if c.authorization != "" {
				header = []string{"Authorization", c.authorization}
			}
			r := doWith(t, bareClient, http.MethodGet, sys.url(dispatchService, path), "", header...)
			if r.status != c.want || r.mediaType() != "application/problem+json" {
				t.Errorf("GET %s with %s: %s, want %d problem+json", path, c.name, r, c.want)
			}
		}
	}
}

// The dispatch service and its sidecar are down while trips are ordered
// and decided; started again, it catches up from its backlog and its
// board is right: every trip shown once, with its driver, none waiting.
func TestDispatchDownCatchesUp(t *testing.T) {
	s := startSystem(t, withDispatch(), shortRides)
	d := s.app(dispatchService)
	s.stopService(t, d, syscall.SIGTERM)
	s.stopSidecar(t, d, syscall.SIGTERM)

	orders := s.orderAll(40, 4)
	requireAccepted(t, orders)
	decided := func() (bool, string) {
		n := 0
		for _, o := range orders {
			if getJSON[tripView](t, s.url("trip", "/trips/"+o.tripID)).Status != "requested" {
				n++
			}
		}
		return n == len(orders), fmt.Sprintf("%d of %d decided", n, len(orders))
	}
	eventually(t, 2*time.Minute, "every trip decided while the dispatch service is down", decided)
	down := time.Now()

	restarted := time.Now()
	s.startApp(t, d)
	// Every service, the dispatch service included, has handled all it was
	// handed: the broker is quiet.
	f := s.tally(t, orders, time.Minute)
	f.check(t)
	token := s.dispatcherToken(t, "dispatcher-e2e")
	var b boardView
	eventually(t, time.Minute, "every trip decided on the board", func() (bool, string) {
		b = s.board(t, token)
		n := b.Counters.AssignedRecently + b.Counters.NotFoundRecently
		return n >= len(orders), fmt.Sprintf("%d of %d decided, %d waiting", n, len(orders), len(b.Waiting))
	})
	caughtUp := time.Since(restarted)
	// A moment more, for a repeat that would count a trip twice.
	time.Sleep(2 * time.Second)
	b = s.board(t, token)
	if got := b.Counters.AssignedRecently + b.Counters.NotFoundRecently; got != len(orders) || b.Counters.AssignedRecently != f.assigned {
		t.Errorf("the board counts %d assigned and %d without a driver; the trips say %d and %d",
			b.Counters.AssignedRecently, b.Counters.NotFoundRecently, f.assigned, f.noDriver)
	}
	if len(b.Waiting) != 0 {
		t.Errorf("%d riders shown waiting, want none: every trip was decided", len(b.Waiting))
	}
	// The map shows a decided trip for ShownFor (2 minutes) after its
	// outcome: later than that the board is judged by its counters alone.
	if since := time.Since(down); since > 100*time.Second {
		report(t, "the board was read %s after the trips were decided, when the map no longer shows them: judged by its counters only", since.Round(time.Second))
		orders = nil
	}
	for _, o := range orders {
		shown := 0
		for _, a := range b.Assigned {
			if a.TripID == o.tripID {
				shown++
				if a.Pickup == nil || a.Driver.Name == "" {
					t.Errorf("trip %s shown as %+v, want its pickup and driver", o.tripID, a)
				}
			}
		}
		for _, n := range b.NotFound {
			if n.TripID == o.tripID {
				shown++
			}
		}
		if shown != 1 {
			t.Errorf("trip %s shown %d times, want once", o.tripID, shown)
		}
	}
	report(t, "%d trips ordered while the dispatch service was down; its board was right %s after it came back",
		f.ordered, caughtUp.Round(100*time.Millisecond))
}

// TestDispatchPageInABrowser drives Chromium against the real system: a
// dispatcher signs in with a token of the development issuer, trips are
// ordered through the Trip API while every driver is on a ride, and their
// markers appear on the map, waiting, then turn into drivers on the way;
// one ordered far from every driver shows "no driver". The page's console
// stays clean, it asks no other host for anything, it reads on a phone,
// and its picture is saved (DISPATCH_SCREENSHOT, for the README).
func TestDispatchPageInABrowser(t *testing.T) {
	// Five drivers, each on a ride for 25 s; pickups beyond 5 km of every
	// driver find none at once.
	s := startSystem(t, withDispatch(), withEnv("driver", "RIDE_DURATION=25s", "ASSIGN_DEADLINE=2m", "MAX_PICKUP_KM=5"))
	page := s.url(dispatchService, "/")
	origin := strings.TrimSuffix(page, "/")
	b := newBrowser(t)

	// Signing in: the page sends a stranger to the form, the form takes a
	// dispatcher's token and keeps it in the session cookie.
	b.navigate(page)
	var at string
	b.evaluate(`location.pathname`, &at)
	if at != "/signin" {
		t.Fatalf("the page without a session is at %q, want /signin", at)
	}
	token := s.dispatcherToken(t, "dispatcher-e2e")
	b.evaluate(fmt.Sprintf(`document.getElementById("token").value = %q; document.querySelector("form").submit(); true`, token), nil)
	if _, took, err := b.waitCount("#status.live", func(n int) bool { return n == 1 }, 30*time.Second); err != nil {
		t.Fatalf("the board never went live after signing in: %v", err)
	} else {
		report(t, "signed in; the board live %s later", took.Round(time.Millisecond))
	}

	order := func(p point) string {
		return accepted(t, s.orderTrip(t, orderBody(newID("rider"), p))).TripID
	}
	// Pickups on a grid about 2.5 km apart around the middle of the
	// drivers, all within 5 km of one of them.
	around := func(i int) point { return point{50.0800 + 0.022*float64(i%3-1), 14.4400 + 0.036*float64(i/3-1)} }
	// Every driver takes a ride.
	for i := range 5 {
		order(around(i))
	}
	if n, took, err := b.waitCount(".marker.assigned", func(n int) bool { return n >= 5 }, 60*time.Second); err != nil {
		t.Fatalf("%d drivers on the way shown, want 5: %v", n, err)
	} else {
		report(t, "5 drivers on the way shown %s after their orders", took.Round(time.Millisecond))
	}
	// Three more riders wait: no driver is free until a ride ends.
	var waiting []string
	for i := 5; i < 8; i++ {
		waiting = append(waiting, order(around(i)))
	}
	markers := func(class string, ids []string) string {
		var sel []string
		for _, id := range ids {
			sel = append(sel, fmt.Sprintf(`.marker.%s[data-trip-id=%q]`, class, id))
		}
		return strings.Join(sel, ", ")
	}
	if n, took, err := b.waitCount(markers("waiting", waiting), func(n int) bool { return n == 3 }, 60*time.Second); err != nil {
		t.Fatalf("%d of the 3 waiting riders shown: %v", n, err)
	} else {
		report(t, "3 waiting riders appeared on the map %s after their orders", took.Round(time.Millisecond))
	}
	if got := b.text("#count-waiting"); got != "3" {
		t.Errorf("waiting now: %q, want 3", got)
	}
	// One more, 10 km from every driver: no driver near, at once.
	far := order(point{49.99, 14.55})
	if _, _, err := b.waitCount(markers("no-driver", []string{far}), func(n int) bool { return n == 1 }, 60*time.Second); err != nil {
		t.Fatalf("the trip far from every driver is not shown without one: %v", err)
	}
	shot := os.Getenv("DISPATCH_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(s.dir, "dispatch.png")
	}
	b.screenshot(shot)
	report(t, "screenshot: %s", shot)

	// A ride ends, a driver comes for each waiting rider: their markers
	// turn into drivers on the way.
	if n, took, err := b.waitCount(markers("assigned", waiting), func(n int) bool { return n == 3 }, 90*time.Second); err != nil {
		t.Fatalf("%d of the 3 waiting riders got a driver on the map: %v", n, err)
	} else {
		report(t, "the 3 waiting riders' markers turned into drivers on the way %s later (rides of 25 s)", took.Round(time.Millisecond))
	}
	if n, _, _ := b.waitCount(markers("waiting", waiting), func(n int) bool { return n == 0 }, 10*time.Second); n != 0 {
		t.Errorf("%d waiting markers left after the drivers came", n)
	}
	for sel, want := range map[string]string{"#count-waiting": "0", "#count-assigned": "8", "#count-not-found": "1"} {
		if got := b.text(sel); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	if n, _, err := b.waitCount("#feed li", func(n int) bool { return n >= 17 }, 10*time.Second); err != nil {
		t.Errorf("%d lines in the feed, want 17: 9 orders and 9 outcomes, one order perhaps after its outcome: %v", n, err)
	}

	// On a phone: nothing wider than the screen.
	b.mobile(390, 844)
	b.navigate(page)
	if _, _, err := b.waitCount("#status.live", func(n int) bool { return n == 1 }, 30*time.Second); err != nil {
		t.Fatalf("the board did not go live on a phone: %v", err)
	}
	var overflow bool
	b.evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow)
	if overflow {
		t.Error("on a phone the page is wider than the screen")
	}

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the console shows errors:\n%s", strings.Join(errs, "\n"))
	}
	if others := b.requestsNotTo(origin); len(others) > 0 {
		t.Errorf("the page asked other hosts: %v", others)
	}
}

// A dispatcher signs in over plain HTTP as a browser does, step by step:
// the page sends a stranger to the form, a rider's token is refused, a
// dispatcher's is kept in the session cookie, which then opens the page,
// the board and the page's own files, and signing out deletes it. Every
// answer goes through the contract check (contracts/openapi.yaml).
func TestDispatchSignInOverHTTP(t *testing.T) {
	sys := shared(t)
	// Redirects are looked at, not followed.
	c := &http.Client{Timeout: 10 * time.Second, Transport: bareClient.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := sys.url(dispatchService, "/")
	if r := doWith(t, c, http.MethodGet, page, ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin" {
		t.Fatalf("GET / without a session: %s, Location %q; want 303 to /signin", r, r.header.Get("Location"))
	}
	if r := doWith(t, c, http.MethodGet, sys.url(dispatchService, "/signin"), ""); r.status != http.StatusOK || r.mediaType() != "text/html" {
		t.Fatalf("GET /signin: %s", r)
	}
	signIn := func(token string) response {
		return doWith(t, c, http.MethodPost, sys.url(dispatchService, "/signin"), url.Values{"token": {token}}.Encode(),
			"Content-Type", "application/x-www-form-urlencoded")
	}
	if r := signIn(riderToken(newID("rider"))); r.status != http.StatusForbidden || r.header.Get("Set-Cookie") != "" {
		t.Errorf("a rider's token signs in: %d, Set-Cookie %q; want 403 and no cookie", r.status, r.header.Get("Set-Cookie"))
	}
	r := signIn(sys.dispatcherToken(t, "dispatcher-e2e"))
	session, _, _ := strings.Cut(r.header.Get("Set-Cookie"), ";")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(session, "dispatch_session=") ||
		!strings.Contains(r.header.Get("Set-Cookie"), "HttpOnly") || !strings.Contains(r.header.Get("Set-Cookie"), "SameSite=Strict") {
		t.Fatalf("a dispatcher's token: %d, Set-Cookie %q; want 303 and an HttpOnly, SameSite=Strict session cookie", r.status, r.header.Get("Set-Cookie"))
	}
	for _, path := range []string{"/", "/board", "/static/app.js", "/static/area.json"} {
		if r := doWith(t, c, http.MethodGet, sys.url(dispatchService, path), "", "Cookie", session); r.status != http.StatusOK {
			t.Errorf("GET %s with the session: %s", path, r)
		}
	}
	out := doWith(t, c, http.MethodPost, sys.url(dispatchService, "/signout"), "", "Cookie", session)
	if out.status != http.StatusSeeOther || !strings.Contains(out.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("POST /signout: %d, Set-Cookie %q; want 303 and the cookie deleted", out.status, out.header.Get("Set-Cookie"))
	}
}
