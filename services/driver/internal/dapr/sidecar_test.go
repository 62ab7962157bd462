package dapr_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/dapr/daprtest"
)

func TestSidecarReady(t *testing.T) {
	tests := []struct {
		name    string
		healthy bool
		store   string
		wantErr string
	}{
		{name: "sidecar and store answer", healthy: true, store: storeName},
		{name: "sidecar unhealthy", healthy: false, store: storeName, wantErr: "sidecar health"},
		{name: "store missing", healthy: true, store: "no-such-store", wantErr: "state store no-such-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := daprtest.Start(t, storeName)
			fake.SetHealthy(tt.healthy)
			sidecar, err := dapr.Connect(dapr.Address{Host: "127.0.0.1", GRPCPort: fake.GRPCPort, HTTPPort: fake.HTTPPort}, tt.store)
			if err != nil {
				t.Fatalf("Connect() error = %v", err)
			}
			defer sidecar.Close()

			err = sidecar.Ready(context.Background())

			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Ready() error = %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestSidecarReadyWithoutSidecar(t *testing.T) {
	sidecar, err := dapr.Connect(dapr.Address{Host: "127.0.0.1", GRPCPort: 1, HTTPPort: 1}, storeName)
	if err != nil {
		t.Fatalf("Connect() error = %v", err)
	}
	defer sidecar.Close()

	if err := sidecar.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "sidecar health") {
		t.Errorf("Ready() error = %v, want a sidecar health failure", err)
	}
}
