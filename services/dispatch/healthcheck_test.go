package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHealthcheckAnswersForTheService(t *testing.T) {
	answering := func(status int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	}
	tests := []struct {
		name       string
		env        map[string]string
		wantCode   int
		wantStderr string
	}{
		{"healthy", map[string]string{"APP_HOST": "127.0.0.1", "APP_PORT": answering(http.StatusOK)}, 0, ""},
		{"listening on every address, probed on loopback", map[string]string{"APP_HOST": "0.0.0.0", "APP_PORT": answering(http.StatusOK)}, 0, ""},
		{"unhealthy", map[string]string{"APP_PORT": answering(http.StatusServiceUnavailable)}, 1, "503 Service Unavailable"},
		{"not listening", map[string]string{"APP_PORT": freePort(t)}, 1, "connection refused"},
		{"bad configuration", map[string]string{"APP_PORT": "eighty"}, 1, "APP_PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			code := healthcheck(tokenEnv(tt.env), &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("healthcheck = %d, stderr %q; want %d, stderr containing %q", code, stderr.String(), tt.wantCode, tt.wantStderr)
			}
		})
	}
}

// The probe must pass against the service's own /healthz, which answers
// before the sidecar is there.
func TestHealthcheckPassesForTheRunningService(t *testing.T) {
	env := map[string]string{
		"APP_HOST":       "0.0.0.0",
		"APP_PORT":       freePort(t),
		"DAPR_GRPC_PORT": freePort(t),
		"DAPR_HTTP_PORT": freePort(t),
		"SIDECAR_WAIT":   "30s",
	}
	getenv := tokenEnv(env)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, getenv, io.Discard, io.Discard) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("run did not return after cancel")
		}
	}()

	var stderr strings.Builder
	for deadline := time.Now().Add(10 * time.Second); ; {
		stderr.Reset()
		if healthcheck(getenv, &stderr) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck never passed; last: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
