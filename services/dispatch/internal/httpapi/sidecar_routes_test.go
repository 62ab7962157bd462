package httpapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ride-choreography/services/dispatch/internal/contracttest"
)

// Every route the sidecar calls refuses a request without its token, and
// a forged event changes nothing on the board.
func TestSidecarRoutesRefuseAnyoneElse(t *testing.T) {
	ts := newTestServer(t)
	example := contracttest.Example(t, "trip-created")
	routes := []string{"GET /dapr/subscribe", "POST /events/trip-created", "POST /events/driver-assigned", "POST /events/driver-not-found",
		"POST /events/dead-letters"}
	for _, route := range routes {
		for _, token := range []string{"", "forged-token-0123456789"} {
			method, path, _ := strings.Cut(route, " ")
			req := httptest.NewRequest(method, path, bytes.NewReader(example))
			req.Header.Set("Content-Type", "application/cloudevents+json")
			if token != "" {
				req.Header.Set("dapr-api-token", token)
			}
			rec := httptest.NewRecorder()
			ts.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s with token %q: %d, want 401", route, token, rec.Code)
			}
		}
	}
	var board struct{ Waiting, Feed []any }
	decodeBody(t, ts.do(t, http.MethodGet, "/board", nil), "application/json", &board)
	if len(board.Waiting) != 0 || len(board.Feed) != 0 {
		t.Errorf("the board shows %+v after forged calls, want nothing", board)
	}
}
