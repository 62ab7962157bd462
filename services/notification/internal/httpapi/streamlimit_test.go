package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/httpapi"
)

// getStream GETs the rider's notification stream on srv, with the rider's
// token, and returns the response, whatever it is, with the function that
// closes it.
func getStream(t *testing.T, srv *liveServer, riderID string) (*http.Response, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/riders/"+riderID+"/notifications/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", srv.issuer.Bearer(t, riderID))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	closeIt := func() {
		cancel()
		resp.Body.Close()
	}
	t.Cleanup(closeIt)
	return resp, closeIt
}

// A rider may hold MaxStreamsPerRider streams at once; one more is a 429
// problem with Retry-After, other riders are not affected, and a slot is
// free again once a stream ends, also one that failed at its start.
func TestStreamsPerRiderAreBounded(t *testing.T) {
	ts := newTestServer(t, func(d *httpapi.Deps) { d.MaxStreamsPerRider = 2 })
	srv := serve(t, ts)

	ts.store.fail(errors.New("state store down"))
	for range 3 {
		if resp, _ := getStream(t, srv, riderID); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("stream with the store down: status %d, want 503", resp.StatusCode)
		}
	}
	ts.store.fail(nil)

	var closers []func()
	for i := range 2 {
		resp, closeIt := getStream(t, srv, riderID)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d of 2: status %d, want 200 (a failed start must give its slot back)", i+1, resp.StatusCode)
		}
		closers = append(closers, closeIt)
	}

	resp, _ := getStream(t, srv, riderID)
	var got problem
	decodeBody(t, resp, "application/problem+json", &got)
	want := problem{
		Type: "about:blank", Title: "Too Many Requests", Status: 429,
		Detail:   "this rider has as many notification streams open as allowed; close one, or retry later",
		Instance: "/riders/" + riderID + "/notifications/stream",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("third stream: problem mismatch (-want +got):\n%s", diff)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("third stream: status %d, Retry-After %q; want 429 and 5", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if lines := ts.logs.Lines(t, "request failed"); len(lines) == 0 || lines[len(lines)-1]["level"] != "info" || lines[len(lines)-1]["status"] != 429.0 {
		t.Errorf("request failed logged %v, want the 429 last, at level info (the client's doing)", lines)
	}

	if resp, _ := getStream(t, srv, "rider-43"); resp.StatusCode != http.StatusOK {
		t.Errorf("another rider's stream: status %d, want 200", resp.StatusCode)
	}

	closers[0]()
	waitFor(t, "the closed stream's slot to be free", func() bool {
		resp, closeIt := getStream(t, srv, riderID)
		if resp.StatusCode == http.StatusOK {
			return true
		}
		closeIt()
		return false
	})
}
