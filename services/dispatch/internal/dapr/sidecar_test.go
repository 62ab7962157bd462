package dapr_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/dispatch/internal/dapr/daprtest"
)

// closedPort returns a port on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestReady(t *testing.T) {
	tests := []struct {
		name      string
		health    int
		stateErr  error
		store     string // the store the service names; the fake's when empty
		wantErr   string
		wantCode  codes.Code
		wantReads []string
	}{
		{
			name:      "healthy",
			health:    http.StatusNoContent,
			wantReads: []string{"readyz-probe"},
		},
		{
			name:    "health endpoint answers 500",
			health:  http.StatusInternalServerError,
			wantErr: "sidecar health: 500 Internal Server Error",
		},
		{
			name:    "health endpoint answers 503",
			health:  http.StatusServiceUnavailable,
			wantErr: "sidecar health: 503 Service Unavailable",
		},
		{
			name:      "state store failing",
			health:    http.StatusNoContent,
			stateErr:  status.Error(codes.Internal, "redis: connection refused"),
			wantErr:   "state store dispatch-store:",
			wantCode:  codes.Internal,
			wantReads: []string{"readyz-probe"},
		},
		{
			name:      "state store missing",
			health:    http.StatusNoContent,
			store:     "other-store",
			wantErr:   "state store other-store:",
			wantCode:  codes.InvalidArgument,
			wantReads: []string{"readyz-probe"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, opts := daprtest.Start(t)
			fake.SetHealth(tt.health)
			fake.FailState(tt.stateErr)
			if tt.store != "" {
				opts.StateStore = tt.store
			}

			err := dial(t, opts).Ready(t.Context())

			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Ready() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Ready() = %v, want an error containing %q", err, tt.wantErr)
			case tt.wantCode != codes.OK && status.Code(err) != tt.wantCode:
				t.Errorf("Ready() = %v, want it to wrap code %v", err, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantReads, fake.Reads()); diff != "" {
				t.Errorf("keys read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadyWithoutSidecar(t *testing.T) {
	_, opts := daprtest.Start(t)
	opts.HTTPPort = closedPort(t)

	err := dial(t, opts).Ready(t.Context())
	if err == nil || !strings.Contains(err.Error(), "sidecar health") {
		t.Errorf("Ready() = %v, want a sidecar health error", err)
	}
}

func TestWaitReadyWaitsForTheSidecar(t *testing.T) {
	fake, opts := daprtest.Start(t)
	fake.SetHealth(http.StatusInternalServerError)
	fake.FailState(status.Error(codes.Unavailable, "redis starting"))
	time.AfterFunc(300*time.Millisecond, func() { fake.SetHealth(http.StatusNoContent) })
	sidecar := dial(t, opts)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	done := make(chan error, 1)
	go func() { done <- sidecar.WaitReady(ctx) }()
	// Two probes of the store: WaitReady went on after a failed one.
	waitFor(t, func() bool { return len(fake.Reads()) >= 2 })
	fake.FailState(nil)

	if err := <-done; err != nil {
		t.Fatalf("WaitReady() = %v, want nil", err)
	}
	for _, key := range fake.Reads() {
		if key != "readyz-probe" {
			t.Errorf("WaitReady read %q, want only readyz-probe", key)
		}
	}
}

func TestWaitReadyGivesUpAtItsDeadline(t *testing.T) {
	tests := []struct {
		name     string
		setUp    func(*daprtest.Sidecar)
		lastErr  string
		wantCode codes.Code
	}{
		{
			name:    "health endpoint answers 500",
			setUp:   func(f *daprtest.Sidecar) { f.SetHealth(http.StatusInternalServerError) },
			lastErr: "sidecar health: 500 Internal Server Error",
		},
		{
			name:     "state store failing",
			setUp:    func(f *daprtest.Sidecar) { f.FailState(status.Error(codes.Unavailable, "redis down")) },
			lastErr:  "state store dispatch-store:",
			wantCode: codes.Unavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, opts := daprtest.Start(t)
			tt.setUp(fake)
			ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
			defer cancel()

			err := dial(t, opts).WaitReady(ctx)

			if ctx.Err() == nil {
				t.Errorf("WaitReady() returned %v before its context ended", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("WaitReady() = %v, want it to wrap %v", err, context.DeadlineExceeded)
			}
			if err == nil || !strings.Contains(err.Error(), "last error: "+tt.lastErr) {
				t.Errorf("WaitReady() = %v, want the last error %q in it", err, tt.lastErr)
			}
			if tt.wantCode != codes.OK && status.Code(err) != tt.wantCode {
				t.Errorf("WaitReady() = %v, want it to wrap code %v", err, tt.wantCode)
			}
		})
	}
}

// waitFor waits until cond holds; the test's deadline bounds the wait.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatal("gave up waiting")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
