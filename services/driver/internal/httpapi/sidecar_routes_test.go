package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ride-choreography/services/driver/internal/contracttest"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// Every route the sidecar calls refuses a request without its token, and
// a forged trip-created or assign-driver step takes no driver and
// publishes nothing.
func TestSidecarRoutesRefuseAnyoneElse(t *testing.T) {
	s := newTestServer(requestedAt, driver.DefaultPool()...)
	example := string(contracttest.Example(t, "trip-created"))
	for _, route := range []string{"GET /dapr/subscribe", "POST /events/trip-created", "POST /events/dead-letters", "POST /steps/assign-driver"} {
		for _, token := range []string{"", "forged-token-0123456789"} {
			method, path, _ := strings.Cut(route, " ")
			req := httptest.NewRequest(method, path, strings.NewReader(example))
			req.Header.Set("Content-Type", "application/cloudevents+json")
			if token != "" {
				req.Header.Set("dapr-api-token", token)
			}
			rec := httptest.NewRecorder()
			s.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s with token %q: %d, want 401", route, token, rec.Code)
			}
		}
	}
	if got := s.publisher.Published(); len(got) != 0 {
		t.Errorf("published %+v after forged calls, want nothing", got)
	}
	resp, body := s.do(t, http.MethodGet, "/drivers", "")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `"on_trip"`) {
		t.Errorf("GET /drivers = %d %s, want every driver free", resp.StatusCode, body)
	}
}
