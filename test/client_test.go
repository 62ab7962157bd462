package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
)

// What the public APIs answer, as far as the tests look (clients ignore
// fields they do not know).
type (
	tripView struct {
		TripID     string      `json:"tripId"`
		RiderID    string      `json:"riderId"`
		Status     string      `json:"status"`
		Driver     *driverView `json:"driver"`
		ETASeconds *int        `json:"etaSeconds"`
		UpdatedAt  time.Time   `json:"updatedAt"`
	}
	driverView struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Car  struct {
			Make  string `json:"make"`
			Model string `json:"model"`
			Color string `json:"color"`
			Plate string `json:"plate"`
		} `json:"car"`
	}
	notificationView struct {
		TripID string    `json:"tripId"`
		Kind   string    `json:"kind"`
		Text   string    `json:"text"`
		SentAt time.Time `json:"sentAt"`
	}
	historyView struct {
		Notifications []notificationView `json:"notifications"`
	}
	poolView struct {
		Drivers []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Status string `json:"status"`
			TripID string `json:"tripId"`
		} `json:"drivers"`
	}
	problemView struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
)

// point is a WGS 84 position.
type point struct{ lat, lon float64 }

// jardasCorner is where Jarda waits in the default driver pool: an order
// from here gets Jarda while he is free.
var jardasCorner = point{50.0755, 14.4378}

// orderBody is a valid POST /trips body.
func orderBody(riderID string, pickup point) string {
	return fmt.Sprintf(`{"riderId":%q,"pickup":{"lat":%v,"lon":%v},"dropoff":{"lat":50.1,"lon":14.26}}`,
		riderID, pickup.lat, pickup.lon)
}

// newID returns a fresh id with the given prefix, so that tests never see
// each other's riders.
func newID(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("%d %s %s", r.status, r.header.Get("Content-Type"), bytes.TrimSpace(r.body))
}

// mediaType is the response's Content-Type without parameters.
func (r response) mediaType() string {
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	return mt
}

// client is the tests' client of the public APIs: each rider's request
// goes with its rider's bearer token (riders).
var client = &http.Client{Timeout: 10 * time.Second, Transport: riders}

// do sends a request and reads the whole answer; header holds name/value
// pairs. A rider's request goes with its rider's token unless header
// sets Authorization.
func do(t *testing.T, method, url, body string, header ...string) response {
	t.Helper()
	return doWith(t, client, method, url, body, header...)
}

// bareClient sends no token but those a request sets. Its answers are
// checked against contracts/openapi.yaml too.
var bareClient = &http.Client{Timeout: 10 * time.Second, Transport: checked(http.DefaultTransport)}

// doWith is do with client c.
func doWith(t *testing.T, c *http.Client, method, url, body string, header ...string) response {
	t.Helper()
	// A request that breaks contracts/openapi.yaml fails t.
	req, err := http.NewRequestWithContext(withTest(context.Background(), t), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// orderTrip posts a valid order and returns the answer, whatever it is.
func (s *system) orderTrip(t *testing.T, body string, header ...string) response {
	t.Helper()
	return do(t, http.MethodPost, s.url("trip", "/trips"), body, append([]string{"Content-Type", "application/json"}, header...)...)
}

// accepted checks that r is the 202 of an accepted order and returns the
// trip it describes.
func accepted(t *testing.T, r response) tripView {
	t.Helper()
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /trips: want 202 Accepted, got %s", r)
	}
	trip := decode[tripView](t, r)
	if !isUUID(trip.TripID) {
		t.Fatalf("POST /trips: tripId %q is not a UUID", trip.TripID)
	}
	if got, want := r.header.Get("Location"), "/trips/"+trip.TripID; got != want {
		t.Errorf("POST /trips: Location = %q, want %q", got, want)
	}
	return trip
}

// getJSON GETs url, checks for 200 and JSON, and decodes the body.
func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	r := do(t, http.MethodGet, url, "")
	if r.status != http.StatusOK || r.mediaType() != "application/json" {
		t.Fatalf("GET %s: want 200 application/json, got %s", url, r)
	}
	return decode[T](t, r)
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r, err)
	}
	return v
}

