package httpapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ride-choreography/services/driver/internal/contracttest"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// errInternal is what a dependency's error looks like: the gRPC status
// of a sidecar call, with an address and Go's words.
var errInternal = errors.New(`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.7:50001: connect: connection refused"`)

// With the state store failing, every route that reads it answers a
// problem in the service's own words, the event delivery a bare RETRY,
// and the error's text shows only in the log.
func TestNoInternalErrorTextInAnswers(t *testing.T) {
	var tripCreated struct{ Data json.RawMessage }
	if err := json.Unmarshal(contracttest.Example(t, "trip-created"), &tripCreated); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, body string
		wantStatus         int
	}{
		{http.MethodGet, "/drivers", "", http.StatusInternalServerError},
		{http.MethodGet, "/dead-letters", "", http.StatusInternalServerError},
		{http.MethodPost, "/steps/assign-driver", string(tripCreated.Data), http.StatusServiceUnavailable},
		{http.MethodPost, "/events/trip-created", string(contracttest.Example(t, "trip-created")), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			s := newTestServer(time.Now(), driver.DefaultPool()...)
			s.store.Err = errInternal

			resp, body := s.do(t, tt.method, tt.path, tt.body)

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d %s, want %d", resp.StatusCode, body, tt.wantStatus)
			}
			for _, marker := range []string{"rpc error", "10.0.0.7", "dial tcp", "transport", "connection refused"} {
				if strings.Contains(body, marker) {
					t.Errorf("answer %s shows %q of the store's error", body, marker)
				}
			}
			if !strings.Contains(s.logs.String(), "10.0.0.7") {
				t.Errorf("the log does not keep the store's error:\n%s", s.logs)
			}
		})
	}
}
