package httpapi_test

import (
	"net/http"
	"testing"
)

// Every route that GET /dapr/subscribe names is served: the sidecar gets
// an answer of the protocol (here DROP, for a body that is no event), not
// a 404.
func TestSubscriptionRoutesAreServed(t *testing.T) {
	ts := newTestServer(t)
	var subs []struct{ Topic, Route string }
	decodeBody(t, ts.do(t, http.MethodGet, "/dapr/subscribe", nil), "application/json", &subs)
	if len(subs) != 4 {
		t.Fatalf("%d subscriptions, want 4: %+v", len(subs), subs)
	}
	for _, sub := range subs {
		t.Run(sub.Topic, func(t *testing.T) {
			resp := ts.do(t, http.MethodPost, sub.Route, []byte(`not an event`))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST %s: HTTP status %d, want 200", sub.Route, resp.StatusCode)
			}
			var got struct{ Status string }
			decodeBody(t, resp, "application/json", &got)
			want := "DROP"
			if sub.Route == "/events/dead-letters" {
				want = "SUCCESS" // a dead letter is kept, whatever it holds
			}
			if got.Status != want {
				t.Errorf("POST %s: status %s, want %s", sub.Route, got.Status, want)
			}
		})
	}
}
