package dapr_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ride-choreography/services/orchestrator/internal/dapr"
	"github.com/ride-choreography/services/orchestrator/internal/dapr/daprtest"
)

// Every step carries the token the sidecar requires (DAPR_API_TOKEN); with
// none configured, none is sent.
func TestStepsCarryTheSidecarsToken(t *testing.T) {
	for _, token := range []string{"dapr-token-0123456789", ""} {
		f := daprtest.Start(t, daprtest.DriverAssigned)
		port := 0
		fmt.Sscan(f.URL.Port(), &port)
		s := dapr.NewSteps(dapr.NewSidecar(dapr.SidecarOptions{Host: f.URL.Hostname(), HTTPPort: port, StepTimeout: 2 * time.Second, APIToken: token}), "driver", "notification")
		if err := s.TripReceived(t.Context(), requested); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AssignDriver(t.Context(), requested); err != nil {
			t.Fatal(err)
		}
		if got := f.Tokens(); len(got) != 2 || slices.ContainsFunc(got, func(g string) bool { return g != token }) {
			t.Errorf("APIToken %q: the steps carried %q", token, got)
		}
	}
}
