package dapr

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ride-choreography/services/workflow/internal/dapr/daprtest"
)

// Every step carries the token the sidecar requires (DAPR_API_TOKEN), and
// every gRPC call to the sidecar (the workflow client and worker) too;
// with none configured, none is sent.
func TestCallsCarryTheSidecarsToken(t *testing.T) {
	for _, token := range []string{"dapr-token-0123456789", ""} {
		f := daprtest.Start(t, daprtest.DriverAssigned)
		port := 0
		fmt.Sscan(f.URL.Port(), &port)
		sidecar, err := NewSidecar(SidecarOptions{Host: f.URL.Hostname(), HTTPPort: port, GRPCPort: 1, StepTimeout: 2 * time.Second, APIToken: token})
		if err != nil {
			t.Fatal(err)
		}
		s := NewSteps(sidecar, "driver", "notification")
		if err := s.TripReceived(t.Context(), requested); err != nil {
			t.Fatal(err)
		}
		if got := f.Tokens(); len(got) != 1 || slices.ContainsFunc(got, func(g string) bool { return g != token }) {
			t.Errorf("APIToken %q: the step carried %q", token, got)
		}
		sidecar.Close()
	}
	md, err := tokenCredentials("dapr-token-0123456789").GetRequestMetadata(t.Context())
	if err != nil || md["dapr-api-token"] != "dapr-token-0123456789" {
		t.Errorf("gRPC metadata %v, %v; want dapr-api-token", md, err)
	}
}
