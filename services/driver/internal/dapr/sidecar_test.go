package dapr_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/dapr/daprtest"
)

// storeName is the fake sidecar's state store, the service's default.
const storeName = "driver-store"

// options says how the service reaches fake, naming store as its state
// store.
func options(fake *daprtest.Sidecar, store string) dapr.SidecarOptions {
	return dapr.SidecarOptions{Host: "127.0.0.1", GRPCPort: fake.GRPCPort, HTTPPort: fake.HTTPPort, StateStore: store, APIToken: daprtest.APIToken}
}

// dial returns the service's connection to the sidecar at opts.
func dial(t *testing.T, opts dapr.SidecarOptions) *dapr.Sidecar {
	t.Helper()
	s, err := dapr.NewSidecar(opts)
	if err != nil {
		t.Fatalf("NewSidecar(%+v) error = %v", opts, err)
	}
	t.Cleanup(s.Close)
	return s
}

// connect starts a fake sidecar and returns the service's connection to it.
func connect(t *testing.T) (*dapr.Sidecar, *daprtest.Sidecar) {
	t.Helper()
	fake := daprtest.Start(t, storeName)
	return dial(t, options(fake, storeName)), fake
}

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
		name    string
		healthy bool
		store   string
		wantErr string
	}{
		{name: "sidecar and store answer", healthy: true, store: storeName},
		{name: "sidecar unhealthy", healthy: false, store: storeName, wantErr: "sidecar health: 500 Internal Server Error"},
		{name: "store missing", healthy: true, store: "no-such-store", wantErr: "state store no-such-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := daprtest.Start(t, storeName)
			fake.SetHealthy(tt.healthy)

			err := dial(t, options(fake, tt.store)).Ready(t.Context())

			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Ready() error = %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadyWithoutSidecar(t *testing.T) {
	sidecar := dial(t, dapr.SidecarOptions{Host: "127.0.0.1", GRPCPort: closedPort(t), HTTPPort: closedPort(t), StateStore: storeName})

	if err := sidecar.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), "sidecar health") {
		t.Errorf("Ready() error = %v, want a sidecar health failure", err)
	}
}

func TestWaitReadyWaitsForTheSidecar(t *testing.T) {
	sidecar, fake := connect(t)
	fake.SetHealthy(false)
	time.AfterFunc(300*time.Millisecond, func() { fake.SetHealthy(true) })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	if err := sidecar.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady() error = %v, want nil", err)
	}
}

func TestWaitReadyGivesUpAtItsDeadline(t *testing.T) {
	tests := []struct {
		name    string
		store   string
		lastErr string
	}{
		{name: "sidecar unhealthy", store: storeName, lastErr: "sidecar health: 500 Internal Server Error"},
		{name: "store missing", store: "no-such-store", lastErr: "state store no-such-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := daprtest.Start(t, storeName)
			fake.SetHealthy(tt.store != storeName)
			ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
			defer cancel()

			err := dial(t, options(fake, tt.store)).WaitReady(ctx)

			if ctx.Err() == nil {
				t.Errorf("WaitReady() returned %v before its context ended", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("WaitReady() error = %v, want it to wrap %v", err, context.DeadlineExceeded)
			}
			if err == nil || !strings.Contains(err.Error(), "last error: "+tt.lastErr) {
				t.Errorf("WaitReady() error = %v, want the last error %q in it", err, tt.lastErr)
			}
		})
	}
}
