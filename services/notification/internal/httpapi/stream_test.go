package httpapi_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/auth/authtest"
	"github.com/ride-choreography/services/notification/internal/contracttest"
	"github.com/ride-choreography/services/notification/internal/httpapi"
	"github.com/ride-choreography/services/notification/internal/metrics"
)

const otherTripID = "6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d"

// sseBlock is one block of a Server-Sent Events stream: an event, or a
// comment.
type sseBlock struct {
	ID, Event, Data, Comment string
}

// stream is a client's view of a notification stream.
type stream struct {
	blocks <-chan sseBlock
}

// openStream connects to the rider's notification stream on srv.
func openStream(t *testing.T, srv *liveServer, riderID, lastEventID string) stream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/riders/"+riderID+"/notifications/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", srv.issuer.Bearer(t, riderID))
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", got)
	}

	blocks := make(chan sseBlock)
	go func() {
		defer close(blocks)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var b sseBlock
		for sc.Scan() {
			line := sc.Text()
			if line != "" {
				field, value, _ := strings.Cut(line, ":")
				value = strings.TrimPrefix(value, " ")
				switch field {
				case "":
					b.Comment = value
				case "id":
					b.ID = value
				case "event":
					b.Event = value
				case "data":
					b.Data = value
				}
				continue
			}
			select {
			case blocks <- b:
			case <-ctx.Done():
				return
			}
			b = sseBlock{}
		}
	}()
	t.Cleanup(cancel)
	return stream{blocks: blocks}
}

// next returns the next block, comments included.
func (s stream) next(t *testing.T) (sseBlock, bool) {
	t.Helper()
	select {
	case b, ok := <-s.blocks:
		return b, ok
	case <-time.After(5 * time.Second):
		t.Fatal("no block within 5 s")
		return sseBlock{}, false
	}
}

// events returns the next n events, skipping comments.
func (s stream) events(t *testing.T, n int) []sseBlock {
	t.Helper()
	var got []sseBlock
	for len(got) < n {
		b, ok := s.next(t)
		if !ok {
			t.Fatalf("stream ended after %d events, want %d", len(got), n)
		}
		if b.Comment == "" {
			got = append(got, b)
		}
	}
	return got
}

func tripReceivedEvent(tripID string) sseBlock {
	return sseBlock{
		ID:    tripID + ":trip_received",
		Event: "notification",
		Data:  `{"tripId":"` + tripID + `","kind":"trip_received","text":"We received your order and are looking for a driver.","sentAt":"2026-11-27T09:30:02Z"}`,
	}
}

var driverAssignedEvent = sseBlock{
	ID:    tripID + ":driver_assigned",
	Event: "notification",
	Data:  `{"tripId":"` + tripID + `","kind":"driver_assigned","text":"Jarda is on the way in a blue Toyota Corolla, 1AB 2345, about 4 min.","sentAt":"2026-11-27T09:30:02Z"}`,
}

// serve runs ts on a local port until the test ends, after its streams
// (whose cleanups run first).
func serve(t *testing.T, ts *testServer) *liveServer {
	t.Helper()
	srv := httptest.NewServer(ts.handler)
	t.Cleanup(srv.Close)
	return &liveServer{Server: srv, issuer: ts.issuer}
}

// liveServer is a testServer on a local port.
type liveServer struct {
	*httptest.Server
	issuer *authtest.Issuer
}

// otherReplica returns an app.Service on the same store, as another
// replica of the service would have: it does not wake this one's streams.
func otherReplica(ts *testServer) *app.Service {
	return app.NewService(ts.store, metrics.New(), func() time.Time { return now }, zerolog.Nop())
}

func TestStreamSendsStoredThenLiveNotifications(t *testing.T) {
	ts := newTestServer(t, func(d *httpapi.Deps) { d.PollInterval = time.Hour })
	srv := serve(t, ts)
	if got := ts.deliver(t, "trip-created", contracttest.Example(t, "trip-created")); got != "SUCCESS" {
		t.Fatalf("status %s, want SUCCESS", got)
	}

	s := openStream(t, srv, riderID, "")
	if diff := cmp.Diff([]sseBlock{tripReceivedEvent(tripID)}, s.events(t, 1)); diff != "" {
		t.Errorf("stored notifications mismatch (-want +got):\n%s", diff)
	}

	// Stored by this process: the stream is woken, it does not wait for a
	// poll (which the test put an hour away).
	if got := ts.deliver(t, "driver-assigned", contracttest.Example(t, "driver-assigned")); got != "SUCCESS" {
		t.Fatalf("status %s, want SUCCESS", got)
	}
	if diff := cmp.Diff([]sseBlock{driverAssignedEvent}, s.events(t, 1)); diff != "" {
		t.Errorf("live notification mismatch (-want +got):\n%s", diff)
	}
}

