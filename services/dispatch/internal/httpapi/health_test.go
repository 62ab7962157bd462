package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/dispatch/internal/httpapi"
)

// readiness makes the server's readiness check return err, once started.
func readiness(err error) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) {
		d.Readiness = started(func(context.Context) error { return err })
	}
}

// /healthz answers ok even while the sidecar is down; /readyz answers
// ready once the service is.
func TestHealthzAndReadyzAnswerOK(t *testing.T) {
	tests := []struct {
		path string
		deps func(*httpapi.Deps)
		want string
	}{
		{path: "/healthz", deps: readiness(errors.New("sidecar down")), want: "ok"},
		{path: "/readyz", deps: readiness(nil), want: "ready"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			ts := newTestServer(t, tt.deps)
			resp := ts.do(t, http.MethodGet, tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
			var got map[string]string
			decodeBody(t, resp, "application/json", &got)
			if diff := cmp.Diff(map[string]string{"status": tt.want}, got); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadyzWhenNotReady(t *testing.T) {
	tests := []struct {
		name       string
		deps       func(*httpapi.Deps)
		stop       bool
		wantDetail string
		wantLogged string
	}{
		{
			name:       "starting",
			deps:       func(d *httpapi.Deps) { d.Readiness = httpapi.NewReadiness(func(context.Context) error { return nil }) },
			wantDetail: "not ready: starting",
		},
		{
			name:       "sidecar not reachable",
			deps:       readiness(errors.New(`sidecar health: Get "http://127.0.0.1:3500/v1.0/healthz/outbound": dial tcp 127.0.0.1:3500: connect: connection refused`)),
			wantDetail: "not ready: the sidecar or the state store does not answer",
			wantLogged: "dial tcp 127.0.0.1:3500: connect: connection refused",
		},
		{name: "shutting down", deps: readiness(nil), stop: true, wantDetail: "not ready: shutting down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.deps)
			if tt.stop {
				ts.readiness.Stop()
			}
			resp := ts.do(t, http.MethodGet, "/readyz", nil)
			var got problem
			decodeBody(t, resp, "application/problem+json", &got)
			want := problem{Type: "about:blank", Title: "Service Unavailable", Status: 503, Detail: tt.wantDetail, Instance: "/readyz"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problem mismatch (-want +got):\n%s", diff)
			}
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", resp.StatusCode)
			}
			// The check's error, kept out of the answer, is in the log.
			if lines := ts.logs.Lines(t, "request failed"); len(lines) != 1 || !strings.Contains(fmt.Sprint(lines[0]["error"]), tt.wantLogged) {
				t.Errorf("logged %v, want one line with the error, %q", lines, tt.wantLogged)
			}
		})
	}
}

// Stop closes Stopping, once however often it is called, and readiness
// never comes back.
func TestReadinessStopping(t *testing.T) {
	r := httpapi.NewReadiness(func(context.Context) error { return nil })
	select {
	case <-r.Stopping():
		t.Fatal("Stopping closed before Stop")
	default:
	}
	r.Start()
	r.Stop()
	r.Stop()
	r.Start()
	select {
	case <-r.Stopping():
	default:
		t.Error("Stopping still open after Stop")
	}
	if err := r.Ready(t.Context()); err == nil {
		t.Error("Ready() = nil after Stop and Start, want not ready")
	}
}
