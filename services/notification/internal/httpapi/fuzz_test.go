package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// FuzzRiderID reads the notifications of any rider id, escaped in the
// URL: an id ValidateRiderID accepts reads as itself; any other is
// answered 400 with a problem, but for the empty id, which leaves no
// rider in the path: 404.
func FuzzRiderID(f *testing.F) {
	for _, id := range []string{
		"rider-42", "r", "Jana Nováková <jana@example.com>", strings.Repeat("ř", 128),
		strings.Repeat("r", 129), "rider\n42", "rider\x7f", "rider\xff",
	} {
		f.Add(id)
	}
	ts := newTestServer(f)
	f.Fuzz(func(t *testing.T, id string) {
		resp := ts.do(t, http.MethodGet, "/riders/"+url.PathEscape(id)+"/notifications", nil)
		if err := notification.ValidateRiderID(id); err != nil {
			want := http.StatusBadRequest
			if id == "" {
				want = http.StatusNotFound
			}
			var got problem
			decodeBody(t, resp, "application/problem+json", &got)
			if resp.StatusCode != want || got.Status != want {
				t.Fatalf("rider id %q (%v): status %d, problem %+v; want %d", id, err, resp.StatusCode, got, want)
			}
			return
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("rider id %q: status %d, want 200", id, resp.StatusCode)
		}
		var got struct{ RiderID string }
		decodeBody(t, resp, "application/json", &got)
		if got.RiderID != id {
			t.Fatalf("rider id %q read as %q", id, got.RiderID)
		}
	})
}
