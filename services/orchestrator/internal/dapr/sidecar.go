// Package dapr is the orchestrator's edge to its Dapr sidecar: the
// sidecar's readiness, and the other services' steps, invoked through it
// (Dapr service invocation over the sidecar's HTTP API).
package dapr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// SidecarOptions says where the sidecar is.
type SidecarOptions struct {
	Host     string
	HTTPPort int
	// StepTimeout bounds each call of a step.
	StepTimeout time.Duration
	// APIToken is the token the sidecar requires (DAPR_API_TOKEN), sent
	// with every call; "" sends none.
	APIToken string
}

// Sidecar is a connection to the orchestrator's Dapr sidecar.
type Sidecar struct {
	baseURL    string
	httpClient *http.Client
	stepClient *http.Client
}

// NewSidecar prepares the connection to the sidecar without waiting for
// it; WaitReady waits.
func NewSidecar(opts SidecarOptions) *Sidecar {
	return &Sidecar{
		baseURL:    "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(opts.HTTPPort)),
		httpClient: &http.Client{Timeout: 2 * time.Second},
		// Each invocation is a client span, and carries the trace context
		// to the sidecar, which passes it on to the called app.
		stepClient: &http.Client{Timeout: opts.StepTimeout, Transport: withToken(opts.APIToken, otelhttp.NewTransport(http.DefaultTransport))},
	}
}

// WaitReady returns once the sidecar answers, or with an error when ctx
// ends first.
func (s *Sidecar) WaitReady(ctx context.Context) error {
	for {
		err := s.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for sidecar: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Ready reports whether the sidecar is ready for outbound calls.
func (s *Sidecar) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+"/v1.0/healthz/outbound", nil)
	if err != nil {
		return fmt.Errorf("sidecar health request: %w", err)
	}
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("sidecar health: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sidecar health: %s", resp.Status)
	}
	return nil
}
