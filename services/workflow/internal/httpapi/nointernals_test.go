package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// errInternal is what a dependency's error looks like: the gRPC status
// of a sidecar call, with an address and Go's words.
var errInternal = errors.New(`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.7:50001: connect: connection refused"`)

// internalMarkers are pieces of errInternal, or of a failed read, that
// no answer may show.
var internalMarkers = []string{"rpc error", "10.0.0.7", "dial tcp", "transport", "connection refused", "i/o timeout", "127.0.0.1"}

// unreadable is a request body whose reading fails, as when the client is
// cut off or too slow for the server's ReadTimeout.
type unreadable struct{}

func (unreadable) Read([]byte) (int, error) {
	return 0, errors.New("read tcp 127.0.0.1:8080->127.0.0.1:40112: i/o timeout")
}

// An internal failure (a dependency's error, a body that cannot be read)
// is answered with a problem in the service's own words: its status, and
// no text of the error, which is for the log.
func TestNoInternalErrorTextInAnswers(t *testing.T) {
	unreadableOrder := httptest.NewRequest(http.MethodPost, "/trips", unreadable{})
	unreadableOrder.Header.Set("Content-Type", "application/json")
	tests := []struct {
		name       string
		trips      *fakeTrips
		ready      error
		req        *http.Request
		wantStatus int
	}{
		{name: "order, the store failing", trips: &fakeTrips{orderErr: errInternal}, req: httptest.NewRequest(http.MethodPost, "/trips", strings.NewReader(validOrder)), wantStatus: http.StatusServiceUnavailable},
		{name: "order, the body unreadable", trips: &fakeTrips{}, req: unreadableOrder, wantStatus: http.StatusBadRequest},
		{name: "trip, the store failing", trips: &fakeTrips{getErr: errInternal}, req: httptest.NewRequest(http.MethodGet, "/trips/"+tripID, nil), wantStatus: http.StatusServiceUnavailable},
		{name: "readiness, the sidecar failing", trips: &fakeTrips{}, ready: errInternal, req: httptest.NewRequest(http.MethodGet, "/readyz", nil), wantStatus: http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.Method == http.MethodPost && tt.req.Header.Get("Content-Type") == "" {
				tt.req.Header.Set("Content-Type", "application/json")
			}
			tt.req.Header.Set("Authorization", "Bearer rider-42") // fakeAuth's rider-42
			rec := httptest.NewRecorder()
			newTestServer(tt.trips, func(context.Context) error { return tt.ready }).ServeHTTP(rec, tt.req)

			body := rec.Body.String()
			if got := decodeProblem(t, rec); got.Status != tt.wantStatus || got.Detail == "" {
				t.Errorf("answer %d %s, want a %d problem with a detail", rec.Code, body, tt.wantStatus)
			}
			for _, marker := range internalMarkers {
				if strings.Contains(body, marker) {
					t.Errorf("answer %s shows %q of the internal error", body, marker)
				}
			}
		})
	}
}
