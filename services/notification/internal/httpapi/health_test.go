package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/httpapi"
)

// readiness makes the server's readiness check return err.
func readiness(err error) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) {
		d.Ready = func(context.Context) error { return err }
	}
}

func TestHealthz(t *testing.T) {
	ts := newTestServer(t, readiness(errors.New("sidecar down")))
	resp := ts.do(t, http.MethodGet, "/healthz", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
	var got map[string]string
	decodeBody(t, resp, "application/json", &got)
	if diff := cmp.Diff(map[string]string{"status": "ok"}, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestReadyz(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		ts := newTestServer(t)
		resp := ts.do(t, http.MethodGet, "/readyz", nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d, want 200", resp.StatusCode)
		}
		var got map[string]string
		decodeBody(t, resp, "application/json", &got)
		if diff := cmp.Diff(map[string]string{"status": "ready"}, got); diff != "" {
			t.Errorf("body mismatch (-want +got):\n%s", diff)
		}
	})

	tests := []struct {
		name       string
		ready      error
		stopping   bool
		wantDetail string
	}{
		{name: "sidecar not reachable", ready: errors.New("sidecar health: connection refused"), wantDetail: "not ready: sidecar health: connection refused"},
		{name: "shutting down", stopping: true, wantDetail: "not ready: shutting down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, readiness(tt.ready))
			if tt.stopping {
				close(ts.stopping)
			}
			resp := ts.do(t, http.MethodGet, "/readyz", nil)
			var got problem
			decodeBody(t, resp, "application/problem+json", &got)
			want := problem{Type: "about:blank", Title: "Service Unavailable", Status: 503, Detail: tt.wantDetail}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problem mismatch (-want +got):\n%s", diff)
			}
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", resp.StatusCode)
			}
		})
	}
}
