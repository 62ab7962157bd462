package dapr_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/notification/internal/dapr/daprtest"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		health  int
		fail    error
		wantErr string
	}{
		{name: "healthy", health: http.StatusNoContent},
		{name: "sidecar unhealthy", health: http.StatusInternalServerError, wantErr: "500 Internal Server Error"},
		{
			name:    "state store failing",
			health:  http.StatusNoContent,
			fail:    status.Error(codes.Internal, "redis down"),
			wantErr: "state store notification-store",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, cfg := daprtest.Start(t)
			fake.SetHealth(tt.health)
			fake.FailWith(tt.fail)
			err := dial(t, cfg).Check(t.Context())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Check() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Check() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckWithoutSidecar(t *testing.T) {
	_, cfg := daprtest.Start(t)
	cfg.HTTPPort = 1 // nothing listens there
	if err := dial(t, cfg).Check(t.Context()); err == nil {
		t.Error("Check() = nil without a sidecar")
	}
}

func TestWaitUntilTheSidecarIsReady(t *testing.T) {
	fake, cfg := daprtest.Start(t)
	fake.SetHealth(http.StatusServiceUnavailable)
	time.AfterFunc(time.Second, func() {
		fake.SetHealth(http.StatusNoContent)
	})

	if err := dial(t, cfg).Wait(t.Context(), 10*time.Second); err != nil {
		t.Errorf("Wait() = %v, want nil", err)
	}
}

func TestWaitGivesUp(t *testing.T) {
	fake, cfg := daprtest.Start(t)
	fake.SetHealth(http.StatusServiceUnavailable)

	err := dial(t, cfg).Wait(t.Context(), 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "sidecar not ready within 300ms") {
		t.Errorf("Wait() = %v, want sidecar not ready within 300ms", err)
	}
}
