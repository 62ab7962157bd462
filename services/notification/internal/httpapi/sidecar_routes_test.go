package httpapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ride-choreography/services/notification/internal/contracttest"
)

// Every route the sidecar calls refuses a request without its token, and
// a forged event or step tells the rider nothing.
func TestSidecarRoutesRefuseAnyoneElse(t *testing.T) {
	ts := newTestServer(t)
	example := contracttest.Example(t, "trip-created")
	routes := []string{"GET /dapr/subscribe", "POST /events/trip-created", "POST /events/driver-assigned", "POST /events/driver-not-found",
		"POST /events/dead-letters", "POST /steps/trip-received", "POST /steps/driver-assigned", "POST /steps/no-driver"}
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
	resp := ts.do(t, http.MethodGet, "/riders/rider-42/notifications", nil)
	var history struct{ Notifications []any }
	decodeBody(t, resp, "application/json", &history)
	if len(history.Notifications) != 0 {
		t.Errorf("rider-42 was told %v after forged calls, want nothing", history.Notifications)
	}
}