func TestStreamSeesNotificationsOfOtherReplicas(t *testing.T) {
	ts := newTestServer(t)
	srv := serve(t, ts)

	s := openStream(t, srv, riderID, "")
	if err := otherReplica(ts).TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]sseBlock{tripReceivedEvent(tripID)}, s.events(t, 1)); diff != "" {
		t.Errorf("notification mismatch (-want +got):\n%s", diff)
	}
}

func TestStreamResumesAfterLastEventID(t *testing.T) {
	ts := newTestServer(t)
	srv := serve(t, ts)
	for _, topic := range []string{"trip-created", "driver-assigned"} {
		if got := ts.deliver(t, topic, contracttest.Example(t, topic)); got != "SUCCESS" {
			t.Fatalf("%s: status %s, want SUCCESS", topic, got)
		}
	}
	if err := ts.svc.TripReceived(t.Context(), app.TripCreated{TripID: otherTripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		lastEventID string
		want        []sseBlock
	}{
		{lastEventID: tripID + ":trip_received", want: []sseBlock{driverAssignedEvent, tripReceivedEvent(otherTripID)}},
		{lastEventID: tripID + ":driver_assigned", want: []sseBlock{tripReceivedEvent(otherTripID)}},
		{lastEventID: "unknown", want: []sseBlock{tripReceivedEvent(tripID), driverAssignedEvent, tripReceivedEvent(otherTripID)}},
	}
	for _, tt := range tests {
		t.Run(tt.lastEventID, func(t *testing.T) {
			s := openStream(t, srv, riderID, tt.lastEventID)
			if diff := cmp.Diff(tt.want, s.events(t, len(tt.want))); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// A client that has everything gets only what comes next.
	s := openStream(t, srv, riderID, otherTripID+":trip_received")
	if err := ts.svc.NoDriver(t.Context(), app.DriverNotFound{TripID: otherTripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	got := s.events(t, 1)
	if diff := cmp.Diff(otherTripID+":no_driver", got[0].ID); diff != "" {
		t.Errorf("event id mismatch (-want +got):\n%s", diff)
	}
}

func TestStreamHeartbeat(t *testing.T) {
	ts := newTestServer(t, func(d *httpapi.Deps) { d.Heartbeat = 10 * time.Millisecond })
	srv := serve(t, ts)

	s := openStream(t, srv, riderID, "")
	b, ok := s.next(t)
	if !ok {
		t.Fatal("stream ended")
	}
	if diff := cmp.Diff(sseBlock{Comment: "heartbeat"}, b); diff != "" {
		t.Errorf("block mismatch (-want +got):\n%s", diff)
	}
}

func TestStreamEndsWhenShutdownBegins(t *testing.T) {
	ts := newTestServer(t)
	srv := serve(t, ts)
	if got := ts.deliver(t, "trip-created", contracttest.Example(t, "trip-created")); got != "SUCCESS" {
		t.Fatalf("status %s, want SUCCESS", got)
	}

	s := openStream(t, srv, riderID, "")
	s.events(t, 1)
	ts.readiness.Stop()
	for {
		if _, ok := s.next(t); !ok {
			return
		}
	}
}

func TestStreamOutlivesStoreFailures(t *testing.T) {
	ts := newTestServer(t)
	srv := serve(t, ts)

	s := openStream(t, srv, riderID, "")
	ts.store.fail(errors.New("state store down"))
	waitFor(t, "a failed poll to be logged", func() bool {
		return len(ts.logs.Lines(t, "notification stream cannot read history")) > 0
	})
	time.Sleep(100 * time.Millisecond) // a few more failed polls
	ts.store.fail(nil)

	if err := otherReplica(ts).TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]sseBlock{tripReceivedEvent(tripID)}, s.events(t, 1)); diff != "" {
		t.Errorf("notification mismatch (-want +got):\n%s", diff)
	}
	if got := len(ts.logs.Lines(t, "notification stream cannot read history")); got != 1 {
		t.Errorf("%d log lines for one run of failed polls, want 1", got)
	}
}

// waitFor polls cond until it holds, for at most 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
