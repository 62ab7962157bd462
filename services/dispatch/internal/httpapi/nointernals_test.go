package httpapi_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ride-choreography/services/dispatch/internal/contracttest"
)

// errInternal is what a dependency's error looks like: the gRPC status
// of a sidecar call, with an address and Go's words.
var errInternal = errors.New(`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.7:50001: connect: connection refused"`)

// With the state store failing, every route that reads or writes it
// answers in the service's own words (a problem, or a bare RETRY to an
// event delivery), and the error's text shows only in the log.
func TestNoInternalErrorTextInAnswers(t *testing.T) {
	tests := []struct {
		method, path string
		body         []byte
		wantStatus   int
	}{
		{http.MethodGet, "/board", nil, http.StatusServiceUnavailable},
		{http.MethodGet, "/board/stream", nil, http.StatusServiceUnavailable},
		{http.MethodGet, "/dead-letters", nil, http.StatusServiceUnavailable},
		{http.MethodPost, "/events/trip-created", contracttest.Example(t, "trip-created"), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			ts := newTestServer(t)
			ts.store.fail(errInternal)
			ts.deadLetterStore.fail(errInternal)

			resp := ts.do(t, tt.method, tt.path, tt.body)
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d %s, want %d", resp.StatusCode, body, tt.wantStatus)
			}
			for _, marker := range []string{"rpc error", "10.0.0.7", "dial tcp", "transport", "connection refused"} {
				if strings.Contains(string(body), marker) {
					t.Errorf("answer %s shows %q of the store's error", body, marker)
				}
			}
			if !strings.Contains(ts.logs.String(), "10.0.0.7") {
				t.Errorf("the log does not keep the store's error:\n%s", ts.logs)
			}
		})
	}
}