// wantProblem checks that r is an RFC 9457 problem with a status allowed
// by want, and that the body says the same status as the response.
func wantProblem(t *testing.T, r response, want ...int) {
	t.Helper()
	allowed := false
	for _, status := range want {
		allowed = allowed || r.status == status
	}
	if !allowed {
		t.Errorf("want status %v, got %s", want, r)
		return
	}
	if r.mediaType() != "application/problem+json" {
		t.Errorf("want Content-Type application/problem+json, got %s", r)
		return
	}
	p := decode[problemView](t, r)
	if p.Status != r.status || p.Title == "" {
		t.Errorf("problem body %+v does not describe the %d response", p, r.status)
	}
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdef", c):
			return false
		}
	}
	return true
}

// eventually calls check until it reports done, and fails the test with
// check's last word when timeout passes first.
func eventually(t *testing.T, timeout time.Duration, what string, check func() (done bool, state string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		done, state := check()
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %s for %s; last seen: %s", timeout, what, state)
		case <-tick.C:
		}
	}
}

// settledTrip waits until the trip leaves "requested" and returns it.
func (s *system) settledTrip(t *testing.T, tripID string) tripView {
	t.Helper()
	var trip tripView
	eventually(t, 30*time.Second, "trip "+tripID+" to get a driver or none", func() (bool, string) {
		trip = getJSON[tripView](t, s.url("trip", "/trips/"+tripID))
		return trip.Status != "requested", fmt.Sprintf("%+v", trip)
	})
	return trip
}

// notifications returns the rider's notification history.
func (s *system) notifications(t *testing.T, riderID string) []notificationView {
	t.Helper()
	return getJSON[historyView](t, s.url("notification", "/riders/"+riderID+"/notifications")).Notifications
}

// awaitNotifications waits until the rider has at least n notifications
// and returns them all.
func (s *system) awaitNotifications(t *testing.T, riderID string, n int) []notificationView {
	t.Helper()
	var got []notificationView
	eventually(t, 30*time.Second, fmt.Sprintf("%d notifications for %s", n, riderID), func() (bool, string) {
		got = s.notifications(t, riderID)
		return len(got) >= n, fmt.Sprintf("%+v", got)
	})
	return got
}

// kinds lists the kind and trip of each notification.
func kinds(ns []notificationView) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Kind+" "+n.TripID)
	}
	return out
}

// eventStream is an open Server-Sent Events response.
type eventStream struct {
	events chan string // the data of each event
	errs   chan error  // why the stream ended
}

// openStream GETs an SSE url and returns once the server has answered, so
// that events sent after that are not missed. The stream closes at the end
// of the test.
// streamClient follows a stream: no timeout, since it stays open.
var streamClient = &http.Client{Transport: riders}

func openStream(t *testing.T, url string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(withTest(ctx, t), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := streamClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("GET %s: want 200 text/event-stream, got %s %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	s := &eventStream{events: make(chan string), errs: make(chan error, 1)}
	go func() {
		defer resp.Body.Close()
		var data []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && len(data) > 0:
				select {
				case s.events <- strings.Join(data, "\n"):
				case <-ctx.Done():
					return
				}
				data = nil
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			}
		}
		s.errs <- fmt.Errorf("stream ended: %v", sc.Err())
	}()
	return s
}

// next returns the data of the next event, failing the test when none comes
// within timeout.
func (s *eventStream) next(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case data := <-s.events:
		return data
	case err := <-s.errs:
		t.Fatalf("waiting for a server-sent event: %v", err)
	case <-time.After(timeout):
		t.Fatalf("no server-sent event within %s", timeout)
	}
	return ""
}
